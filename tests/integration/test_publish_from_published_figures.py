"""Write-audit-publish with no council returns: benchmarks come from DfE's published figures.

Each test runs the real Dagster job in process against its own temporary warehouse; all but the
first start from a copy of one clean run (`after_a_first_run`).
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from orchestration.lib import paths
from orchestration.lib.publish import publication
from tests.integration.helpers import (
    add_release,
    published_files,
    published_tables,
    query_published,
    release_row,
    run_pipeline,
)

pytestmark = pytest.mark.usefixtures("workspace")


def test_a_clean_run_publishes_every_table_read_only_with_a_manifest() -> None:
    report = run_pipeline()

    assert report.succeeded, report.describe()
    assert report.published_version
    folder = paths.published_dir()
    assert folder.is_symlink()
    for table in publication.PUBLISHED_TABLES:
        assert (folder / f"{table}.parquet").exists()
    database = folder / publication.PUBLISHED_DB_NAME
    assert not database.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), "published file is writable"

    counts = {table: len(rows) for table, rows in published_tables().items()}
    assert counts["fct_workforce_indicators"] > 2000 and counts["dim_local_authorities"] > 150
    manifest = json.loads((folder / publication.MANIFEST_NAME).read_text())
    assert manifest["tables"] == counts
    assert [r["file"] for r in manifest["inputs"]["dfe_releases"]] == ["csww_indicators_2017_to_2024.csv"]
    assert all(len(r["sha256"]) == 64 for r in manifest["inputs"]["dfe_releases"])
    assert {c["check"] for c in manifest["checks"]} >= {f"marts__{t}" for t in publication.PUBLISHED_TABLES}

    # With no returns, every LA-year is benchmarked from DfE's figures and says so.
    sources = query_published(
        "select distinct source from fct_workforce_indicators where geographic_level = 'Local authority'"
    )
    assert sources == [("dfe_published",)]
    england_2024 = query_published(
        "select turnover_rate_fte, agency_rate_fte from fct_workforce_indicators "
        "where time_period = 2024 and geographic_level = 'National'"
    )
    assert england_2024 == [(13.9, 16.2)]


def test_failing_mart_check_leaves_published_files_byte_identical_and_says_why(after_a_first_run: Path) -> None:
    before = published_files()
    # A new release whose figure for one LA is negative: it loads (the raw suite accepts any
    # number) but the checks on the published marts refuse a negative count, so nothing is published.
    add_release([release_row(2025, "301", "Barking and Dagenham", "-5")])

    report = run_pipeline()

    assert not report.succeeded
    assert report.published_version is None
    assert published_files() == before
    assert any("on marts/fct_workforce_indicators failed" in reason for reason in report.failures)
    assert "Not published: the previously published files are unchanged." in report.describe()


def test_republish_keeps_the_previous_version_and_rollback_restores_it(after_a_first_run: Path) -> None:
    first = publication.current_version()
    first_rows = published_tables()
    add_release([release_row(2025, "301", "Barking and Dagenham", "512.3")])

    assert run_pipeline().succeeded
    second = publication.current_version()
    assert second != first
    assert publication.read_manifest()["previous_version"] == first
    assert query_published(
        "select inpost_fte, source from fct_workforce_indicators where time_period = 2025 and old_la_code = '301'"
    ) == [(512.3, "dfe_published")]

    rolled_back = publication.rollback()
    assert rolled_back.version == first == publication.current_version()
    assert published_tables() == first_rows


def test_a_reader_holding_the_published_database_open_survives_a_rebuild(
    after_a_first_run: Path, tmp_path: Path
) -> None:
    database = (paths.published_dir() / publication.PUBLISHED_DB_NAME).resolve()
    reader_log = tmp_path / "reader.log"
    # A separate process opens the published DuckDB read-only and queries it continuously.
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, time
                con = duckdb.connect({str(database)!r}, read_only=True)
                with open({str(reader_log)!r}, "w") as log:
                    while True:
                        n = con.execute("select count(*) from fct_workforce_benchmarks").fetchone()[0]
                        log.write(f"{{n}}\\n"); log.flush()
                        time.sleep(0.05)
                """
            ),
        ]
    )
    try:
        time.sleep(1)
        add_release([release_row(2025, "301", "Barking and Dagenham", "512.3")])
        assert run_pipeline().succeeded
        time.sleep(0.5)
        assert reader.poll() is None, "the reader crashed during the rebuild"
    finally:
        reader.kill()
        reader.wait()
    counts = reader_log.read_text().split()
    assert len(counts) > 20 and len(set(counts)) == 1, "the reader saw an error or a half-published table"
    assert (paths.published_dir() / publication.PUBLISHED_DB_NAME).resolve() != database, "a new version was published"
