"""Load published statistics files (DfE CSWW releases, Ofsted outcomes) from the landing zone.

Each file is read through its column map, validated by its Great Expectations suite and only then
replaces the rows that the same file put there before. A refused file is quarantined with a report;
rows loaded earlier (from that file's previous version or from other files) stay as they were.
A release that brings a new column (mapped in its column-map seed) adds it to the table; rows
from earlier files read NULL there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib import landing
from orchestration.lib.checks.expectations import Validator
from orchestration.lib.load import outcomes
from orchestration.lib.load.outcomes import LOADED, QUARANTINED, UNCHANGED, FileOutcome, LoadSummary
from orchestration.lib.private_files import secure_personal_data, write_private_text
from orchestration.lib.sources import dfe_release, ofsted
from orchestration.lib.sources.published_csv import FileRejected
from orchestration.lib.warehouse import ensure_schemas, evolve_table, file_sha256, relation_columns, table_exists

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PublishedSource:
    """A kind of published file: how it is read, where it loads, what checks it.

    Where it lands, and which files there are loaded, is the landing zone's business (`lib/landing.py`,
    the source of the same name).
    """

    name: str
    schema: str
    table: str
    reader: Callable[[Path], pd.DataFrame]
    suite: str

    @property
    def landing_source(self) -> landing.Source:
        """Where its files land and which of them are loaded."""
        return landing.source_named(self.name)

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"


DFE_INDICATORS = PublishedSource(
    name="dfe_csww_indicators",
    schema="raw_dfe",
    table="csww_indicators",
    reader=dfe_release.read_release,
    suite="raw_dfe__csww_indicators",
)
OFSTED_INSPECTIONS = PublishedSource(
    name="ofsted_ilacs_inspections",
    schema="raw_ofsted",
    table="ilacs_inspections",
    reader=ofsted.read_outcomes,
    suite="raw_ofsted__ilacs_inspections",
)
PUBLISHED_SOURCES = (DFE_INDICATORS, OFSTED_INSPECTIONS)


def _loaded_shas(con: duckdb.DuckDBPyConnection, source: PublishedSource) -> dict[str, str]:
    if not table_exists(con, source.schema, source.table):
        return {}
    rows = con.execute(f"select distinct source_file, file_sha256 from {source.qualified_table}").fetchall()
    return dict(rows)


def load_published(
    con: duckdb.DuckDBPyConnection,
    source: PublishedSource,
    *,
    files: list[Path],
    validator: Validator,
    run_id: str,
    progress: Progress = lambda _: None,
) -> LoadSummary:
    secure_personal_data()
    outcomes.purge(progress=progress)
    ensure_schemas(con)
    outcomes.ensure_history(con, source.schema)
    summary = LoadSummary()
    loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    current = _loaded_shas(con, source)
    if not files:
        progress(f"{source.name}: no files to load in the landing zone")
    for path in files:
        sha = file_sha256(path)
        if current.get(path.name) == sha:
            summary.outcomes.append(FileOutcome(path, UNCHANGED, sha))
            continue
        if entry := outcomes.still_quarantined(source.name, sha, None):
            outcome = outcomes.still_quarantined_outcome(entry, path, sha)
            summary.outcomes.append(outcome)
            progress(f"{source.name}: {path.name} {outcome.message}")
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
                if added := _replace_file_rows(con, source, frame, path.name):
                    progress(f"{source.name}: new columns from {path.name}: {', '.join(added)}")
                # A spreadsheet's sheets that hold no table of the source are named, never skipped silently.
                note = f"sheets not read: {'; '.join(not_read)}" if not_read else LOADED
                outcome = FileOutcome(path, LOADED, sha, rows=len(frame), message=note)
            else:
                reasons = "; ".join(r.describe() for r in suite.blocking_failures)
                outcome = _quarantine(path, sha, f"{path.name} failed its checks: {reasons}", source, loaded_at)
        summary.outcomes.append(outcome)
        outcomes.record_history(con, source.schema, [outcome], run_id=run_id, at=loaded_at)
        note = f"; {outcome.message}" if outcome.status == LOADED and outcome.message != LOADED else ""
        progress(f"{source.name}: {path.name} {outcome.status} ({outcome.rows} rows){note}")
    return summary


def _replace_file_rows(
    con: duckdb.DuckDBPyConnection, source: PublishedSource, frame: pd.DataFrame, file_name: str
) -> list[str]:
    """Replace the rows this file loaded before; returns the columns new in this release, now added."""
    con.register("incoming_file", frame)
    con.execute("begin transaction")
    try:
        added = evolve_table(con, source.qualified_table, relation_columns(con, "incoming_file"))
        con.execute(f"delete from {source.qualified_table} where source_file = ?", [file_name])
        con.execute(f"insert into {source.qualified_table} by name select * from incoming_file")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("incoming_file")
    return added


def _quarantine(path: Path, sha: str, message: str, source: PublishedSource, loaded_at: dt.datetime) -> FileOutcome:
    """Keep the refused file as sent with a short report; the caller records it in the history."""
    outcome = FileOutcome(path, QUARANTINED, sha, errors=1, message=message)
    outcome.report_path = outcomes.quarantine(outcome, source.name, final=True, at=loaded_at)
    write_private_text(
        outcome.report_path / "report.txt",
        f"{path.name} was not loaded.\n\n{message}\n\nRows loaded before from this or other files are unchanged.\n",
    )
    return outcome
