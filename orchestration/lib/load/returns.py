"""Load council CSWW returns from the landing zone into the warehouse, one LA-year at a time.

A file is parsed in a stream into a Parquet file of its rows in a staging folder, checked by the
return rules and by the Great Expectations suites of the raw tables, and only then loaded into
`raw_csww`, a batch of whole returns per transaction, each replacing its LA-year. A file that fails
is quarantined with a report for the council and the warehouse keeps whatever it held for that
LA-year before. Reloading the same bytes
is a no-op; a resubmission (new bytes) supersedes the earlier file and the load history keeps both.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib import paths
from orchestration.lib.checks.expectations import SuiteOutcome, Validator, columns_used, merge_outcomes
from orchestration.lib.load.pseudonym import Pseudonymiser
from orchestration.lib.sources.csww import continuity
from orchestration.lib.sources.csww.issues import Issue, severity_counts
from orchestration.lib.sources.csww.parser import WORKER_SCHEMA, ParseOutcome, parse_return
from orchestration.lib.sources.csww.report import ValidationReport, write_report
from orchestration.lib.warehouse import ensure_schemas, file_sha256

Progress = Callable[[str], None]

WORKERS_SUITE = "raw_csww__workers"
LA_LEVEL_SUITE = "raw_csww__la_level"

# Provenance carried by every loaded row: which file, which bytes, when.
PROVENANCE = pa.schema(
    [
        ("old_la_code", pa.string()),
        ("collection_year", pa.int32()),
        ("source_file", pa.string()),
        ("file_sha256", pa.string()),
        ("loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)
LA_LEVEL_COLUMNS = {
    "number_of_vacancies": "double",
    "no_agency_fte": "double",
    "no_agency_headcount": "integer",
}
LOAD_HISTORY_DDL = """
create table if not exists raw_csww.load_history (
    old_la_code varchar,
    collection_year integer,
    source_file varchar,
    file_sha256 varchar,
    file_bytes bigint,
    status varchar,            -- loaded | quarantined | superseded
    workers integer,
    error_count integer,
    query_count integer,
    report_path varchar,
    message varchar,
    run_id varchar,
    loaded_at timestamptz
)
"""
RETURNS_DDL = """
create table if not exists raw_csww.returns (
    old_la_code varchar,
    collection_year integer,
    source_file varchar,
    file_sha256 varchar,
    loaded_at timestamptz,
    header_collection varchar,
    header_reference_date date,
    header_software_code varchar,
    header_generated_at varchar,
    workers integer,
    query_count integer
)
"""
# Parsing is CPU-bound Python: two processes on two cores nearly halve a full load. A handful of
# files (a resubmission) parse faster in process than worker processes take to start.
PARSE_PROCESSES = 2
PARALLEL_FROM_FILES = 8
# Worker rows validated, and then written, together: bounds memory at any volume. Each batch holds
# whole returns, so every per-return expectation is exact and every LA-year is replaced atomically.
BATCH_ROWS = 200_000


@dataclass(frozen=True)
class ReturnFile:
    """A return the landing zone's door let in (`lib/landing.py`); `old_la_code` and `year` are where it
    sits, checked against its Header."""

    path: Path
    old_la_code: str
    year: int

    @property
    def partition(self) -> tuple[str, int]:
        return (self.old_la_code, self.year)


@dataclass
class FileOutcome:
    file: ReturnFile
    status: str
    sha256: str
    workers: int = 0
    errors: int = 0
    queries: int = 0
    report_path: Path | None = None
    message: str = ""


@dataclass
class LoadSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)
    suites: list[SuiteOutcome] = field(default_factory=list)

    def with_status(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def rows_loaded(self) -> int:
        return sum(o.workers for o in self.with_status("loaded"))


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_schemas(con)
    con.execute(LOAD_HISTORY_DDL)
    con.execute(RETURNS_DDL)
    _rename_warning_counts(con)
    empty = _with_provenance(WORKER_SCHEMA.empty_table(), _Stamp("000", 0, "", "", _now()))
    con.register("empty_workers", empty)
    con.execute("create table if not exists raw_csww.workers as select * from empty_workers limit 0")
    con.unregister("empty_workers")
    la_columns = ", ".join(f"{name} {kind}" for name, kind in LA_LEVEL_COLUMNS.items())
    con.execute(
        "create table if not exists raw_csww.la_level (old_la_code varchar, collection_year integer, "
        f"source_file varchar, file_sha256 varchar, loaded_at timestamptz, {la_columns}, "
        "pay_flags map(varchar, varchar))"
    )


def _rename_warning_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouses made before the return's queries took DfE's name count them in warning_count."""
    for table in ("load_history", "returns"):
        old = con.execute(
            "select count(*) from information_schema.columns "
            "where table_schema = 'raw_csww' and table_name = ? and column_name = 'warning_count'",
            [table],
        ).fetchone()[0]
        if old:
            con.execute(f"alter table raw_csww.{table} rename column warning_count to query_count")


