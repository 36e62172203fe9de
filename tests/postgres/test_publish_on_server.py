"""Publishing on the server: the pipeline with WORKFORCE_WAREHOUSE_URL set publishes the same
tables on PostgreSQL as in the embedded DuckDB version; 20 readers (10 of the server, 10 of the
portal's API) during a full rebuild while three councils upload through the API, and 20 readers
during publishes and a rollback, see whole versions, never a mix, and never fail; no upload is
lost; a failed audit changes nothing.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from fastapi.testclient import TestClient

from orchestration.cli import main
from orchestration.lib import paths
from orchestration.lib.publish import postgres, publication
from orchestration.lib.server import access
from orchestration.runner import summaries_dir
from portal import adapter, agreement, figures
from synthetic import generate_returns
from tests.integration.helpers import run_pipeline
from tests.portal.conftest import AGREEMENT
from tests.postgres.conftest import RETURN_COUNCILS, dagster_daemon

READERS = 20
# During the rebuild, half of the 20 read the server and half the portal's API, pausing between
# reads so they leave the two cores to the rebuild; the publishes test reads back to back.
REBUILD_PAUSE = 0.05
ANALYST = "analyst_of_versions"
TWO_TABLES = ("fct_workforce_benchmarks", "fct_inspections")
# Councils whose 2024 returns are uploaded through the portal while the rebuild runs: one new
# (202 sent nothing before) and two resubmissions.
UPLOADERS = ("202", "301", "316")
# Rows computed from councils' returns, in two tables: both grow when a new council's return arrives.
FROM_RETURNS = (
    "select (select count(*) from published.fct_workforce_indicators where source = 'council_return'),"
    " (select count(*) from published.fct_workforce_benchmarks where source = 'council_return')"
)


class Readers:
    """Threads each repeating one read until stopped: `read(state)` returns what it saw, and the
    state `connect()` gives each thread is closed when it stops."""

    def __init__(
        self, count: int, connect: Callable[[], Any], read: Callable[[Any], Any], pause: float = 0.005
    ) -> None:
        self.count, self.connect, self.read, self.pause = count, connect, read, pause
        self.seen: set[Any] = set()
        self.failures: list[BaseException] = []
        self.reads = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop) for _ in range(count)]

    def _loop(self) -> None:
        try:
            with self.connect() as state:
                while not self._stop.is_set():
                    seen = self.read(state)
                    with self._lock:
                        self.seen.add(seen)
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


def server_readers(url: str, statement: str, count: int = READERS, pause: float = 0.005) -> Readers:
    return Readers(
        count, lambda: psycopg.connect(url, autocommit=True), lambda con: con.execute(statement).fetchone(), pause
    )


def api_readers(app: Any, token: str, count: int, pause: float) -> Readers:
    """Portal API clients reading council 301's benchmarks; each read is the version it was given."""

    def read(client: TestClient) -> str:
        response = client.get("/api/v1/councils/301/benchmarks", headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            raise AssertionError(f"the portal API answered {response.status_code}: {response.text[:200]}")
        return response.json()["published_version"]

    return Readers(count, lambda: TestClient(app), read, pause)


@dataclass
class Rebuild:
    run_summary: dict[str, Any]
    """The full rebuild's run summary (what `workforce run` wrote as latest.json)."""
    before: tuple[int, ...]
    after: tuple[int, ...]
    server_reads: Readers
    api_reads: Readers
    uploads: dict[str, dict[str, Any]]
    """council -> what the portal's API answered to its upload."""
    versions: list[str] = field(default_factory=list)
    """Every version published from before the rebuild to the end, oldest first."""
    tokens: dict[str, str] = field(default_factory=dict)


def published_database() -> Path:
    return paths.published_dir() / publication.PUBLISHED_DB_NAME


def _from_returns(cursor: Callable[[str], Any]) -> tuple[int, ...]:
    return tuple(int(v) for v in cursor(FROM_RETURNS.replace("published.", "")).fetchone())


def _accounts(store: Any) -> dict[str, str]:
    """A council account and an API token for each uploading council: council -> token."""
    from portal import security

    tokens = {}
    for code in UPLOADERS:
        user = store.add_user(f"officer@{code}.test", "council", code, security.hash_password("a long password"))
        tokens[code] = security.new_api_token()
        store.add_token(user.id, security.digest(tokens[code]), "test")
    return tokens


def _upload(app: Any, tokens: dict[str, str], returns: Path) -> dict[str, dict[str, Any]]:
    answers = {}
    with TestClient(app) as client:
        for code, token in tokens.items():
            sent = returns / code / "2024" / "csww_2024.xml"
            response = client.post(
                f"/api/v1/councils/{code}/returns",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (sent.name, sent.read_bytes(), "application/xml")},
            )
            answers[code] = {**response.json(), "http_status": response.status_code}
    return answers


