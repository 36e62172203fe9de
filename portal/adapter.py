"""Every call the portal makes into the rest of the warehouse, and nothing else.

Validation of a return, placing an accepted return in the landing zone, the command that
republishes, the published tables (read-only), packs, publications and rollback, runs and the
quarantine. The rest of the portal never imports `orchestration` directly, so when one of these
APIs changes (or moves to PostgreSQL) only this module changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib import landing, paths
from orchestration.lib.load import outcomes
from orchestration.lib.publish import packs, publication
from orchestration.lib.publish import postgres as server_publishing
from orchestration.lib.publish.packs import source as pack_source
from orchestration.lib.publish.packs import suppression
from orchestration.lib.publish.packs.content import dfe_symbols
from orchestration.lib.publish.packs.formats import PACK_FORMATS as PACK_FORMATS_BY_NAME
from orchestration.lib.publish.packs.model import PROVISIONAL_GROUP_MINIMUM as PROVISIONAL_GROUP_MINIMUM
from orchestration.lib.publish.packs.model import SYMBOLS, Measure, load_measures
from orchestration.lib.publish.packs.model import THIN_PROVISIONAL_GROUP as THIN_PROVISIONAL_GROUP
from orchestration.lib.publish.packs.model import WITHHELD_BY_AGREEMENT as WITHHELD_BY_AGREEMENT
from orchestration.lib.server import access as server_access
from orchestration.lib.server import warehouse as server_warehouse
from orchestration.lib.sources.csww.issues import ERROR
from orchestration.lib.sources.csww.report import render_text
from orchestration.lib.sources.csww.validate import validate_file

PackError = packs.PackError
# How packs read the published tables, as the council each is for may see them.
PackViews = pack_source.ViewOpener
pack_server_view = pack_source.server_view
pack_duckdb_view = pack_source.duckdb_view
PACK_FORMATS: tuple[str, ...] = tuple(PACK_FORMATS_BY_NAME)
PUBLISHED_TABLES: tuple[str, ...] = tuple(publication.PUBLISHED_TABLES)
DFE_SYMBOLS: dict[str, str] = SYMBOLS
PublishError = publication.PublishError
# The shared deployment's server: the agreement's sharing for its row policies, council logins.
server_url = paths.warehouse_server_url
write_server_sharing = server_access.write_sharing
PORTAL_GROUP = server_access.PORTAL_GROUP
ACTING_COUNCIL = server_access.ACTING_COUNCIL
EVERY_COUNCIL = server_access.EVERY_COUNCIL
PUBLISHED_SCHEMA = server_publishing.PUBLISHED_SCHEMA


def add_server_council_login(url: str, role: str, old_la_code: str, password: str) -> None:
    import psycopg

    with psycopg.connect(url) as con:
        server_access.add_council_login(con, role, old_la_code, password)


def add_server_portal_login(url: str, role: str, password: str | None) -> None:
    """The portal's own login on the server, after (re)making the tables it keeps there."""
    import psycopg

    from portal.store import postgres

    with psycopg.connect(url) as con:
        postgres.create_schema(con)
        server_access.add_login(con, role, PORTAL_GROUP, password)


# What DfE's suppression notes say and the packs' small-number rule, applied the same way on pages.
dfe_symbols = dfe_symbols
is_small = suppression.is_small
SMALL_COUNT_SYMBOL = suppression.SMALL_COUNT_SYMBOL
SMALL_COUNT_REASON = f"fewer than {suppression.SMALL_COUNT_LIMIT} people (withheld, as in the packs)"
HEADCOUNT_COLUMNS = ("inpost_headcount", "starters_headcount", "leavers_headcount", "agency_headcount")


def benchmarked_measures() -> list[Measure]:
    """The measures benchmarked against neighbours, region and England, as the current version publishes them."""
    return list(_published_measures(publication.current_version() or ""))


@functools.lru_cache(maxsize=2)
def _published_measures(version: str) -> tuple[Measure, ...]:
    database = paths.published_dir() / publication.PUBLISHED_DB_NAME
    if not version or not database.exists():
        raise PackError("Nothing is published yet: the warehouse has not run.", 1)
    with duckdb.connect(str(database), read_only=True) as con:
        return tuple(m for m in load_measures(con).values() if m.is_benchmarked)


# -- validation ---------------------------------------------------------------------------------

ERROR_SEVERITY, QUERY_SEVERITY = "error", "query"


