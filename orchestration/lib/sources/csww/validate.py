"""Validate one CSWW return without loading it: what a council runs before sending one.

`validate_file` applies every return rule (the parser and rules.py) and, when the working
warehouse holds the council's previous return and can be opened read-only, the continuity queries.
It never writes to the warehouse and never fails because of it: when continuity cannot run, the
report says why. Importing this module loads neither Dagster nor Great Expectations, so the CLI
and the portal can call it cheaply.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib import paths
from orchestration.lib.load.pseudonym import Pseudonymiser, PseudonymKeyError, load_key
from orchestration.lib.sources.csww import continuity
from orchestration.lib.sources.csww.parser import parse_return
from orchestration.lib.sources.csww.report import ValidationReport


def validate_file(
    path: Path | str,
    *,
    old_la_code: str | None = None,
    year: int | None = None,
    warehouse: Path | None = None,
    check_continuity: bool = True,
    council_copy: bool = True,
) -> ValidationReport:
    """The validation report of the return at `path`.

    `old_la_code` and `year` are what the council means to send (as a landing-zone folder would
    say); the Header decides, and any difference is an error. `warehouse` defaults to the working
    warehouse. `council_copy` keeps each worker's SWE number in the report, for the council's own
    eyes only: pass False for a report that will be stored.
    """
    path = Path(path)
    key, people_note = _pseudonym_key()
    batches: list[pa.Table] = []
    swe_numbers: dict[int, str] = {}
    outcome = parse_return(
        path,
        expected_old_la_code=old_la_code,
        expected_year=year,
        pseudonymise=Pseudonymiser(key),
        on_batch=lambda batch: batches.append(batch.select(_STAGED_COLUMNS)),
        on_swe_number=swe_numbers.__setitem__ if council_copy else None,
    )
    report = ValidationReport.from_outcome(
        path.name, outcome, old_la_code=old_la_code, year=year, swe_numbers=swe_numbers
    )
    if check_continuity:
        _add_continuity(report, batches, warehouse or paths.warehouse_path(), people_note)
    return report


_STAGED_COLUMNS = [c for c in continuity.COLUMNS if c not in ("old_la_code", "collection_year")]


def _pseudonym_key() -> tuple[bytes, str]:
    """The warehouse's key, so workers match last year's pseudonyms; else a throwaway one, and why."""
    try:
        return load_key(), ""
    except PseudonymKeyError as error:
        return secrets.token_bytes(32), f"the warehouse's pseudonym key is not available here ({error})"


def _add_continuity(report: ValidationReport, batches: list[pa.Table], warehouse: Path, people_note: str) -> None:
    if report.old_la_code is None or report.year is None or not batches:
        report.notes.append("Continuity: skipped, because the return's council, year or workers could not be read.")
        return
    if not warehouse.exists():
        report.notes.append(f"Continuity: skipped, because there is no working warehouse at {warehouse}.")
        return
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        busy = "lock" in str(error).lower()
        reason = "another process (such as a load) is writing to it" if busy else str(error).splitlines()[0]
        report.notes.append(f"Continuity: skipped, because the warehouse could not be opened read-only: {reason}.")
        return
    rows = pa.concat_tables(batches)
    staged = rows.append_column("old_la_code", pa.array([report.old_la_code] * rows.num_rows, pa.string()))
    staged = staged.append_column("collection_year", pa.array([report.year] * rows.num_rows, pa.int32()))
    key = (report.old_la_code, report.year)
    try:
        with con:
            found = continuity.compare_with_previous(
                con,
                staged,
                files={key: report.file},
                people_comparable=not people_note,
                people_note=people_note,
            )
    except duckdb.Error as error:
        report.notes.append(f"Continuity: skipped, because the warehouse could not be read: {error}.")
        return
    result = found.get(key, continuity.Continuity())
    report.issues += result.issues
    report.notes += result.notes
