"""Helpers for end-to-end tests: run the pipeline, read what it published."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from orchestration import runner
from orchestration.lib import paths
from orchestration.lib.publish import publication


def run_pipeline(job: str = "full_rebuild", la_year: str | None = None) -> runner.RunReport:
    runner.prepare_environment()
    return runner.run_job(job, la_year=la_year)


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
