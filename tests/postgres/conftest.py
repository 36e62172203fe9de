"""The shared-deployment tests: a throwaway PostgreSQL 15 server per test worker, and one published
warehouse (the embedded default) that every module copies.

The tests do not skip without PostgreSQL: when its server programs are missing they fail, saying
what to install. The scenario: councils 301, 316, 203 and 330 sent returns for 2023 and 2024;
the portal tests' agreement (tests/portal/agreement.toml) says who shares provisional figures.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from filelock import FileLock

from orchestration.lib import paths
from orchestration.lib.server.throwaway import ServerUnavailable, ThrowawayServer, throwaway_server
from tests.conftest import TEST_PSEUDONYM_KEY
from tests.portal.conftest import AGREEMENT

RETURN_COUNCILS = ["301", "316", "203", "330"]
YEARS = [2023, 2024]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ThrowawayServer]:
    try:
        server = throwaway_server()
        started = server.__enter__()
    except ServerUnavailable as exc:
        pytest.fail(f"The PostgreSQL server tests need PostgreSQL 15: {exc}", pytrace=False)
    try:
        yield started
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def pg_database(pg_server: ThrowawayServer, request: pytest.FixtureRequest) -> str:
    """A new, empty database for one test module; the superuser's URL to it."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    with psycopg.connect(pg_server.url, autocommit=True) as con:
        con.execute(f'drop database if exists "{name}"')
        con.execute(f'create database "{name}"')
    return pg_server.url_for("workforce", name)


def environment(root: Path) -> dict[str, str]:
    return {
        "WORKFORCE_DATA_DIR": str(root / "data"),
        "WORKFORCE_RAW_DIR": str(root / "raw"),
        "DAGSTER_HOME": str(root / "data" / "dagster_home"),
        "WORKFORCE_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
        "WORKFORCE_PORTAL_AGREEMENT": str(AGREEMENT),
    }


def _build(root: Path) -> None:
    from synthetic import generate_returns
    from tests.integration.helpers import run_pipeline

    for folder in ("dfe", "ofsted"):
        shutil.copytree(paths.PROJECT_ROOT / "raw" / folder, root / "raw" / folder)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment(root).items():
            patch.setenv(name, value)
        patch.delenv("WORKFORCE_WAREHOUSE_URL", raising=False)
        generate_returns(out_dir=root / "raw" / "returns", seed=7, years=YEARS, la_codes=RETURN_COUNCILS)
        report = run_pipeline()
        assert report.succeeded, report.describe()


@pytest.fixture(scope="session")
def embedded_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario published on the embedded default, built once and shared by every worker."""
    root = tmp_path_factory.getbasetemp()
    shared = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "server_base"
    with FileLock(str(shared) + ".lock"):
        if not (shared / "ready").exists():
            shutil.rmtree(shared, ignore_errors=True)
            _build(shared)
            (shared / "ready").touch()
    return shared


@pytest.fixture(scope="module")
def embedded_root(embedded_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private copy of the scenario for one test module, with the environment pointing at it."""
    root = tmp_path_factory.mktemp("server")
    shutil.copytree(embedded_base / "data", root / "data", symlinks=True)
    shutil.copytree(embedded_base / "raw", root / "raw", symlinks=True)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment(root).items():
            patch.setenv(name, value)
        yield root
