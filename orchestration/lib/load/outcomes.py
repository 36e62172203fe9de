"""What became of each file a loader was given: one outcome type, one load history, one quarantine.

Every loader (council returns, published statistics files) reports each file as a `FileOutcome`,
records each judgement in `<raw schema>.load_history` (the same columns for every source), and
puts a refused file in the quarantine in one layout:

    data/quarantine/<source>/<sha256>/
        <the file as sent>
        entry.json          which file, where it sat, when first quarantined, why, by which rules
        report files        what to fix, written by the loader

One entry per file content: a rerun never adds a second, and bytes already quarantined are not
read again but reported as still quarantined, unless the rules that judged them have changed
since (`rules_version`) or the file now sits in another LA-year. Reports on returns that loaded
with queries use the same layout under `data/reports/returns/<sha256>/`.

Both hold personal data (a return as sent has SWE numbers and birth dates), so both are owner-only
and kept for a limited time: WORKFORCE_QUARANTINE_RETENTION_DAYS days after they were first
written (default 90). Every load removes what has expired (`purge`), and so does
`workforce quarantine purge`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib import paths
from orchestration.lib.checks.expectations import SuiteOutcome
from orchestration.lib.private_files import copy_private, private_dir, write_private_text
from orchestration.lib.warehouse import arrow_columns, evolve_table, rename_column

LOADED, UNCHANGED, QUARANTINED, SUPERSEDED = "loaded", "unchanged", "quarantined", "superseded"


@dataclass
class FileOutcome:
    """What happened to one file in the landing zone."""

    path: Path
    status: str
    """loaded | unchanged (same bytes as loaded before) | quarantined | superseded"""
    sha256: str
    rows: int = 0
    errors: int = 0
    queries: int = 0
    """Findings worth confirming that do not stop a file (DfE's *queries* for a return)."""
    report_path: Path | None = None
    message: str = ""
    partition: tuple[str, int] | None = None
    """(old_la_code, collection_year) for a council return; None for a published file."""
    still_quarantined: bool = False
    """Quarantined in an earlier run and not read again: the same bytes, judged by the same rules."""


@dataclass
class LoadSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)
    suites: list[SuiteOutcome] = field(default_factory=list)

    def with_status(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows for o in self.with_status(LOADED))


def landing_name(path: Path) -> str:
    """A file as named in history and reports: its path within the landing zone."""
    try:
        return str(path.relative_to(paths.raw_dir()))
    except ValueError:
        return str(path)


# -- load history --------------------------------------------------------------------------------