def loaded_shas(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], str]:
    rows = con.execute("select old_la_code, collection_year, file_sha256 from raw_csww.returns").fetchall()
    return {(la, int(year)): sha for la, year, sha in rows}


@dataclass(frozen=True)
class _Stamp:
    old_la_code: str
    year: int
    source_file: str
    sha256: str
    loaded_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _with_provenance(batch: pa.Table, stamp: _Stamp) -> pa.Table:
    n = batch.num_rows
    columns = [
        pa.array([stamp.old_la_code] * n, pa.string()),
        pa.array([stamp.year] * n, pa.int32()),
        pa.array([stamp.source_file] * n, pa.string()),
        pa.array([stamp.sha256] * n, pa.string()),
        pa.array([stamp.loaded_at] * n, pa.timestamp("us", tz="UTC")),
    ]
    return pa.Table.from_arrays(columns + batch.columns, schema=pa.unify_schemas([PROVENANCE, batch.schema]))


@dataclass(frozen=True)
class _ParseJob:
    file: ReturnFile
    sha256: str
    stamp: _Stamp
    pseudonym_key: bytes
    parquet: Path


@dataclass(frozen=True)
class _Staged:
    """A parsed return; if it passed the rules, it waits here for the table checks, rows in `rows`."""

    file: ReturnFile
    outcome: ParseOutcome
    sha256: str
    rows: Path | None


def _parse_to_parquet(job: _ParseJob) -> _Staged:
    """Parse one return (in a worker process) into a Parquet file of its rows, batch by batch."""
    writer: pq.ParquetWriter | None = None

    def write(batch: pa.Table) -> None:
        nonlocal writer
        table = _with_provenance(batch, job.stamp)
        if writer is None:
            writer = pq.ParquetWriter(job.parquet, table.schema)
        writer.write_table(table)

    try:
        outcome = parse_return(
            job.file.path,
            expected_old_la_code=job.file.old_la_code,
            expected_year=job.file.year,
            pseudonymise=Pseudonymiser(job.pseudonym_key),
            on_batch=write,
        )
    finally:
        if writer is not None:
            writer.close()
    if not outcome.ok:
        job.parquet.unlink(missing_ok=True)
    rows = job.parquet if writer is not None and outcome.ok else None
    return _Staged(job.file, outcome, job.sha256, rows)


def _parse_all(jobs: list[_ParseJob]) -> Iterator[_Staged]:
    if len(jobs) < PARALLEL_FROM_FILES:
        yield from map(_parse_to_parquet, jobs)
        return
    # spawn, not fork: the parent holds a DuckDB connection and Dagster's threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=PARSE_PROCESSES, mp_context=context) as pool:
        yield from pool.map(_parse_to_parquet, jobs, chunksize=4)


