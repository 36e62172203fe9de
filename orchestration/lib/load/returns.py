"""Load council CSWW returns from the landing zone into the warehouse, one LA-year at a time.

A file is parsed in a stream into a Parquet file of its rows in a staging folder (staging.py),
checked by the return rules and by the Great Expectations suites of the raw tables (evaluated by
DuckDB over the staged rows, see staged_checks.py), and only then loaded into `raw_csww`, a batch
of whole returns per transaction, each replacing its LA-year. A file that fails is quarantined
with a report for the council and the warehouse keeps whatever it held for that LA-year before.
Reloading the same bytes is a no-op, and so is meeting bytes already quarantined (see
outcomes.py); a resubmission (new bytes) supersedes the earlier file and the load history keeps
both. The raw tables take any column a new CSWW element brings (warehouse.evolve_table).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib import landing, paths
from orchestration.lib.checks.expectations import (
    ExpectationOutcome,
    SuiteOutcome,
    Validator,
    columns_used,
    merge_outcomes,
)
from orchestration.lib.load import outcomes, staged_checks, staging
from orchestration.lib.load.outcomes import LOADED, QUARANTINED, SUPERSEDED, UNCHANGED, FileOutcome, LoadSummary
from orchestration.lib.load.staging import Stamp
from orchestration.lib.private_files import private_dir, secure_personal_data
from orchestration.lib.sources.csww import continuity
from orchestration.lib.sources.csww import parser as csww_parser
from orchestration.lib.sources.csww.issues import Issue, severity_counts
from orchestration.lib.sources.csww.parser import ParseOutcome
from orchestration.lib.sources.csww.report import ValidationReport, write_report
from orchestration.lib.warehouse import (
    arrow_columns,
    ensure_schemas,
    evolve_table,
    file_sha256,
    relation_columns,
    rename_column,
)

Progress = Callable[[str], None]

SOURCE = landing.RETURNS.name
"""This source's name in the quarantine (data/quarantine/csww_returns/<sha256>/)."""
SCHEMA = "raw_csww"
WORKERS_SUITE = "raw_csww__workers"
LA_LEVEL_SUITE = "raw_csww__la_level"

RETURNS_SCHEMA = pa.unify_schemas(
    [
        staging.PROVENANCE,
        pa.schema(
            [
                ("header_collection", pa.string()),
                ("header_reference_date", pa.date32()),
                ("header_software_code", pa.string()),
                ("header_generated_at", pa.string()),
                ("workers", pa.int32()),
                ("query_count", pa.int32()),
            ]
        ),
    ]
)
"""raw_csww.returns: one row per LA-year loaded, with the file and the Header it came with."""

# Worker rows written to the warehouse in one transaction: bounds memory at any volume. Each batch
# holds whole returns, so every LA-year is replaced atomically.
BATCH_ROWS = 100_000


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


def worker_schema() -> pa.Schema:
    """The columns of raw_csww.workers: provenance, then one per CSWWWorker element of any year."""
    return pa.unify_schemas([staging.PROVENANCE, csww_parser.WORKER_SCHEMA])


