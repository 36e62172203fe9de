"""Publishing on the server: the pipeline with WORKFORCE_WAREHOUSE_URL set publishes the same
tables on PostgreSQL as in the embedded DuckDB version; a failed audit changes nothing; readers
during a publish see the old version or the new one, never a mix; rollback swaps back.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from orchestration.cli import main
from orchestration.lib import paths
from orchestration.lib.publish import postgres, publication
from orchestration.lib.server import access
from orchestration.runner import RunReport
from portal import adapter, agreement, figures, server_access
from tests.integration.helpers import run_pipeline
from tests.portal.conftest import AGREEMENT

READERS = 20
ANALYST = "analyst_of_versions"
TWO_TABLES = ("fct_workforce_benchmarks", "fct_inspections")


@pytest.fixture(scope="module")
def rebuild(embedded_root: Path, pg_database: str) -> Iterator[RunReport]:
    """The scenario rebuilt and published by `workforce run`'s path with the server set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_WAREHOUSE_URL", pg_database)
        report = run_pipeline()
        assert report.succeeded, report.describe()
        yield report


@pytest.fixture(scope="module")
def server(rebuild: RunReport, pg_database: str) -> str:
    return pg_database


def test_the_runs_history_is_on_the_server(rebuild: RunReport, server: str) -> None:
    """`workforce run` records its run in Dagster's storage on the server, where the UI, the daemon
    and the portal's engineer pages read it."""
    with psycopg.connect(server) as con:
        recorded = con.execute("select status from runs where run_id = %s", [rebuild.run_id]).fetchall()
    assert recorded == [("SUCCESS",)]
    assert rebuild.run_id in {run.run_id for run in adapter.dagster_runs()}


def published_database() -> Path:
    return paths.published_dir() / publication.PUBLISHED_DB_NAME


def _rows(cursor: Any, table: str, columns: list[str]) -> list[tuple]:
    listed = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(publication.PUBLISHED_TABLES[table])
    return cursor.execute(f"select {listed} from {table} order by {order}, {listed}").fetchall()


@pytest.mark.parametrize("table", sorted(publication.PUBLISHED_TABLES))
def test_published_tables_on_the_server_equal_the_embedded_ones(server: str, table: str) -> None:
    with duckdb.connect(str(published_database()), read_only=True) as embedded:
        columns = [row[0] for row in embedded.execute(f"describe {table}").fetchall()]
        expected = _rows(embedded, table, columns)
    with psycopg.connect(server, options="-c search_path=published") as con:
        found = _rows(con, table, columns)
    assert len(found) == len(expected) > 0
    for got, want in zip(found, expected, strict=True):
        assert got == want, f"{table}: the server has {got}, the embedded version {want}"


def test_the_server_and_the_embedded_default_publish_one_version(server: str) -> None:
    manifest = publication.read_manifest()
    assert manifest is not None
    with psycopg.connect(server) as con:
        assert postgres.current_version(con) == manifest["version"]
        previous = con.execute(
            "select previous_version from publishing.versions where version = %s", [manifest["version"]]
        ).fetchone()
    assert previous == (None,), "the embedded default published before the server was set"


def _version_without_2024(folder: Path, version: str) -> tuple[Path, dict[str, Any]]:
    """A copy of the published version with 2024's benchmarks and one council's inspections removed."""
    copy = folder / f"{version}.duckdb"
    shutil.copy(published_database(), copy)
    copy.chmod(0o644)
    with duckdb.connect(str(copy)) as con:
        con.execute("delete from fct_workforce_benchmarks where time_period = 2024")
        con.execute("delete from fct_inspections where old_la_code = '301'")
    return copy, {"version": version, "published_at": "2026-12-01T00:00:00+00:00"}