HISTORY_SCHEMA = pa.schema(
    [
        ("old_la_code", pa.string()),  # council returns only
        ("collection_year", pa.int32()),  # council returns only
        ("source_file", pa.string()),
        ("file_sha256", pa.string()),
        ("file_bytes", pa.int64()),
        ("status", pa.string()),
        ("row_count", pa.int32()),
        ("error_count", pa.int32()),
        ("query_count", pa.int32()),
        ("report_path", pa.string()),
        ("message", pa.string()),
        ("run_id", pa.string()),
        ("loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)


def ensure_history(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    table = f"{schema}.load_history"
    # Council-return history before the loaders shared one schema counted rows as `workers`.
    rename_column(con, table, "workers", "row_count")
    # ... and, before the return's findings took DfE's names, counted queries as warnings.
    rename_column(con, table, "warning_count", "query_count")
    # ... and, before the council code had one name everywhere, called it la_code.
    rename_column(con, table, "la_code", "old_la_code")
    evolve_table(con, table, arrow_columns(con, HISTORY_SCHEMA))


def record_history(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    outcomes: Iterable[FileOutcome],
    *,
    run_id: str,
    at: dt.datetime,
) -> None:
    """One history row per judgement, written in one statement (files are counted in thousands)."""
    rows = [
        {
            "old_la_code": o.partition[0] if o.partition else None,
            "collection_year": o.partition[1] if o.partition else None,
            "source_file": landing_name(o.path),
            "file_sha256": o.sha256,
            "file_bytes": _size(o.path),
            "status": o.status,
            "row_count": o.rows,
            "error_count": o.errors,
            "query_count": o.queries,
            "report_path": str(o.report_path) if o.report_path else None,
            "message": o.message,
            "run_id": run_id,
            "loaded_at": at,
        }
        for o in outcomes
    ]
    if not rows:
        return
    con.register("incoming_history", pa.Table.from_pylist(rows, schema=HISTORY_SCHEMA))
    try:
        con.execute(f"insert into {schema}.load_history by name select * from incoming_history")
    finally:
        con.unregister("incoming_history")


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


# -- the rules a verdict depends on --------------------------------------------------------------

_RULE_SOURCES = (
    (paths.PROJECT_ROOT / "orchestration" / "lib" / "sources", "**/*.py"),
    (paths.EXPECTATIONS_DIR, "raw_*.json"),
    (paths.REFERENCE_SEEDS_DIR, "*.csv"),
)
"""Readers, return rules, raw-table suites and reference lists: a change to any may change a verdict."""


@cache
def rules_version() -> str:
    digest = hashlib.sha256()
    for folder, pattern in _RULE_SOURCES:
        for path in sorted(folder.glob(pattern)):
            digest.update(str(path.relative_to(paths.PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# -- entries: quarantine and return reports --------------------------------------------------------

ENTRY_FILE = "entry.json"
RETENTION_ENV = "WORKFORCE_QUARANTINE_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 90


@dataclass(frozen=True)
class Entry:
    """A folder kept about one file (by sha256): quarantined as sent, or a report on it."""

    folder: Path
    file: str
    """Where the file sat in the landing zone."""
    written_at: dt.datetime
    """When this content was first quarantined or reported: retention counts from here."""
    partition: tuple[str, int] | None = None
    message: str = ""
    rules_version: str = ""
    final: bool = False
    """The verdict depends on the file alone (not on other files loaded with it)."""

    def describe(self) -> str:
        where = f" ({self.partition[0]}/{self.partition[1]})" if self.partition else ""
        return f"{self.file}{where}, written {self.written_at:%Y-%m-%d}"


def _entry_json(entry: Entry) -> str:
    return json.dumps(
        {
            "file": entry.file,
            "written_at": entry.written_at.isoformat(),
            "partition": list(entry.partition) if entry.partition else None,
            "message": entry.message,
            "rules_version": entry.rules_version,
            "final": entry.final,
        },
        indent=2,
    )


def read_entry(folder: Path) -> Entry | None:
    """The entry in `folder`; for a folder written before entries were recorded, dated by its files."""
    try:
        data = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
        if not files:
            return None
        newest = max(p.stat().st_mtime for p in files)
        return Entry(folder, folder.name, dt.datetime.fromtimestamp(newest, dt.UTC))
    except (OSError, ValueError):
        return None
    partition = data.get("partition")
    return Entry(
        folder=folder,
        file=data["file"],
        written_at=dt.datetime.fromisoformat(data["written_at"]),
        partition=(str(partition[0]), int(partition[1])) if partition else None,
        message=data.get("message", ""),
        rules_version=data.get("rules_version", ""),
        final=bool(data.get("final")),
    )


def quarantine_folder(source: str, sha256: str) -> Path:
    return paths.quarantine_dir() / source / sha256


def quarantined_in(source: str) -> list[Entry]:
    """One source's quarantine entries, newest first."""
    root = paths.quarantine_dir() / source
    found = [read_entry(folder) for folder in root.iterdir() if folder.is_dir()] if root.is_dir() else []
    return sorted((e for e in found if e is not None), key=lambda e: e.written_at, reverse=True)


def still_quarantined(source: str, sha256: str, partition: tuple[str, int] | None) -> Entry | None:
    """The entry for these bytes if they need not be read again: same place, same rules, own fault."""
    entry = read_entry(quarantine_folder(source, sha256))
    if entry is None or not entry.final or entry.partition != partition or entry.rules_version != rules_version():
        return None
    return entry


def still_quarantined_outcome(entry: Entry, path: Path, sha256: str) -> FileOutcome:
    return FileOutcome(
        path,
        QUARANTINED,
        sha256,
        report_path=entry.folder,
        message=f"still quarantined: the same file was refused on {entry.written_at:%Y-%m-%d}. {entry.message}",
        partition=entry.partition,
        still_quarantined=True,
    )


def quarantine(outcome: FileOutcome, source: str, *, final: bool, at: dt.datetime) -> Path:
    """Keep a refused file as sent, owner-only, in its one entry; returns the entry's folder.

    A file judged again (the rules changed, or it moved) replaces its entry's contents but keeps
    the date it was first quarantined.
    """
    return _write_entry(
        quarantine_folder(source, outcome.sha256),
        outcome,
        final=final,
        at=at,
        keep=outcome.path,
    )


def report_folder(outcome: FileOutcome, *, at: dt.datetime) -> Path:
    """The entry for a report on a file that loaded with queries (the file itself is not kept)."""
    return _write_entry(paths.return_reports_dir() / outcome.sha256, outcome, final=True, at=at, keep=None)


def _write_entry(folder: Path, outcome: FileOutcome, *, final: bool, at: dt.datetime, keep: Path | None) -> Path:
    previous = read_entry(folder)
    if folder.exists():
        shutil.rmtree(folder)
    private_dir(folder.parent)
    private_dir(folder)
    if keep is not None and not keep.is_symlink():  # a link could point anywhere: never copied
        copy_private(keep, folder / keep.name)
    entry = Entry(
        folder=folder,
        file=landing_name(outcome.path),
        written_at=previous.written_at if previous else at,
        partition=outcome.partition,
        message=outcome.message,
        rules_version=rules_version(),
        final=final,
    )
    write_private_text(folder / ENTRY_FILE, _entry_json(entry))
    return folder


# -- retention ----------------------------------------------------------------------------------


class RetentionError(ValueError):
    """The retention setting is not a whole number of days."""


def retention_days() -> int:
    text = os.environ.get(RETENTION_ENV, "").strip()
    if not text:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(text)
    except ValueError:
        days = -1
    if days < 1:
        raise RetentionError(f"{RETENTION_ENV}={text!r}: give the number of days to keep quarantined files, e.g. 90.")
    return days


def entries() -> list[Entry]:
    """Every quarantine entry and return report, oldest first."""
    found = []
    roots = [paths.quarantine_dir(), paths.return_reports_dir()]
    for root in roots:
        if not root.is_dir():
            continue
        for folder, _dirs, files in os.walk(root):
            if files and Path(folder) not in roots:
                entry = read_entry(Path(folder))
                if entry is not None:
                    found.append(entry)
    return sorted(found, key=lambda e: e.written_at)


def purge(
    *,
    older_than_days: int | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Entry]:
    """Remove entries written more than the retention period ago; returns what was (or would be) removed."""
    days = retention_days() if older_than_days is None else older_than_days
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    expired = [e for e in entries() if e.written_at < cutoff]
    for entry in expired:
        if not dry_run:
            shutil.rmtree(entry.folder, ignore_errors=True)
            _remove_empty_parents(entry.folder)
        progress(f"{'would remove' if dry_run else 'removed'} {entry.folder}: {entry.describe()}")
    return expired


def _remove_empty_parents(folder: Path) -> None:
    stop = {paths.quarantine_dir(), paths.return_reports_dir()}
    parent = folder.parent
    while parent not in stop and parent != parent.parent and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