def la_level_schema() -> pa.Schema:
    """The columns of raw_csww.la_level: provenance, then one per LA-level element of any year."""
    return pa.unify_schemas([staging.PROVENANCE, csww_parser.LA_LEVEL_SCHEMA])


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the return tables, or add the columns a newer specification brings."""
    ensure_schemas(con)
    outcomes.ensure_history(con, SCHEMA)
    # Returns loaded before the return's findings took DfE's names counted queries as warnings.
    rename_column(con, f"{SCHEMA}.returns", "warning_count", "query_count")
    # ... and, before the council code had one name everywhere, called it la_code.
    for table in ("returns", "workers", "la_level"):
        rename_column(con, f"{SCHEMA}.{table}", "la_code", "old_la_code")
    evolve_table(con, f"{SCHEMA}.returns", arrow_columns(con, RETURNS_SCHEMA))
    evolve_table(con, f"{SCHEMA}.workers", arrow_columns(con, worker_schema()))
    evolve_table(con, f"{SCHEMA}.la_level", arrow_columns(con, la_level_schema()))


def loaded_shas(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], str]:
    rows = con.execute("select old_la_code, collection_year, file_sha256 from raw_csww.returns").fetchall()
    return {(la, int(year)): sha for la, year, sha in rows}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class _Staged:
    """A parsed return; if it passed the rules, it waits here for the table checks, rows in `rows`."""

    file: ReturnFile
    outcome: ParseOutcome
    sha256: str
    rows: Path | None


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
        self._staging = paths.warehouse_path().parent / f"staging_{run_id}"

    def load(self, files: list[ReturnFile]) -> LoadSummary:
        secure_personal_data()
        outcomes.purge(progress=self.progress)
        ensure_tables(self.con)
        current = loaded_shas(self.con)
        changed: dict[tuple[str, int], tuple[ReturnFile, str]] = {}  # one file per LA-year: the last given
        for file in files:
            sha = file_sha256(file.path)
            if current.get(file.partition) == sha:
                self.summary.outcomes.append(FileOutcome(file.path, UNCHANGED, sha, partition=file.partition))
            elif entry := outcomes.still_quarantined(SOURCE, sha, file.partition):
                self.summary.outcomes.append(outcomes.still_quarantined_outcome(entry, file.path, sha))
            else:
                changed[file.partition] = (file, sha)
        private_dir(self._staging)
        if changed and not all(staged_checks.supports(suite) for suite in (WORKERS_SUITE, LA_LEVEL_SUITE)):
            self.validator.warm_up()
        try:
            # In LA-year order: a council's earlier year is loaded in an earlier batch or staged in the
            # same one, so its continuity queries see it.
            for batch in self._batches(self._staged(sorted(changed.values(), key=lambda c: c[0].partition))):
                self._load_batch(batch)
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)
        self._merge_suite_outcomes()
        return self.summary

    # -- staging -----------------------------------------------------------------------------

    def _staged(self, changed: list[tuple[ReturnFile, str]]) -> Iterator[_Staged]:
        """Parse the changed files into Parquet files of rows, in worker processes; yields each return
        that keeps the rules as soon as its file is written, and quarantines the others."""
        returns = [
            (file.path, Stamp(file.old_la_code, file.year, outcomes.landing_name(file.path), sha, self.loaded_at))
            for file, sha in changed
        ]
        jobs = staging.plan(returns, self.pseudonym_key, self._staging)
        files = iter(changed)
        done = 0
        for job, parsed in zip(jobs, staging.parse_all(jobs), strict=True):
            refused = []
            for outcome in parsed:
                file, sha = next(files)
                staged = _Staged(file, outcome, sha, job.parquet if outcome.ok and outcome.workers else None)
                if outcome.ok:
                    yield staged
                else:
                    refused.append(self._quarantine(staged, outcome.issues, final=True))
            outcomes.record_history(self.con, SCHEMA, refused, run_id=self.run_id, at=self.loaded_at)
            done += len(parsed)
            self.progress(f"returns: {done}/{len(changed)} files parsed")

    def _staged_workers(self, staged: Iterable[_Staged], view: str) -> None:
        """A view of the staged worker rows of these returns (their Parquet files may hold others')."""
        staged = list(staged)
        files = sorted({str(s.rows) for s in staged if s.rows is not None})
        if not files:
            rows = self.con.from_arrow(worker_schema().empty_table())
        else:
            rows = self.con.read_parquet(files).join(
                self.con.from_arrow(_staged_keys(staged)), "old_la_code, collection_year, file_sha256", how="semi"
            )
        rows.create_view(view, replace=True)

    @staticmethod
    def _batches(staged: Iterable[_Staged]) -> Iterator[list[_Staged]]:
        """Returns in batches of about BATCH_ROWS worker rows (whole returns each), each batch as soon
        as it is parsed: the batch loads while the worker processes parse the next."""
        batch: list[_Staged] = []
        rows = 0
        for one in staged:
            batch.append(one)
            rows += one.outcome.workers
            if rows >= BATCH_ROWS:
                yield batch
                batch, rows = [], 0
        if batch:
            yield batch

    # -- into raw_csww: load, check, keep or drop ------------------------------------------------

    def _merge_suite_outcomes(self) -> None:
        """One outcome per suite for the whole load, from its batches."""
        by_suite: dict[str, list[SuiteOutcome]] = {}
        for suite in self.summary.suites:
            by_suite.setdefault(suite.suite, []).append(suite)
        self.summary.suites = [merge_outcomes(batches) for batches in by_suite.values()]

    def _load_batch(self, batch: list[_Staged]) -> None:
        """Check a batch of returns, then load those that pass in one transaction.

        The raw tables' suites are evaluated over the staged rows themselves (no copy); a return
        that fails is quarantined and the others replace their LA-years. A batch commits whole or
        not at all, so a run killed in between leaves every LA-year either as it was or fully
        replaced; the next run loads whatever is still different.
        """
        con = self.con
        refused = self._check_batch(batch)
        kept = [staged for staged in batch if staged.file.partition not in refused]
        self._staged_workers(kept, "incoming_workers")
        self._query_continuity(kept)
        con.execute("begin transaction")
        try:
            evolve_table(con, f"{SCHEMA}.workers", relation_columns(con, "incoming_workers"))
            self._replace(kept)
            loaded = [self._loaded_outcome(staged) for staged in kept]
            outcomes.record_history(con, SCHEMA, [*refused.values(), *loaded], run_id=self.run_id, at=self.loaded_at)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        self.summary.outcomes.extend(loaded)

    def _check_batch(self, batch: list[_Staged]) -> dict[tuple[str, int], FileOutcome]:
        """The raw suites over the batch's staged rows; quarantines the returns that fail, by LA-year."""
        self._staged_workers(batch, "batch_workers")
        self.con.from_arrow(self._la_level_table(batch)).create_view("batch_la_level", replace=True)
        suites = [
            self._check(WORKERS_SUITE, "batch_workers", ("old_la_code", "collection_year", "record_number")),
            self._check(LA_LEVEL_SUITE, "batch_la_level", ("old_la_code", "collection_year")),
        ]
        self.summary.suites.extend(suites)
        by_partition = {staged.file.partition: staged for staged in batch}
        failing: dict[tuple[str, int], list[Issue]] = {}
        # A table-level expectation names no file: every return is held back, and judged afresh next time.
        table_level = False
        for suite in suites:
            for result in suite.blocking_failures:
                for row in result.failing_rows or ():
                    key = (str(row["old_la_code"]), int(row["collection_year"]))
                    failing.setdefault(key, []).append(_suite_issue(by_partition[key].file, result, row))
                if not result.failing_rows:
                    table_level = True
                    for key, staged in by_partition.items():
                        failing.setdefault(key, []).append(_suite_issue(staged.file, result, {}))
        return {
            key: self._quarantine(by_partition[key], issues, final=not table_level) for key, issues in failing.items()
        }

    def _query_continuity(self, kept: list[_Staged]) -> None:
        """Year-on-year continuity queries (csww/continuity.py) on the returns about to be loaded."""
        if not any(staged.outcome.workers for staged in kept):
            return
        rows = self.con.sql(f"select {', '.join(continuity.COLUMNS)} from incoming_workers").to_arrow_table()
        files = {staged.file.partition: staged.file.path.name for staged in kept}
        by_partition = {staged.file.partition: staged for staged in kept}
        for key, found in continuity.compare_with_previous(self.con, rows, files=files).items():
            by_partition[key].outcome.issues.extend(found.issues)
            by_partition[key].outcome.notes.extend(found.notes)

    def _check(self, suite: str, relation: str, id_columns: tuple[str, ...]) -> SuiteOutcome:
        if staged_checks.supports(suite):
            return staged_checks.validate(self.con, relation, suite, id_columns=id_columns)
        # An expectation the SQL checks do not know: Great Expectations itself, on the columns it reads.
        present = relation_columns(self.con, relation)
        wanted = [f'"{c}"' for c in dict.fromkeys([*id_columns, *columns_used(suite)]) if c in present]
        frame = self.con.execute(f"select {', '.join(wanted)} from {relation}").df()
        return self.validator.validate(frame, suite, id_columns=id_columns)

    def _replace(self, kept: list[_Staged]) -> None:
        """The kept returns replace their LA-years: worker rows, LA-level row and return row."""
        con = self.con
        con.register("kept_keys", _staged_keys(kept))
        con.register("incoming_la_level", self._la_level_table(kept))
        con.register("incoming_returns", self._returns_table(kept))
        try:
            for table in ("workers", "la_level", "returns"):
                con.execute(
                    f"delete from raw_csww.{table} t using kept_keys k "
                    "where t.old_la_code = k.old_la_code and t.collection_year = k.collection_year"
                )
            con.execute(
                f"update raw_csww.load_history h set status = '{SUPERSEDED}' from kept_keys k "
                "where h.old_la_code = k.old_la_code and h.collection_year = k.collection_year "
                f"and h.status = '{LOADED}'"
            )
            con.execute("insert into raw_csww.workers by name select * from incoming_workers")
            con.execute("insert into raw_csww.la_level by name select * from incoming_la_level")
            con.execute("insert into raw_csww.returns by name select * from incoming_returns")
        finally:
            for name in ("kept_keys", "incoming_la_level", "incoming_returns"):
                con.unregister(name)

    def _la_level_table(self, batch: Iterable[_Staged]) -> pa.Table:
        rows = [
            {
                "old_la_code": staged.file.old_la_code,
                "collection_year": staged.file.year,
                "source_file": outcomes.landing_name(staged.file.path),
                "file_sha256": staged.sha256,
                "loaded_at": self.loaded_at,
                **staged.outcome.la_level,
            }
            for staged in batch
        ]
        return pa.Table.from_pylist(rows, schema=la_level_schema())

    def _returns_table(self, batch: list[_Staged]) -> pa.Table:
        rows = []
        for staged in batch:
            header = staged.outcome.header
            rows.append(
                {
                    "old_la_code": staged.file.old_la_code,
                    "collection_year": staged.file.year,
                    "source_file": outcomes.landing_name(staged.file.path),
                    "file_sha256": staged.sha256,
                    "loaded_at": self.loaded_at,
                    "header_collection": header.collection if header else None,
                    "header_reference_date": header.reference_date if header else None,
                    "header_software_code": header.software_code if header else None,
                    "header_generated_at": str(header.generated_at) if header and header.generated_at else None,
                    "workers": staged.outcome.workers,
                    "query_count": _count(staged.outcome.issues, "query"),
                }
            )
        return pa.Table.from_pylist(rows, schema=RETURNS_SCHEMA)

    def _loaded_outcome(self, staged: _Staged) -> FileOutcome:
        parsed = staged.outcome
        outcome = FileOutcome(
            staged.file.path,
            LOADED,
            staged.sha256,
            rows=parsed.workers,
            queries=_count(parsed.issues, "query"),
            message=LOADED,
            partition=staged.file.partition,
        )
        if outcome.queries:
            outcome.report_path = outcomes.report_folder(outcome, at=self.loaded_at)
            _write_report(outcome.report_path, staged.file, parsed.issues, parsed)
        return outcome

    # -- quarantine ----------------------------------------------------------------------------

    def _quarantine(self, staged: _Staged, issues: list[Issue], *, final: bool) -> FileOutcome:
        """Keep the refused file as sent with its report; the caller records it in the history."""
        first = next((i for i in issues if i.severity == "error"), None)
        outcome = FileOutcome(
            staged.file.path,
            QUARANTINED,
            staged.sha256,
            errors=_count(issues, "error"),
            queries=_count(issues, "query"),
            message=first.message if first else "failed validation",
            partition=staged.file.partition,
        )
        outcome.report_path = outcomes.quarantine(outcome, SOURCE, final=final, at=self.loaded_at)
        _write_report(outcome.report_path, staged.file, issues, staged.outcome)
        self.summary.outcomes.append(outcome)
        return outcome


_KEYS_SCHEMA = pa.schema([("old_la_code", pa.string()), ("collection_year", pa.int32()), ("file_sha256", pa.string())])


def _staged_keys(staged: Iterable[_Staged]) -> pa.Table:
    """Which files' rows: (old_la_code, collection_year, file_sha256) each."""
    keys = [(s.file.old_la_code, s.file.year, s.sha256) for s in staged]
    return pa.Table.from_pylist([dict(zip(_KEYS_SCHEMA.names, key, strict=True)) for key in keys], _KEYS_SCHEMA)


def _write_report(folder: Path, file: ReturnFile, issues: list[Issue], parsed: ParseOutcome) -> None:
    """The council's report on one return (what to fix, where), into its owner-only folder."""
    report = ValidationReport.from_outcome(
        file.path.name, parsed, issues=issues, old_la_code=file.old_la_code, year=file.year
    )
    write_report(report, folder)


def _count(issues: list[Issue], severity: str) -> int:
    """Issues of one severity, including those a capped rule summarised as "and N more"."""
    return severity_counts(issues)[severity]


def _suite_issue(file: ReturnFile, result: ExpectationOutcome, row: dict) -> Issue:
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