@dataclass(frozen=True)
class Finding:
    severity: str
    """`error` (the return cannot be loaded) or `query` (loads; worth confirming)."""
    line: int | None
    record: int | None
    element: str | None
    value: str | None
    rule: str
    message: str
    more: int = 0


@dataclass(frozen=True)
class Validation:
    old_la_code: str | None
    """As the return's Header says; None when the Header cannot be read."""
    year: int | None
    workers: int
    findings: tuple[Finding, ...]
    text_report: str

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR_SEVERITY]

    @property
    def queries(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == QUERY_SEVERITY]

    def count(self, severity: str) -> int:
        return sum(f.more or 1 for f in self.findings if f.severity == severity)


def validate_return(path: Path, *, old_la_code: str, year: int | None, shown_name: str) -> Validation:
    """Judge a return as the loader will (continuity with last year included), without loading it.

    The portal stores what it shows, so this is never the council's own copy with SWE numbers.
    """
    report = validate_file(path, old_la_code=old_la_code, year=year, council_copy=False)
    report.file = shown_name
    findings = tuple(
        Finding(
            severity=ERROR_SEVERITY if issue.severity == ERROR else QUERY_SEVERITY,
            line=issue.line,
            record=issue.record,
            element=issue.element,
            value=issue.value,
            rule=issue.rule,
            message=issue.message,
            more=issue.more,
        )
        for issue in report.ordered()
    )
    return Validation(
        old_la_code=report.old_la_code,
        year=report.year,
        workers=report.workers,
        findings=findings,
        text_report=render_text(report),
    )


# -- the landing zone and the republish ---------------------------------------------------------


def landing_path(old_la_code: str, year: int) -> Path:
    """Where the portal puts the return of one LA-year (the landing zone's own name for it)."""
    return landing.return_path(old_la_code, year)


def land_return(source: Path, old_la_code: str, year: int) -> str:
    """Put an accepted return in the landing zone atomically; returns its path relative to raw/.

    The name is fixed by the layout, never taken from the upload: the file replaces the LA-year's
    return in one rename, so the loader sees the old file or the new one, never a part.
    """
    target = landing_path(old_la_code, year)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".portal-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as incoming:
            shutil.copyfileobj(incoming, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o640)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return str(target.relative_to(paths.raw_dir()))


REPUBLISH_NICENESS = 10
"""The portal's own republishes run at lower CPU priority than the pages it serves."""


def republish_command(old_la_code: str, year: int) -> list[str]:
    """The command that loads one LA-year's return and republishes."""
    workforce = Path(sys.executable).with_name("workforce")
    return [
        str(workforce),
        *("run", "--job", "republish_returns", "--partition", f"{old_la_code}|{year}"),
        *("--nice", str(REPUBLISH_NICENESS)),
    ]


def is_live(old_la_code: str, year: int, sha256: str) -> bool:
    """Is this exact file (by sha256) what the published version was built from?"""
    version = publication.current_version()
    return version is not None and (old_la_code, year, sha256) in _published_returns(version)


@functools.lru_cache(maxsize=4)
def _published_returns(version: str) -> frozenset[tuple[str, int, str]]:
    """(LA, year, sha256) of every return a version was built from; a version never changes."""
    manifest = publication.read_manifest(version) or {}
    return frozenset(
        (entry["old_la_code"], int(entry["collection_year"]), entry["sha256"])
        for entry in manifest.get("inputs", {}).get("council_returns", [])
    )


def refused_by_warehouse(old_la_code: str, year: int, sha256: str) -> QuarantineEntry | None:
    """The quarantine entry for this exact file in this LA-year, if the warehouse's own load refused it."""
    return next((q for q in quarantined(old_la_code) if q.year == year and q.sha256 == sha256), None)


# -- the published version (read-only) ----------------------------------------------------------


class PublishedReader:
    """Read-only connections to the published DuckDB, one per version, opened on first use.

    The `published` link is resolved once per request, so one page reads one version even if a
    publish switches the link meanwhile; a reader keeps a version open even after it is pruned.
    """

    KEEP = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, duckdb.DuckDBPyConnection] = {}

    def current_version(self) -> str | None:
        return publication.current_version()

    @contextlib.contextmanager
    def cursor(self, acting_for: str = EVERY_COUNCIL) -> Iterator[tuple[str, duckdb.DuckDBPyConnection]]:
        """(version, cursor) on the current published version; raises PackError when none exists.
        The DuckDB copy has no row policies: `acting_for` matters on the server (ServerPublishedReader)."""
        folder = publication.current_folder()
        database = folder / publication.PUBLISHED_DB_NAME if folder else None
        version = folder.name if folder else ""
        with self._lock:
            connection = self._connections.get(version)
            if connection is None:
                if database is None or not database.exists():
                    raise PackError("Nothing is published yet: the warehouse has not run.", 1)
                connection = duckdb.connect(str(database), read_only=True)
                self._connections[version] = connection
                for stale in list(self._connections)[: -self.KEEP]:
                    self._connections.pop(stale)
            cursor = connection.cursor()
        try:
            yield version, cursor
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            for connection in self._connections.values():
                connection.close()
            self._connections.clear()