class ReturnLoader:
    """Loads a set of return files, quarantining the bad ones and replacing each good one's LA-year."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        pseudonym_key: bytes,
        validator: Validator,
        run_id: str,
        progress: Progress = lambda _: None,
    ) -> None:
        self.con = con
        self.pseudonym_key = pseudonym_key
        self.validator = validator
        self.run_id = run_id
        self.progress = progress
        self.loaded_at = _now()
        self.summary = LoadSummary()
        # Parsed, rule-abiding returns not yet in the warehouse: LA-year -> (file, parse, sha256, rows).
        self._pending: dict[tuple[str, int], _Staged] = {}
        self._staging = paths.warehouse_path().parent / f"staging_{run_id}"

    def load(self, files: list[ReturnFile], *, superseded: Iterable[ReturnFile] = ()) -> LoadSummary:
        ensure_tables(self.con)
        current = loaded_shas(self.con)
        for file in superseded:
            self._record_superseded(file)
        jobs = []
        for file in files:
            sha = file_sha256(file.path)
            if current.get(file.partition) == sha:
                self.summary.outcomes.append(FileOutcome(file, "unchanged", sha))
            else:
                jobs.append(self._job(file, sha, len(jobs)))
        self._staging.mkdir(parents=True, exist_ok=True)
        if jobs:
            self.validator.warm_up()
        try:
            self._stage(jobs)
            self._validate_pending()
            self._query_continuity()
            self._swap_in()
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)
        return self.summary

    # -- staging -----------------------------------------------------------------------------

    def _job(self, file: ReturnFile, sha: str, index: int) -> _ParseJob:
        source = str(file.path.relative_to(paths.raw_dir()))
        stamp = _Stamp(file.old_la_code, file.year, source, sha, self.loaded_at)
        return _ParseJob(file, sha, stamp, self.pseudonym_key, self._staging / f"{index:06d}.parquet")

    def _stage(self, jobs: list[_ParseJob]) -> None:
        """Parse every changed file into its own Parquet file; quarantine those that break the rules."""
        for index, staged in enumerate(_parse_all(jobs), start=1):
            if staged.outcome.ok:
                self._pending[staged.file.partition] = staged
            else:
                self._quarantine(staged.file, staged.sha256, staged.outcome.issues, staged.outcome)
            if index % 100 == 0 or index == len(jobs):
                self.progress(f"returns: {index}/{len(jobs)} files parsed")

    def _staged_rows(self, staged: Iterable[_Staged]) -> list[str]:
        return [str(s.rows) for s in staged if s.rows is not None]

    # -- validation --------------------------------------------------------------------------

    def _validate_pending(self) -> None:
        if not self._pending:
            return
        outcome = merge_outcomes(
            self.validator.validate(
                chunk, WORKERS_SUITE, id_columns=("old_la_code", "collection_year", "record_number")
            )
            for chunk in self._pending_worker_chunks()
        )
        la_level = self._la_level_frame(self._pending.values())
        la_outcome = self.validator.validate(la_level, LA_LEVEL_SUITE, id_columns=("old_la_code", "collection_year"))
        self.summary.suites.extend([outcome, la_outcome])
        failing: dict[tuple[str, int], list[Issue]] = {}
        for suite in (outcome, la_outcome):
            for result in suite.blocking_failures:
                for row in result.failing_rows or ():
                    key = (str(row["old_la_code"]), int(row["collection_year"]))
                    failing.setdefault(key, []).append(_suite_issue(self._pending[key].file, result, row))
                if not result.failing_rows:
                    # A table-level expectation failed: no single file to blame, so hold back all.
                    for key, staged in self._pending.items():
                        failing.setdefault(key, []).append(_suite_issue(staged.file, result, {}))
        for key, issues in failing.items():
            staged = self._pending.pop(key)
            self._quarantine(staged.file, staged.sha256, issues, staged.outcome)

    def _query_continuity(self) -> None:
        """Year-on-year continuity queries (csww/continuity.py) on every return about to be loaded."""
        staged = {key: s for key, s in self._pending.items() if s.rows is not None}
        if not staged:
            return
        files = {key: s.file.path.name for key, s in staged.items()}
        found = continuity.compare_with_previous(self.con, [s.rows for s in staged.values()], files=files)
        for key, result in found.items():
            staged[key].outcome.issues.extend(result.issues)
            staged[key].outcome.notes.extend(result.notes)

    def _batches(self) -> Iterator[list[_Staged]]:
        """The pending returns in batches of about BATCH_ROWS worker rows (whole returns each)."""
        batch: list[_Staged] = []
        rows = 0
        for staged in self._pending.values():
            batch.append(staged)
            rows += staged.outcome.workers
            if rows >= BATCH_ROWS:
                yield batch
                batch, rows = [], 0
        if batch:
            yield batch

    def _pending_worker_chunks(self) -> Iterator[pd.DataFrame]:
        """Staged worker rows, a batch at a time, with only the columns the suite reads: the list
        columns would cost seconds and gigabytes in pandas."""
        wanted = [*columns_used(WORKERS_SUITE), "old_la_code", "collection_year", "record_number"]
        columns = ", ".join(dict.fromkeys(wanted))
        for batch in self._batches():
            if rows := self._staged_rows(batch):
                yield self.con.execute(f"select {columns} from read_parquet(?)", [rows]).df()

    def _la_level_frame(self, batch: Iterable[_Staged]) -> pd.DataFrame:
        rows = []
        for staged in batch:
            old_la_code, year = staged.file.partition
            la_level = staged.outcome.la_level
            values = {name: la_level.get(name) for name in LA_LEVEL_COLUMNS}
            pay = {k: str(v) for k, v in la_level.items() if k not in LA_LEVEL_COLUMNS and v is not None}
            rows.append(
                {
                    "old_la_code": old_la_code,
                    "collection_year": year,
                    "source_file": str(staged.file.path.relative_to(paths.raw_dir())),
                    "file_sha256": staged.sha256,
                    "loaded_at": self.loaded_at,
                    **values,
                    "pay_flags": pay,
                }
            )
        return pd.DataFrame(rows)

    # -- publish into raw_csww -----------------------------------------------------------------

    def _swap_in(self) -> None:
        """Replace each pending LA-year in the warehouse, one batch of returns per transaction.

        A batch commits whole or not at all, so a run killed in between leaves every LA-year either
        as it was or fully replaced; the next run loads whatever is still different.
        """
        for batch in self._batches():
            self._swap_batch(batch)

    def _swap_batch(self, batch: list[_Staged]) -> None:
        con = self.con
        con.execute("begin transaction")
        try:
            la_level = self._la_level_frame(batch)
            con.register("incoming_la_level", la_level)
            con.execute(
                "create or replace temp table incoming_keys as "
                "select distinct old_la_code, collection_year from incoming_la_level"
            )
            for table in ("workers", "la_level", "returns"):
                con.execute(
                    f"delete from raw_csww.{table} t using incoming_keys k "
                    "where t.old_la_code = k.old_la_code and t.collection_year = k.collection_year"
                )
            con.execute(
                "update raw_csww.load_history h set status = 'superseded' from incoming_keys k "
                "where h.old_la_code = k.old_la_code and h.collection_year = k.collection_year "
                "and h.status = 'loaded'"
            )
            if worker_rows := self._staged_rows(batch):
                con.execute("insert into raw_csww.workers by name select * from read_parquet(?)", [worker_rows])
            con.execute("insert into raw_csww.la_level by name select * from incoming_la_level")
            con.unregister("incoming_la_level")
            for staged in batch:
                self._record_loaded(staged.file, staged.outcome, staged.sha256)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise

    def _record_loaded(self, file: ReturnFile, parsed: ParseOutcome, sha: str) -> None:
        header = parsed.header
        queries = _count(parsed.issues, "query")
        source = str(file.path.relative_to(paths.raw_dir()))
        self.con.execute(
            "insert into raw_csww.returns values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                file.old_la_code,
                file.year,
                source,
                sha,
                self.loaded_at,
                header.collection if header else None,
                header.reference_date if header else None,
                header.software_code if header else None,
                str(header.generated_at) if header and header.generated_at else None,
                parsed.workers,
                queries,
            ],
        )
        report = self._write_report(file, sha, parsed.issues, parsed) if queries else None
        self._history(file, sha, "loaded", parsed.workers, 0, queries, report, "loaded")
        self.summary.outcomes.append(FileOutcome(file, "loaded", sha, parsed.workers, 0, queries, report))

    def _record_superseded(self, file: ReturnFile) -> None:
        sha = file_sha256(file.path)
        message = "a newer file for the same LA and year sits in the same folder"
        self._history(file, sha, "superseded", 0, 0, 0, None, message)
        self.summary.outcomes.append(FileOutcome(file, "superseded", sha, message=message))

    # -- quarantine ----------------------------------------------------------------------------

    def _quarantine(self, file: ReturnFile, sha: str, issues: list[Issue], parsed: ParseOutcome) -> None:
        report = self._write_report(file, sha, issues, parsed, quarantine=True)
        errors, queries = _count(issues, "error"), _count(issues, "query")
        first = next((i for i in issues if i.severity == "error"), None)
        message = first.message if first else "failed validation"
        self._history(file, sha, "quarantined", 0, errors, queries, report, message)
        self.summary.outcomes.append(FileOutcome(file, "quarantined", sha, 0, errors, queries, report, message))

    def _write_report(
        self,
        file: ReturnFile,
        sha: str,
        issues: list[Issue],
        parsed: ParseOutcome,
        *,
        quarantine: bool = False,
    ) -> Path:
        stamp = self.loaded_at.strftime("%Y%m%dT%H%M%SZ")
        base = paths.quarantine_dir() if quarantine else paths.reports_dir() / "returns"
        folder = base / file.old_la_code / str(file.year) / f"{stamp}_{sha[:12]}"
        folder.mkdir(parents=True, exist_ok=True)
        if quarantine:
            shutil.copy2(file.path, folder / file.path.name)
        report = ValidationReport.from_outcome(
            file.path.name, parsed, issues=issues, old_la_code=file.old_la_code, year=file.year
        )
        write_report(report, folder)
        return folder

    def _history(
        self,
        file: ReturnFile,
        sha: str,
        status: str,
        workers: int,
        errors: int,
        queries: int,
        report: Path | None,
        message: str,
    ) -> None:
        self.con.execute(
            "insert into raw_csww.load_history values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                file.old_la_code,
                file.year,
                str(file.path.relative_to(paths.raw_dir())),
                sha,
                file.path.stat().st_size,
                status,
                workers,
                errors,
                queries,
                str(report) if report else None,
                message,
                self.run_id,
                self.loaded_at,
            ],
        )


def _count(issues: list[Issue], severity: str) -> int:
    """Issues of one severity, including those a capped rule summarised as "and N more"."""
    return severity_counts(issues)[severity]


def _suite_issue(file: ReturnFile, result, row: dict) -> Issue:
    record = row.get("record_number")
    return Issue(
        file=file.path.name,
        line=None,
        record=int(record) if record is not None else None,
        element=result.column,
        value=None,
        rule=f"table-check:{result.expectation}",
        message=f"The loaded table failed a warehouse check: {result.describe()}",
        severity="error",
    )