@pytest.fixture(scope="module")
def rebuild(embedded_root: Path, pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rebuild]:
    """The embedded scenario's version published on the server, with the portal's state there too.
    Then, while 10 readers query the server and 10 read the portal's API, `workforce run`'s full
    rebuild runs and three councils upload 2024 returns through the API; a republish follows if an
    upload arrived after the rebuild had looked at the landing zone (it is the next run's)."""
    from portal.app import create_app
    from portal.settings import load_settings
    from portal.store.postgres import PostgresStore

    manifest = publication.read_manifest()
    assert manifest is not None
    postgres.publish(pg_database, published_database(), manifest, list(publication.PUBLISHED_TABLES), keep=5)
    with duckdb.connect(str(published_database()), read_only=True) as con:
        before = _from_returns(con.execute)
    returns = tmp_path_factory.mktemp("uploads")
    generate_returns(out_dir=returns, seed=11, years=[2024], la_codes=list(UPLOADERS))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_WAREHOUSE_URL", pg_database)
        patch.setattr("sys.stdin", io.StringIO("the portal's password\n"))
        assert main(["server", "portal-login", "--role", "portal_app", "--password-stdin"]) == 0
        patch.setenv("WORKFORCE_PORTAL_DATABASE_URL", pg_database.replace("workforce@", "portal_app@"))
        settings = load_settings(republish="off")
        tokens = _accounts(PostgresStore(settings.database_url))
        app = create_app(settings)
        logs = tmp_path_factory.mktemp("rebuild")
        log = logs / "workforce_run.log"
        with (
            dagster_daemon(logs / "dagster_daemon.log"),
            server_readers(pg_database, FROM_RETURNS, READERS // 2, REBUILD_PAUSE) as server_reads,
            api_readers(app, tokens["301"], READERS // 2, REBUILD_PAUSE) as api_reads,
            log.open("w") as sink,
        ):
            # `workforce run` queues the rebuild and the daemon runs it in its own process, as in a
            # deployment (the portal's validation may open the working warehouse read-only).
            rebuilding = subprocess.Popen(
                [sys.executable, "-m", "orchestration.cli", "run"],
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=paths.PROJECT_ROOT,
            )
            uploads = _upload(app, tokens, returns)
            assert rebuilding.wait(timeout=600) == 0, log.read_text()
            # The queued run's own progress reaches the command's output, as an in-process run's does.
            assert "dbt: build started" in log.read_text(), log.read_text()
            run_summary = json.loads((summaries_dir() / "latest.json").read_text(encoding="utf-8"))
            # An upload that landed after the rebuild looked at the landing zone is the next run's.
            if not all(adapter.is_live(code, 2024, answer["sha256"]) for code, answer in uploads.items()):
                republished = run_pipeline("republish_returns")
                assert republished.succeeded, republished.describe()
        with duckdb.connect(str(published_database()), read_only=True) as con:
            after = _from_returns(con.execute)
        versions = [v for v in sorted(p.name for p in publication.versions_dir().iterdir()) if v >= manifest["version"]]
        yield Rebuild(run_summary, before, after, server_reads, api_reads, uploads, versions, tokens)


@pytest.fixture(scope="module")
def server(rebuild: Rebuild, pg_database: str) -> str:
    return pg_database


def _counts_of(version: str) -> tuple[int, ...]:
    database = publication.versions_dir() / version / publication.PUBLISHED_DB_NAME
    with duckdb.connect(str(database), read_only=True) as con:
        return _from_returns(con.execute)


def test_readers_during_a_rebuild_and_three_uploads_see_whole_versions_and_never_fail(rebuild: Rebuild) -> None:
    for readers in (rebuild.server_reads, rebuild.api_reads):
        assert not readers.failures, readers.failures[:3]
        assert readers.reads > READERS
    assert rebuild.after[0] > rebuild.before[0] and rebuild.after[1] > rebuild.before[1]
    whole = {_counts_of(version) for version in rebuild.versions}
    assert rebuild.server_reads.seen <= whole, f"reads saw {rebuild.server_reads.seen}; whole versions are {whole}"
    assert {rebuild.before, rebuild.after} <= rebuild.server_reads.seen
    assert rebuild.api_reads.seen <= set(rebuild.versions)
    assert len(rebuild.versions) >= 2


def test_no_upload_is_lost(rebuild: Rebuild, server: str) -> None:
    """Each upload was accepted, is in the published version's inputs, and its council's API says live."""
    manifest = publication.read_manifest()
    assert manifest is not None
    sent = {(r["old_la_code"], r["collection_year"]): r["sha256"] for r in manifest["inputs"]["council_returns"]}
    from portal.app import create_app
    from portal.settings import load_settings

    with TestClient(create_app(load_settings(republish="off"))) as client:
        for code, answer in rebuild.uploads.items():
            assert answer["http_status"] == 201, answer
            assert sent[(code, 2024)] == answer["sha256"], f"{code}'s upload is not what was published"
            listed = client.get(
                f"/api/v1/councils/{code}/submissions", headers={"Authorization": f"Bearer {rebuild.tokens[code]}"}
            ).json()
            assert [s["status"] for s in listed if s["id"] == answer["id"]] == ["live"], listed
    with psycopg.connect(server) as con:
        councils = con.execute(
            "select distinct old_la_code from published.fct_workforce_benchmarks"
            " where time_period = 2024 and source = 'council_return'"
        ).fetchall()
    assert {*UPLOADERS, *RETURN_COUNCILS} <= {row[0] for row in councils}


def test_the_runs_history_and_queue_are_on_the_server(rebuild: Rebuild, server: str) -> None:
    """`workforce run` queues its run in Dagster's storage on the server, where the daemon starts it
    and the UI and the portal's engineer pages read it."""
    run_id = rebuild.run_summary["run_id"]
    with psycopg.connect(server) as con:
        recorded = con.execute("select status from runs where run_id = %s", [run_id]).fetchall()
        query = "select dagster_event_type from event_logs where run_id = %s"
        events = {row[0] for row in con.execute(query, [run_id])}
    assert recorded == [("SUCCESS",)]
    # It waited in the run queue the UI, the sensor and the schedule use, and the daemon started it.
    assert {"PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_SUCCESS"} <= events
    assert run_id in {run.run_id for run in adapter.dagster_runs()}


def _rows(cursor: Any, table: str, columns: list[str]) -> list[tuple]:
    listed = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(publication.PUBLISHED_TABLES[table])
    return cursor.execute(f"select {listed} from {table} order by {order}, {listed}").fetchall()


def _sharing(server: str) -> tuple[figures.Facts, set[tuple[str, str]], set[tuple[str, str]], set[int]]:
    """(published facts, the pairs the agreement gives, the pairs and DfE years on the server)."""
    with duckdb.connect(str(published_database()), read_only=True) as cur:
        facts = figures.facts(cur)
    expected = figures.provisional_viewers(agreement.load(AGREEMENT), facts)
    with psycopg.connect(server) as con:
        pairs = set(con.execute("select owner_old_la_code, viewer_old_la_code from access.provisional_viewers"))
        years = {row[0] for row in con.execute("select time_period from access.dfe_published_years")}
    return facts, expected, pairs, years


def test_a_run_that_publishes_writes_the_agreements_sharing_to_the_server(rebuild: Rebuild, server: str) -> None:
    """Without `workforce server access`: the run's last step writes who may see whose provisional rows."""
    facts, expected, pairs, years = _sharing(server)
    assert pairs == expected and ("203", "301") in pairs
    assert years == facts.dfe_years


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
    assert previous == (manifest["previous_version"],) == (rebuild.versions[-2],)


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
    with server_readers(server, f"select {counts}") as readers:
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
    facts, expected, pairs, years = _sharing(server)
    assert pairs == expected and ("203", "301") in pairs and ("316", "301") not in pairs
    assert years == facts.dfe_years and 2024 in years
