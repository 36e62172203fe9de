"""One dbt project, two targets: the scenario (conftest.py) built and published on the embedded
default, then built again with WORKFORCE_WAREHOUSE_URL naming a server. There the raw tables are
written, dbt builds with its data tests, the Great Expectations suites check the marts and the
version is published; its published tables equal DuckDB's, row for row, at published precision.
Worker-level rows reach the server only in schemas no reader role can use.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from orchestration import runner
from orchestration.cli import main
from orchestration.lib import paths, warehouse
from orchestration.lib.publish import publication
from orchestration.lib.server import access
from orchestration.lib.server import warehouse as server_warehouse
from synthetic import generate_returns
from tests.integration.helpers import published_tables, run_pipeline

READER = "reader_of_marts"
COUNCIL_READER = "council_reader_of_marts"
# Worker-level and working relations, one per schema no reader may use.
WORKING_RELATIONS = (
    "raw_csww.workers",
    "sensitive.stg_csww__workers",
    "sensitive.int_worker_roles_flagged",
    "intermediate.int_workforce_unit_years",
    "marts.fct_workforce_benchmarks",
)


@pytest.fixture(scope="module")
def built(embedded_root: Path, pg_database: str) -> Iterator[tuple[str, runner.RunReport, dict[str, list[tuple]]]]:
    """(server URL, the server run's report, the embedded version's tables) after the server run."""
    embedded = published_tables()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_WAREHOUSE_URL", pg_database)
        report = run_pipeline()
        assert report.succeeded, report.describe()
    with psycopg.connect(pg_database) as con:
        for role, group in ((READER, access.ANALYST_GROUP), (COUNCIL_READER, access.COUNCIL_GROUP)):
            con.execute(f"drop role if exists {role}")
            con.execute(f"create role {role} login in role {group}")
    yield pg_database, report, embedded


def _same(got: Any, want: Any) -> bool:
    """Equal, a double within 1e-9 (far below any published precision: DfE publishes at most 2 places)."""
    if isinstance(want, float) and isinstance(got, float):
        return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-9)
    return got == want


def test_dbt_built_and_checked_the_marts_on_the_server(built: tuple[str, runner.RunReport, Any]) -> None:
    url, report, _ = built
    assert not report.checks_with("failed")
    evaluated = {check["check"] for check in report.checks}
    assert {f"marts__{table}" for table in publication.PUBLISHED_TABLES} <= evaluated  # the GE suites
    assert len(report.checks_with("passed")) > 200  # and dbt's data tests
    with psycopg.connect(url) as con:
        for table in publication.PUBLISHED_TABLES:
            built_rows = con.execute(f"select count(*) from marts.{table}").fetchone()
            published_rows = con.execute(f"select count(*) from published.{table}").fetchone()
            assert built_rows == published_rows and built_rows[0] > 0, table


@pytest.mark.parametrize("table", sorted(publication.PUBLISHED_TABLES))
def test_the_server_publishes_what_the_embedded_default_publishes(built: tuple[str, Any, Any], table: str) -> None:
    url, _, embedded = built
    with duckdb.connect(str(paths.published_dir() / publication.PUBLISHED_DB_NAME), read_only=True) as con:
        columns = [row[0] for row in con.execute(f"describe {table}").fetchall()]
    order = ", ".join(f'"{c}"' for c in publication.PUBLISHED_TABLES[table])
    listed = ", ".join(f'"{c}"' for c in columns)
    with psycopg.connect(url) as con:
        found = con.execute(f"select {listed} from published.{table} order by {order}").fetchall()
    expected = embedded[table]
    assert len(found) == len(expected) > 0
    for got, want in zip(found, expected, strict=True):
        differing = [(c, g, w) for c, g, w in zip(columns, got, want, strict=True) if not _same(g, w)]
        assert not differing, f"{table} row {want[: len(publication.PUBLISHED_TABLES[table])]}: {differing}"


@pytest.mark.parametrize("role", [READER, COUNCIL_READER])
@pytest.mark.parametrize("relation", WORKING_RELATIONS)
def test_no_reader_role_can_touch_worker_level_or_working_tables(
    built: tuple[str, Any, Any], role: str, relation: str
) -> None:
    url, _, _ = built
    with psycopg.connect(url.replace("postgresql://workforce@", f"postgresql://{role}@"), autocommit=True) as con:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute(f"select count(*) from {relation}")
        assert con.execute("select count(*) from published.dim_measures").fetchone()[0] > 0


def test_raw_tables_are_written_to_the_server_load_by_load(built: tuple[str, Any, Any]) -> None:
    """Only the loads the server lacks are written and those DuckDB no longer holds removed; a
    second write changes nothing."""
    url, _, _ = built
    with warehouse.connect() as con:
        assert all(change == {"added": 0, "removed": 0} for change in server_warehouse.write_raw(url, con).values())
        council, year = con.execute("select old_la_code, collection_year from raw_csww.returns limit 1").fetchone()
        held = con.execute(
            "select count(*) from raw_csww.workers where old_la_code = ? and collection_year = ?", [council, year]
        ).fetchone()[0]
        con.execute("create temporary table kept as select * from raw_csww.workers")
        con.execute("delete from raw_csww.workers where old_la_code = ? and collection_year = ?", [council, year])
        try:
            assert server_warehouse.write_raw(url, con)["raw_csww.workers"] == {"added": 0, "removed": held}
            con.execute(
                "insert into raw_csww.workers select * from kept where old_la_code = ? and collection_year = ?",
                [council, year],
            )
            assert server_warehouse.write_raw(url, con)["raw_csww.workers"] == {"added": held, "removed": 0}
        finally:
            con.execute("delete from raw_csww.workers")
            con.execute("insert into raw_csww.workers select * from kept")
    with psycopg.connect(url) as server, warehouse.connect() as con:
        count = "select count(*), count(distinct file_sha256) from raw_csww.workers"
        assert server.execute(count).fetchone() == con.execute(count).fetchone()


def test_a_resubmission_republishes_on_the_server(
    built: tuple[str, Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A council's corrected return: the republish writes its load to the server, rebuilds there
    what it changes, and the server and the version's files publish its figures. No daemon runs
    for this server, so `workforce run` says so and runs the job itself."""
    url, _, _ = built
    before = publication.read_manifest()
    assert before is not None
    sent_before = {(r["old_la_code"], r["collection_year"]): r["sha256"] for r in before["inputs"]["council_returns"]}
    generate_returns(out_dir=paths.returns_dir(), seed=99, years=[2024], la_codes=["301"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_WAREHOUSE_URL", url)
        patch.setattr(runner, "show_progress", lambda: None)  # keeps the test process's logging as it was
        exit_code = main(["run", "--job", "republish_returns", "--partition", "301|2024"])
    said = capsys.readouterr()
    assert exit_code == runner.EXIT_CLEAN, said.out[-3000:]
    assert "No dagster-daemon is running for this deployment" in said.err
    report = json.loads((runner.summaries_dir() / "latest.json").read_text(encoding="utf-8"))
    assert report["job"] == "republish_returns" and report["published_version"]
    manifest = publication.read_manifest()
    assert manifest is not None and manifest["version"] == report["published_version"]
    sent = {(r["old_la_code"], r["collection_year"]): r["sha256"] for r in manifest["inputs"]["council_returns"]}
    figures = (
        "select inpost_fte, agency_fte, leavers_fte from {} "
        "where time_period = 2024 and area_code = '301' and geographic_level = 'Local authority'"
    )
    with duckdb.connect(str(paths.published_dir() / publication.PUBLISHED_DB_NAME), read_only=True) as con:
        published_locally = con.execute(figures.format("fct_workforce_indicators")).fetchall()
    with psycopg.connect(url) as con:
        loaded = con.execute(
            "select file_sha256 from raw_csww.returns where old_la_code = '301' and collection_year = 2024"
        ).fetchall()
        assert con.execute("select version from publishing.versions where is_current").fetchone() == (
            report["published_version"],
        )
        published_on_server = con.execute(figures.format("published.fct_workforce_indicators")).fetchall()
    assert sent[("301", 2024)] != sent_before[("301", 2024)]
    assert loaded == [(sent[("301", 2024)],)]
    assert published_on_server == published_locally and len(published_locally) == 1