class ServerPublishedReader:
    """The published tables on the server, read through the portal's login under the row policies.

    Each `cursor()` is one read-only REPEATABLE READ transaction, so a page reads one version
    whatever is published meanwhile, acting for one council (or EVERY_COUNCIL, an analyst's
    request): the server then returns only the rows that council may see, so no query the portal
    gets wrong can show it another council's provisional figures. One connection per thread.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()

    def _connection(self) -> Any:
        con = getattr(self._local, "con", None)
        if con is None or con.closed:
            con = pack_source.read_only_connection(self.url)
            self._local.con = con
        return con

    def current_version(self) -> str | None:
        try:
            with self.cursor() as (version, _):
                return version
        except PackError:
            return None

    @contextlib.contextmanager
    def cursor(self, acting_for: str = EVERY_COUNCIL) -> Iterator[tuple[str, Any]]:
        with pack_source.server_transaction(self._connection(), acting_for) as view:
            yield view.version, view

    def table(self, table: str) -> tuple[str, Any]:
        """(version, rows as Arrow) of a whole published table, as an analyst reads it."""
        with self.cursor(EVERY_COUNCIL) as (version, _):
            rows = server_warehouse.table_as_arrow(
                self._connection(), f"{PUBLISHED_SCHEMA}.{table}", publication.PUBLISHED_TABLES[table]
            )
        return version, rows

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()


def published_table_file(
    table: str, fmt: str, cache_dir: Path, reader: PublishedReader | ServerPublishedReader
) -> tuple[str, Path]:
    """(version, file) of a whole published table as Parquet or CSV: the version's own Parquet file,
    or on the server the table read there, written once per version in the same form."""
    if table not in PUBLISHED_TABLES:
        raise KeyError(table)
    if isinstance(reader, ServerPublishedReader):
        version = reader.current_version()
        if version is None:
            raise PackError("Nothing is published on the warehouse server yet: the warehouse has not run.", 1)
        parquet = cache_dir / version / f"{table}.parquet"
        if not parquet.exists():
            version, rows = reader.table(table)
            parquet = cache_dir / version / f"{table}.parquet"
            _write_once(parquet, lambda con, path: con.from_arrow(rows).write_parquet(str(path)))
    else:
        folder = publication.current_folder()
        if folder is None:
            raise PackError("Nothing is published yet: the warehouse has not run.", 1)
        version, parquet = folder.name, folder / f"{table}.parquet"
    if fmt == "parquet":
        return version, parquet
    target = cache_dir / version / f"{table}.csv"
    if not target.exists():
        _write_once(
            target,
            lambda con, path: con.execute(
                f"copy (select * from read_parquet('{parquet}')) to '{path}' (header, delimiter ',')"
            ),
        )
    return version, target


def _write_once(target: Path, write: Any) -> None:
    """Write `target` by `write(duckdb connection, path)` under a temporary name, then put it in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{threading.get_ident()}{target.suffix}")
    with duckdb.connect() as con:
        write(con, temporary)
    os.replace(temporary, target)


# -- packs ----------------------------------------------------------------------------------------

_pack_locks: dict[tuple[str, ...], threading.Lock] = {}
_pack_locks_guard = threading.Lock()


def pack_files(
    old_la_code: str, year: int | None, fmt: str, cache_dir: Path, views: PackViews, sharing: str
) -> list[Path]:
    """The pack's files (the CSV has its notes beside it), built from `views` (the portal's
    `Portal.pack_views`) once per published version and `sharing` (a key that changes whenever who
    shares with whom may have)."""
    version = publication.current_version() or "none"
    key = (version, sharing, old_la_code, str(year or "latest"), fmt)
    folder = cache_dir / version / sharing
    base = folder / f"{old_la_code}_{year or 'latest'}.{fmt}"
    notes = base.with_name(f"{base.stem}_notes.csv")
    wanted = [base, notes] if fmt == "csv" else [base]
    with _pack_locks_guard:
        lock = _pack_locks.setdefault(key, threading.Lock())
    with lock:
        if all(p.exists() for p in wanted):
            return wanted
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            written = packs.write_pack(old_la_code, year, fmt, views, out=Path(scratch) / base.name)
            if publication.current_version() != version:
                # Published again while building: hand this one out, but do not file it under the old version.
                keep = Path(tempfile.mkdtemp(dir=cache_dir))
                return [Path(shutil.move(str(p), keep / p.name)) for p in written]
            for produced in written:
                os.replace(produced, folder / produced.name)
    return wanted


