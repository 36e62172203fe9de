"""A run writes nothing outside its data folder: not into the checkout (dbt's target/ and logs/
included) and not into the system temp folder (Great Expectations' Data Docs, Dagster's storage)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.lib import paths
from tests.conftest import TEST_PSEUDONYM_KEY
from tests.integration.helpers import add_release, release_row

FIXTURES = paths.PROJECT_ROOT / "tests" / "fixtures" / "returns"
# Python's bytecode caches and the tools' own caches are not the pipeline's writes.
NOT_OURS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under root with its size and modification time."""
    found = {}
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f not in NOT_OURS]
        for name in [*folders, *files]:
            path = Path(folder) / name
            stat = path.lstat()
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def _run(environment: dict[str, str]) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        env=environment,
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return run.stdout + run.stderr


def test_runs_write_only_into_their_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, data, temp = tmp_path / "raw", tmp_path / "data", tmp_path / "tmp"
    for folder in ("dfe", "ofsted"):
        shutil.copytree(paths.PROJECT_ROOT / "raw" / folder, raw / folder)
    # A clean return, and one in the wrong council's folder (quarantined, with its report).
    for source, folder in (("valid_2022.xml", "301/2022"), ("social_work_workforce_2022_sample.xml", "302/2022")):
        (raw / "returns" / folder).mkdir(parents=True)
        shutil.copy(FIXTURES / source, raw / "returns" / folder / source)
    temp.mkdir()
    environment = {
        **os.environ,
        "WORKFORCE_DATA_DIR": str(data),
        "WORKFORCE_RAW_DIR": str(raw),
        "DAGSTER_HOME": str(data / "dagster_home"),
        "WORKFORCE_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
        "TMPDIR": str(temp),
    }
    checkout = _snapshot(paths.PROJECT_ROOT)

    published = _run(environment)
    # A DfE release with a negative count: a blocking check refuses it, and nothing is published.
    monkeypatch.setenv("WORKFORCE_RAW_DIR", str(raw))
    add_release([release_row(2025, "301", "Barking and Dagenham", "-5")])
    refused = _run(environment)

    assert "Published: version" in published, published[-3000:]
    assert "Not published" in refused, refused[-3000:]
    after = _snapshot(paths.PROJECT_ROOT)
    changed = {path for path in checkout.keys() | after.keys() if checkout.get(path) != after.get(path)}
    assert not changed, f"the runs wrote into the checkout: {sorted(changed)[:20]}"
    assert not list(temp.iterdir()), f"the runs wrote into the temp folder: {sorted(temp.rglob('*'))[:20]}"
    # What they did write is where it belongs.
    assert (data / "dbt" / "logs" / "dbt.log").exists()
    assert list((data / "dbt" / "manifests" / "local").glob("*/manifest.json"))
    assert list((data / "quarantine").rglob("*.xml"))
