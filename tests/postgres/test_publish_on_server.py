"""Publishing on the server: the pipeline with WORKFORCE_WAREHOUSE_URL set publishes the same
tables on PostgreSQL as in the embedded DuckDB version; readers during a full rebuild that takes
in three new returns (6), and during publishes and a rollback (20), see the old version or the new
one, never a mix, and never fail; a failed audit changes nothing.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
from synthetic import generate_returns
from tests.integration.helpers import run_pipeline
from tests.portal.conftest import AGREEMENT
from tests.postgres.conftest import RETURN_COUNCILS

READERS = 20
# During a whole rebuild fewer, slower readers: 20 back-to-back readers kept the two cores busy in
# Postgres and tripled the rebuild's time; the swap itself is read by 20 in the publishes test.
REBUILD_READERS, REBUILD_PAUSE = 6, 0.05
ANALYST = "analyst_of_versions"
TWO_TABLES = ("fct_workforce_benchmarks", "fct_inspections")
UPLOADED = ("202", "204", "205")  # councils whose 2024 returns land while the readers read
# Rows computed from councils' returns, in two tables: both grow when returns arrive.
FROM_RETURNS = (
    "select (select count(*) from published.fct_workforce_indicators where source = 'council_return'),"
    " (select count(*) from published.fct_workforce_benchmarks where source = 'council_return')"
)


class Readers:
    """`count` threads, each running one statement over two tables again and again until stopped."""

    def __init__(self, url: str, statement: str, count: int = READERS, pause: float = 0.005) -> None:
        self.url, self.statement, self.count, self.pause = url, statement, count, pause
        self.seen: set[tuple[int, ...]] = set()
        self.failures: list[BaseException] = []
        self.reads = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read) for _ in range(count)]

    def _read(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as con:
                while not self._stop.is_set():
                    row = con.execute(self.statement).fetchone()
                    with self._lock:
                        self.seen.add(tuple(row or ()))
                        self.reads += 1
                    self._stop.wait(self.pause)
        except BaseException as exc:
            self.failures.append(exc)

    def wait_for_reads(self, more: int) -> None:
        """Until `more` reads have finished since now (up to 10 s)."""
        with self._lock:
            target = self.reads + more
        for _ in range(1000):
            with self._lock:
                if self.reads >= target:
                    return
            time.sleep(0.01)

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        self.wait_for_reads(self.count)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wait_for_reads(2 * self.count)
        self._stop.set()
        for thread in self._threads:
            thread.join()


@dataclass
class Rebuild:
    report: RunReport
    before: tuple[int, ...]
    after: tuple[int, ...]
    readers: Readers
    versions: list[str] = field(default_factory=list)


def published_database() -> Path:
    return paths.published_dir() / publication.PUBLISHED_DB_NAME


def _from_returns(cursor: Callable[[str], Any]) -> tuple[int, ...]:
    return tuple(int(v) for v in cursor(FROM_RETURNS.replace("published.", "")).fetchone())


@pytest.fixture(scope="module")
def rebuild(embedded_root: Path, pg_database: str) -> Iterator[Rebuild]:
    """The embedded scenario's version published on the server; then, while readers query it,
    three councils' returns land and `workforce run`'s full rebuild publishes the next version."""
    manifest = publication.read_manifest()
    assert manifest is not None
    postgres.publish(pg_database, published_database(), manifest, list(publication.PUBLISHED_TABLES), keep=5)
    with duckdb.connect(str(published_database()), read_only=True) as con:
        before = _from_returns(con.execute)
    generate_returns(out_dir=paths.returns_dir(), seed=11, years=[2024], la_codes=list(UPLOADED))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_WAREHOUSE_URL", pg_database)
        with Readers(pg_database, FROM_RETURNS, REBUILD_READERS, REBUILD_PAUSE) as readers:
            report = run_pipeline()
        assert report.succeeded, report.describe()
        with duckdb.connect(str(published_database()), read_only=True) as con:
            after = _from_returns(con.execute)
        yield Rebuild(report, before, after, readers, [manifest["version"]])


@pytest.fixture(scope="module")
def server(rebuild: Rebuild, pg_database: str) -> str:
    return pg_database


def test_readers_during_a_full_rebuild_with_three_uploads_see_one_whole_version(rebuild: Rebuild) -> None:
    readers = rebuild.readers
    assert not readers.failures, readers.failures[:3]
    assert rebuild.after[0] > rebuild.before[0] and rebuild.after[1] > rebuild.before[1]
    assert readers.seen == {rebuild.before, rebuild.after}, (
        f"reads saw {readers.seen}: only {rebuild.before} (old) and {rebuild.after} (new) are whole versions"
    )


def test_no_upload_is_lost(rebuild: Rebuild, server: str) -> None:
    manifest = publication.read_manifest()
    assert manifest is not None
    sent = {(r["old_la_code"], r["collection_year"]) for r in manifest["inputs"]["council_returns"]}
    assert {(code, 2024) for code in UPLOADED} <= sent
    with psycopg.connect(server) as con:
        councils = con.execute(
            "select distinct old_la_code from published.fct_workforce_benchmarks"
            " where time_period = 2024 and source = 'council_return'"
        ).fetchall()
    assert {*UPLOADED, *RETURN_COUNCILS} <= {row[0] for row in councils}


def test_the_runs_history_is_on_the_server(rebuild: Rebuild, server: str) -> None:
    """`workforce run` records its run in Dagster's storage on the server, where the UI, the daemon
    and the portal's engineer pages read it."""
    run_id = rebuild.report.run_id
    with psycopg.connect(server) as con:
        recorded = con.execute("select status from runs where run_id = %s", [run_id]).fetchall()
    assert recorded == [("SUCCESS",)]
    assert run_id in {run.run_id for run in adapter.dagster_runs()}