def _counts(con: psycopg.Connection) -> tuple[int, int]:
    """Rows of two tables in one statement: from one version, whatever is published meanwhile."""
    counts = ", ".join(f"(select count(*) from published.{table})" for table in TWO_TABLES)
    row = con.execute(f"select {counts}").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_failed_audit_publishes_nothing(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy, manifest = _version_without_2024(tmp_path, "20990101T000000000000Z_badaudit")
    written = postgres._write

    def write_then_lose_a_row(con, source, schema, table):
        columns = written(con, source, schema, table)
        con.execute(f"delete from {schema}.{table} where ctid = (select min(ctid) from {schema}.{table})")
        return columns

    monkeypatch.setattr(postgres, "_write", write_then_lose_a_row)
    with psycopg.connect(server) as con:
        before, counts = postgres.current_version(con), _counts(con)
    with pytest.raises(postgres.ServerPublishError, match=r"Audit of .* failed"):
        postgres.publish(server, copy, manifest, list(publication.PUBLISHED_TABLES), keep=5)
    with psycopg.connect(server) as con:
        assert postgres.current_version(con) == before
        assert _counts(con) == counts
        staged = con.execute("select count(*) from pg_namespace where nspname like 'staging%'").fetchone()
    assert staged == (0,)


def test_readers_during_publishes_see_one_whole_version_and_rollback_swaps_back(server: str, tmp_path: Path) -> None:
    with psycopg.connect(server) as con:
        original_version, original = postgres.current_version(con), _counts(con)
    smaller_copy, smaller_manifest = _version_without_2024(tmp_path, "20990101T000001000000Z_smaller")
    with duckdb.connect(str(smaller_copy), read_only=True) as con:
        smaller = tuple(con.execute(f"select count(*) from {t}").fetchone()[0] for t in TWO_TABLES)
    assert smaller[0] < original[0] and smaller[1] < original[1]

    seen: set[tuple[int, int]] = set()
    failures: list[BaseException] = []
    reads = [0]
    stop = threading.Event()

    def read() -> None:
        try:
            with psycopg.connect(server, autocommit=True) as con:
                while not stop.is_set():
                    observed = _counts(con)
                    with lock:
                        seen.add(observed)
                        reads[0] += 1
        except BaseException as exc:
            failures.append(exc)

    lock = threading.Lock()
    readers = [threading.Thread(target=read) for _ in range(READERS)]
    for reader in readers:
        reader.start()
    try:
        postgres.publish(server, smaller_copy, smaller_manifest, list(publication.PUBLISHED_TABLES), keep=5)
        with psycopg.connect(server) as con:
            assert _counts(con) == smaller, "the new version is visible as soon as the publish returns"
        _wait_for_reads(reads, lock, more=2 * READERS)
        postgres.rollback(server, original_version)
        with psycopg.connect(server) as con:
            assert _counts(con) == original
            assert postgres.current_version(con) == original_version
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not failures, failures[:3]
    assert seen == {original, smaller}, f"reads saw {seen}: only {original} (old) and {smaller} (new) are whole"
    put_aside = postgres.version_schema(smaller_manifest["version"])
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"drop role if exists {ANALYST}")
        con.execute(f"create role {ANALYST} login in role {access.ANALYST_GROUP}")
        assert con.execute(f"select count(*) from {put_aside}.fct_inspections").fetchone() == (smaller[1],)
    with psycopg.connect(server.replace("workforce@", f"{ANALYST}@")) as analyst:
        assert analyst.execute("select count(*) from published.fct_inspections").fetchone() == (original[1],)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute(f"select count(*) from {put_aside}.fct_inspections")


def _wait_for_reads(reads: list[int], lock: threading.Lock, more: int) -> None:
    with lock:
        target = reads[0] + more
    for _ in range(1000):
        with lock:
            if reads[0] >= target:
                return
        time.sleep(0.01)


def test_workforce_server_access_writes_the_agreements_sharing(server: str) -> None:
    assert main(["server", "access"]) == 0
    with duckdb.connect(str(published_database()), read_only=True) as cur:
        facts = figures.facts(cur)
    expected = server_access.provisional_viewers(agreement.load(AGREEMENT), facts)
    with psycopg.connect(server) as con:
        pairs = set(con.execute("select owner_old_la_code, viewer_old_la_code from access.provisional_viewers"))
        years = {row[0] for row in con.execute("select time_period from access.dfe_published_years")}
    assert pairs == expected and ("203", "301") in pairs and ("316", "301") not in pairs
    assert years == facts.dfe_years and 2024 in years
