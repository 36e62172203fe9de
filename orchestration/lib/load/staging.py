"""Parse council returns into owner-only Parquet files of their rows, in worker processes when many.

Kept apart from the loader so that a worker process imports the parser and pyarrow and nothing
else: importing the loader would bring pandas and DuckDB into each worker, doubling its start-up
time and memory for nothing it uses.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.load.pseudonym import Pseudonymiser
from orchestration.lib.private_files import private_file
from orchestration.lib.sources.csww.parser import ParseOutcome, parse_return

# Parsing is CPU-bound Python: two processes on two cores nearly halve a full load. A handful of
# files (a resubmission) parse faster in process than worker processes take to start.
PARSE_PROCESSES = 2
PARALLEL_FROM_FILES = 8

PROVENANCE = pa.schema(
    [
        ("old_la_code", pa.string()),
        ("collection_year", pa.int32()),
        ("source_file", pa.string()),
        ("file_sha256", pa.string()),
        ("loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)
"""Carried by every loaded row: which LA-year, which file, which bytes, when."""


@dataclass(frozen=True)
class Stamp:
    old_la_code: str
    year: int
    source_file: str
    sha256: str
    loaded_at: dt.datetime

    def columns(self, rows: int) -> list[pa.Array]:
        values = (self.old_la_code, self.year, self.source_file, self.sha256, self.loaded_at)
        return [pa.repeat(pa.scalar(v, f.type), rows) for v, f in zip(values, PROVENANCE, strict=True)]


@dataclass(frozen=True)
class ParseJob:
    """One file to parse: plain values only, so a worker process unpickles it without the loader."""

    path: Path
    stamp: Stamp
    pseudonym_key: bytes
    parquet: Path


def with_provenance(batch: pa.Table, stamp: Stamp) -> pa.Table:
    columns = stamp.columns(batch.num_rows) + batch.columns
    return pa.Table.from_arrays(columns, schema=pa.unify_schemas([PROVENANCE, batch.schema]))


def parse_to_parquet(job: ParseJob) -> tuple[ParseOutcome, Path | None]:
    """Parse one return into an owner-only Parquet file; the file only if the return passed the rules."""
    writer: pq.ParquetWriter | None = None

    def write(batch: pa.Table) -> None:
        nonlocal writer
        table = with_provenance(batch, job.stamp)
        if writer is None:
            writer = pq.ParquetWriter(job.parquet, table.schema)
            private_file(job.parquet)
        writer.write_table(table)

    try:
        outcome = parse_return(
            job.path,
            expected_old_la_code=job.stamp.old_la_code,
            expected_year=job.stamp.year,
            pseudonymise=Pseudonymiser(job.pseudonym_key),
            on_batch=write,
        )
    finally:
        if writer is not None:
            writer.close()
    if not outcome.ok:
        job.parquet.unlink(missing_ok=True)
    return outcome, job.parquet if writer is not None and outcome.ok else None


def parse_all(jobs: list[ParseJob]) -> Iterator[tuple[ParseOutcome, Path | None]]:
    """Each job's outcome and rows, in the order of `jobs`."""
    if len(jobs) < PARALLEL_FROM_FILES:
        yield from map(parse_to_parquet, jobs)
        return
    # spawn, not fork: the parent holds a DuckDB connection and Dagster's threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=PARSE_PROCESSES, mp_context=context) as pool:
        yield from pool.map(parse_to_parquet, jobs, chunksize=4)
