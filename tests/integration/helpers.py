"""Helpers for end-to-end tests: run the pipeline, read what it published."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from orchestration import runner
from orchestration.lib import paths
from orchestration.lib.publish import publication


def run_pipeline(job: str = "full_rebuild", la_year: str | None = None) -> runner.RunReport:
    runner.prepare_environment()
    return runner.run_job(job, la_year=la_year)


def scenario_environment(root: Path, agreement: Path | None = None) -> dict[str, str]:
    """The settings that point the whole project at a scenario's data folder and landing zone."""
    from tests.conftest import TEST_PSEUDONYM_KEY

    return {
        "WORKFORCE_DATA_DIR": str(root / "data"),
        "WORKFORCE_RAW_DIR": str(root / "raw"),
        "DAGSTER_HOME": str(root / "data" / "dagster_home"),
        "WORKFORCE_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
        **({"WORKFORCE_PORTAL_AGREEMENT": str(agreement)} if agreement else {}),
    }


def first_run_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A landing zone of DfE's and Ofsted's published files only, after one clean run published
    it: where many tests start. Built once per test session (a run is half a minute)."""

    def build(root: Path) -> None:
        for folder in ("dfe", "ofsted"):
            shutil.copytree(paths.PROJECT_ROOT / "raw" / folder, root / "raw" / folder)
        (root / "raw" / "returns").mkdir(parents=True)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in scenario_environment(root).items():
                patch.setenv(name, value)
            patch.delenv("WORKFORCE_WAREHOUSE_URL", raising=False)
            report = run_pipeline()
            assert report.succeeded, report.describe()

    return built_once(tmp_path_factory, "first_run_base", build)


def publish_scenario(
    root: Path, agreement: Path, *, councils: list[str], years: list[int], edit_landing_zone: Callable[[], None]
) -> None:
    """Generated returns for these councils and years, DfE's and Ofsted's files, run and published
    on the embedded default (never a server a developer's WORKFORCE_WAREHOUSE_URL names)."""
    from synthetic import generate_returns

    for folder in ("dfe", "ofsted"):
        shutil.copytree(paths.PROJECT_ROOT / "raw" / folder, root / "raw" / folder)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in scenario_environment(root, agreement).items():
            patch.setenv(name, value)
        patch.delenv("WORKFORCE_WAREHOUSE_URL", raising=False)
        generate_returns(out_dir=root / "raw" / "returns", seed=7, years=years, la_codes=councils)
        edit_landing_zone()
        report = run_pipeline()
        assert report.succeeded, report.describe()


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder `build` fills once per test session; parallel workers wait for it and share it."""
    base = tmp_path_factory.getbasetemp()
    # Each xdist worker has a folder inside the session's: build beside them, once.
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    with FileLock(str(shared) + ".lock"):
        if not (shared / "ready").exists():
            shutil.rmtree(shared, ignore_errors=True)
            build(shared)
            (shared / "ready").touch()
    return shared


@contextmanager
def private_copy(
    shared: Path, tmp_path_factory: pytest.TempPathFactory, agreement: Path | None, prefix: str
) -> Iterator[Path]:
    """A copy of a built scenario that one test module may change, with the environment pointing at it."""
    root = tmp_path_factory.mktemp(prefix)
    shutil.copytree(shared / "data", root / "data", symlinks=True)
    shutil.copytree(shared / "raw", root / "raw", symlinks=True)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in scenario_environment(root, agreement).items():
            patch.setenv(name, value)
        yield root


def published_files() -> dict[str, str]:
    """sha256 of every file in the current published version (empty when nothing is published)."""
    folder = paths.published_dir()
    if not folder.exists():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


RUN_TIMES = ("return_loaded_at",)
"""Published columns that say when a run loaded something: two runs over the same files differ there only."""


def published_tables(database: Path | None = None, *, without: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every published table's rows, in their published order (without the columns named)."""
    target = database or paths.published_dir() / publication.PUBLISHED_DB_NAME
    tables = {}
    with duckdb.connect(str(target), read_only=True) as con:
        for table in publication.PUBLISHED_TABLES:
            names = [d[0] for d in con.execute(f"select * from {table} limit 0").description]
            columns = ", ".join(f'"{name}"' for name in names if name not in without)
            tables[table] = con.execute(f"select {columns} from {table}").fetchall()
    return tables


def query_published(sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.published_dir() / publication.PUBLISHED_DB_NAME), read_only=True) as con:
        return con.execute(sql).fetchall()


def add_release(rows: list[str], name: str = "csww_indicators_2025.csv") -> Path:
    """A new DfE release in the landing zone with these rows."""
    header = (paths.dfe_releases_dir() / "csww_indicators_2017_to_2024.csv").read_text().splitlines()[0]
    path = paths.dfe_releases_dir() / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def release_row(year: int, code: str, name: str, inpost_fte: str) -> str:
    """A 2024 Barking and Dagenham row moved to another year with one value changed."""
    source = (paths.dfe_releases_dir() / "csww_indicators_2017_to_2024.csv").read_text().splitlines()
    row = next(r for r in source if r.startswith("2024,") and f",{code}," in r).split(",")
    row[0], row[10] = str(year), inpost_fte
    assert row[9] == name
    return ",".join(row)
