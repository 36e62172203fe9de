"""Load published statistics files (DfE CSWW releases, Ofsted outcomes) from the landing zone.

Each file is read through its column map, validated by its Great Expectations suite and only then
replaces the rows that the same file put there before. A refused file is quarantined with a report;
rows loaded earlier (from that file's previous version or from other files) stay as they were.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib import paths
from orchestration.lib.checks.expectations import SuiteOutcome, Validator
from orchestration.lib.sources import dfe_release, ofsted
from orchestration.lib.sources.published_csv import FileRejected
from orchestration.lib.warehouse import ensure_schemas, file_sha256, table_exists

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PublishedSource:
    """A kind of published file: where it lands, how it is read, where it loads, what checks it."""

    name: str
    schema: str
    table: str
    directory: Callable[[], Path]
    reader: Callable[[Path], pd.DataFrame]
    suite: str
    file_types: tuple[str, ...]
    """The file types (suffixes) its reader takes: the one list the landing zone's discovery reads too."""

    def files(self) -> list[Path]:
        """The files to load from its folder: those of a type it reads."""
        folder = self.directory()
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in self.file_types)

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"


DFE_INDICATORS = PublishedSource(
    name="dfe_csww_indicators",
    schema="raw_dfe",
    table="csww_indicators",
    directory=paths.dfe_releases_dir,
    reader=dfe_release.read_release,
    suite="raw_dfe__csww_indicators",
    file_types=dfe_release.FILE_TYPES,
)
OFSTED_INSPECTIONS = PublishedSource(
    name="ofsted_ilacs_inspections",
    schema="raw_ofsted",
    table="ilacs_inspections",
    directory=paths.ofsted_dir,
    reader=ofsted.read_outcomes,
    suite="raw_ofsted__ilacs_inspections",
    file_types=ofsted.FILE_TYPES,
)
PUBLISHED_SOURCES = (DFE_INDICATORS, OFSTED_INSPECTIONS)


@dataclass
class PublishedFileOutcome:
    path: Path
    status: str  # loaded | unchanged | quarantined
    sha256: str
    rows: int = 0
    message: str = ""
    report_path: Path | None = None


@dataclass
class PublishedLoadSummary:
    source: PublishedSource
    outcomes: list[PublishedFileOutcome] = field(default_factory=list)
    suites: list[SuiteOutcome] = field(default_factory=list)

    def with_status(self, status: str) -> list[PublishedFileOutcome]:
        return [o for o in self.outcomes if o.status == status]


def _history_ddl(schema: str) -> str:
    return (
        f"create table if not exists {schema}.load_history (source_file varchar, file_sha256 varchar, "
        "status varchar, row_count integer, message varchar, report_path varchar, run_id varchar, "
        "loaded_at timestamptz)"
    )


def _loaded_shas(con: duckdb.DuckDBPyConnection, source: PublishedSource) -> dict[str, str]:
    if not table_exists(con, source.schema, source.table):
        return {}
    rows = con.execute(f"select distinct source_file, file_sha256 from {source.qualified_table}").fetchall()
    return dict(rows)


def load_published(
    con: duckdb.DuckDBPyConnection,
    source: PublishedSource,
    *,
    validator: Validator,
    run_id: str,
    progress: Progress = lambda _: None,
) -> PublishedLoadSummary:
    ensure_schemas(con)
    con.execute(_history_ddl(source.schema))
    summary = PublishedLoadSummary(source)
    loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    current = _loaded_shas(con, source)
    files = source.files()
    if not files:
        progress(f"{source.name}: no files in {source.directory()}")
    for path in files:
        sha = file_sha256(path)
        if current.get(path.name) == sha:
            summary.outcomes.append(PublishedFileOutcome(path, "unchanged", sha))
            continue
        try:
            frame = source.reader(path)
        except FileRejected as exc:
            outcome = _quarantine(path, sha, str(exc), source, loaded_at)
        else:
            not_read = frame.attrs.get("not_read", [])
            frame["source_file"] = path.name
            frame["file_sha256"] = sha
            frame["loaded_at"] = pd.Timestamp(loaded_at)
            suite = validator.validate(frame, source.suite)
            summary.suites.append(suite)
            if suite.passed:
                _replace_file_rows(con, source, frame, path.name)
                note = f"sheets not read: {'; '.join(not_read)}" if not_read else ""
                outcome = PublishedFileOutcome(path, "loaded", sha, rows=len(frame), message=note)
            else:
                reasons = "; ".join(r.describe() for r in suite.blocking_failures)
                outcome = _quarantine(path, sha, f"{path.name} failed its checks: {reasons}", source, loaded_at)
        summary.outcomes.append(outcome)
        con.execute(
            f"insert into {source.schema}.load_history values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                path.name,
                sha,
                outcome.status,
                outcome.rows,
                outcome.message,
                str(outcome.report_path) if outcome.report_path else None,
                run_id,
                loaded_at,
            ],
        )
        note = f"; {outcome.message}" if outcome.status == "loaded" and outcome.message else ""
        progress(f"{source.name}: {path.name} {outcome.status} ({outcome.rows} rows){note}")
    return summary


def _replace_file_rows(
    con: duckdb.DuckDBPyConnection, source: PublishedSource, frame: pd.DataFrame, file_name: str
) -> None:
    con.register("incoming_file", frame)
    con.execute("begin transaction")
    try:
        if table_exists(con, source.schema, source.table):
            con.execute(f"delete from {source.qualified_table} where source_file = ?", [file_name])
            con.execute(f"insert into {source.qualified_table} by name select * from incoming_file")
        else:
            con.execute(f"create table {source.qualified_table} as select * from incoming_file")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("incoming_file")


def _quarantine(
    path: Path, sha: str, message: str, source: PublishedSource, loaded_at: dt.datetime
) -> PublishedFileOutcome:
    folder = paths.quarantine_dir() / source.name / f"{loaded_at:%Y%m%dT%H%M%SZ}_{sha[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, folder / path.name)
    (folder / "report.txt").write_text(
        f"{path.name} was not loaded.\n\n{message}\n\nRows loaded before from this or other files are unchanged.\n",
        encoding="utf-8",
    )
    return PublishedFileOutcome(path, "quarantined", sha, message=message, report_path=folder)