def _rows(cursor: Any, table: str, columns: list[str]) -> list[tuple]:
    listed = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(publication.PUBLISHED_TABLES[table])
    return cursor.execute(f"select {listed} from {table} order by {order}, {listed}").fetchall()


def test_a_run_that_publishes_writes_the_agreements_sharing_to_the_server(rebuild: Rebuild, server: str) -> None:
    """Without `workforce server access`: the run's last step writes who may see whose provisional rows."""
    with duckdb.connect(str(published_database()), read_only=True) as cur:
        facts = figures.facts(cur)
    expected = server_access.provisional_viewers(agreement.load(AGREEMENT), facts)
    with psycopg.connect(server) as con:
        pairs = set(con.execute("select owner_old_la_code, viewer_old_la_code from access.provisional_viewers"))
        years = {row[0] for row in con.execute("select time_period from access.dfe_published_years")}
    assert pairs == expected and ("203", "301") in pairs
    assert years == facts.dfe_years
    assert rebuild.report.loads["server_sharing"]["council_pairs"] == len(expected)


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


def test_the_server_and_the_embedded_default_publish_one_version(rebuild: Rebuild, server: str) -> None:
    manifest = publication.read_manifest()
    assert manifest is not None
    with psycopg.connect(server) as con:
        assert postgres.current_version(con) == manifest["version"]
        previous = con.execute(
            "select previous_version from publishing.versions where version = %s", [manifest["version"]]
        ).fetchone()
    assert previous == (manifest["previous_version"],) == (rebuild.versions[0],)


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

    counts = ", ".join(f"(select count(*) from published.{table})" for table in TWO_TABLES)
    with Readers(server, f"select {counts}") as readers:
        postgres.publish(server, smaller_copy, smaller_manifest, list(publication.PUBLISHED_TABLES), keep=5)
        with psycopg.connect(server) as con:
            assert _counts(con) == smaller, "the new version is visible as soon as the publish returns"
        readers.wait_for_reads(2 * READERS)
        postgres.rollback(server, original_version)
        with psycopg.connect(server) as con:
            assert _counts(con) == original
            assert postgres.current_version(con) == original_version
    assert not readers.failures, readers.failures[:3]
    assert readers.seen == {original, smaller}, f"reads saw {readers.seen}: only {original} and {smaller} are whole"
    put_aside = postgres.version_schema(smaller_manifest["version"])
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"drop role if exists {ANALYST}")
        con.execute(f"create role {ANALYST} login in role {access.ANALYST_GROUP}")
        assert con.execute(f"select count(*) from {put_aside}.fct_inspections").fetchone() == (smaller[1],)
    with psycopg.connect(server.replace("workforce@", f"{ANALYST}@")) as analyst:
        assert analyst.execute("select count(*) from published.fct_inspections").fetchone() == (original[1],)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute(f"select count(*) from {put_aside}.fct_inspections")


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
