"""Shared fixtures: every test that touches state gets its own data folder and landing zone.

The project's paths are read from the environment at call time, so pointing WORKFORCE_DATA_DIR,
WORKFORCE_RAW_DIR and DAGSTER_HOME at temporary folders isolates a test completely.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from orchestration.lib import paths

# A fixed key, so pseudonyms are comparable across the temporary warehouses of one test run.
TEST_PSEUDONYM_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# The modules that take a worker longest (each over a minute, longest first; from `pytest
# --durations=0` in CI). `make test` hands each worker whole modules in collection order: these go
# first, so the short ones fill in at the end and neither worker finishes alone.
LONGEST_FIRST = (
    "tests/postgres/test_publish_on_server.py",
    "tests/integration/test_pipeline_with_returns.py",
    "tests/integration/test_publish_from_published_figures.py",
    "tests/postgres/test_build_on_server.py",
    "tests/integration/test_bench.py",
    "tests/integration/test_landing_zone.py",
    "tests/portal/test_access.py",
    "tests/integration/test_run_writes_only_data.py",
    "tests/postgres/test_row_security.py",
    "tests/integration/test_councils_published_as_x.py",
    "tests/integration/test_reconciliation.py",
    "tests/portal/test_browser.py",
)


def _collection_rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_collection_rank)  # stable: the other modules keep their order


@pytest.fixture(scope="session", autouse=True)
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tests never write into the checkout: state a test does not put in its own `workspace` goes
    to a data folder for the session, which the pytest-xdist workers share.

    `@dbt_assets` needs the parsed dbt project when the definitions are imported, so they are
    imported here, once per worker, with that folder current: the first worker to get there parses
    the project (`dbt_project.prepare`, under a file lock), the other waits and reads it.
    """
    base = tmp_path_factory.getbasetemp()
    data = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "data"
    os.environ["WORKFORCE_DATA_DIR"] = str(data)
    import orchestration.definitions  # noqa: F401

    return data


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data folder and a landing zone holding the committed DfE and Ofsted files."""
    data, raw = tmp_path / "data", tmp_path / "raw"
    for folder in ("dfe", "ofsted"):
        shutil.copytree(paths.PROJECT_ROOT / "raw" / folder, raw / folder)
    (raw / "returns").mkdir(parents=True)
    monkeypatch.setenv("WORKFORCE_DATA_DIR", str(data))
    monkeypatch.setenv("WORKFORCE_RAW_DIR", str(raw))
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    monkeypatch.setenv("WORKFORCE_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)
    return tmp_path