def prune_caches(cache_dir: Path) -> None:
    """Drop cached packs and CSVs of versions that are no longer published."""
    current = publication.current_version()
    if not cache_dir.exists():
        return
    for child in cache_dir.iterdir():
        if child.is_dir() and child.name != current:
            shutil.rmtree(child, ignore_errors=True)


# -- publications, runs, quarantine ---------------------------------------------------------------


@dataclass(frozen=True)
class PublicationInfo:
    version: str
    current: bool
    manifest: dict[str, Any]


def publications() -> list[PublicationInfo]:
    root = publication.versions_dir()
    current = publication.current_version()
    if not root.exists():
        return []
    found = []
    for folder in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True):
        found.append(PublicationInfo(folder.name, folder.name == current, publication.read_manifest(folder.name) or {}))
    return found


def rollback() -> PublicationInfo:
    restored = publication.rollback()
    return PublicationInfo(restored.version, True, restored.manifest)


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    job: str
    status: str
    started: dt.datetime | None
    finished: dt.datetime | None
    partition: str | None


def dagster_runs(limit: int = 30) -> list[RunInfo]:
    """Runs recorded in the Dagster instance (UI, sensor, schedule under `make dev`; and
    `workforce run` when its storage is on the server)."""
    home = paths.dagster_home()
    has_storage = any(home.glob("**/*.db")) or paths.warehouse_server_url()
    if not (home / "dagster.yaml").exists() or not has_storage:
        return []
    import dagster as dg

    from orchestration.runner import DAGSTER_STORAGE_URL

    storage = paths.dagster_storage_url()
    if storage:  # what the instance's dagster.yaml reads: the server's, as `workforce run` sets it
        os.environ[DAGSTER_STORAGE_URL] = storage
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records(limit=limit)
    runs = []
    for record in records:
        run = record.dagster_run
        runs.append(
            RunInfo(
                run_id=run.run_id,
                job=run.job_name,
                status=run.status.value,
                started=dt.datetime.fromtimestamp(record.start_time, dt.UTC) if record.start_time else None,
                finished=dt.datetime.fromtimestamp(record.end_time, dt.UTC) if record.end_time else None,
                partition=run.tags.get("dagster/partition"),
            )
        )
    return runs


def run_logs(limit: int = 30) -> list[Path]:
    """Logs of `workforce run` (the CLI and the portal's republishes), newest first."""
    folder = paths.logs_dir()
    if not folder.exists():
        return []
    return sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]


@dataclass(frozen=True)
class QuarantineEntry:
    old_la_code: str
    year: int
    folder: Path
    quarantined_at: str
    sha256: str
    report_text: str


def quarantined(old_la_code: str | None = None) -> list[QuarantineEntry]:
    """Quarantined returns with their reports, newest first; one council's when `old_la_code` is given."""
    entries = []
    for entry in outcomes.quarantined_in(landing.RETURNS.name):
        if entry.partition is None or old_la_code not in (None, entry.partition[0]):
            continue
        report = entry.folder / "report.txt"
        entries.append(
            QuarantineEntry(
                old_la_code=entry.partition[0],
                year=entry.partition[1],
                folder=entry.folder,
                quarantined_at=f"{entry.written_at:%Y-%m-%d %H:%M} UTC",
                sha256=entry.folder.name,
                report_text=report.read_text(encoding="utf-8", errors="replace") if report.is_file() else "",
            )
        )
    return entries


def alert_settings() -> dict[str, str]:
    """The alert channel the warehouse is configured with (issue 9's alerts), secrets masked.

    The alert channel is configured by environment; values that look secret are never shown.
    """
    shown = {}
    for name, value in sorted(os.environ.items()):
        if name.startswith("WORKFORCE_ALERT"):
            secret = any(word in name for word in ("PASSWORD", "TOKEN", "SECRET", "KEY"))
            shown[name] = "•••••• (set)" if secret else value
    return shown
