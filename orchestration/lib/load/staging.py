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
from functools import partial
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
CHUNK_BYTES = 16_000_000

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
class StageJob:
    """Returns parsed one after another into one Parquet file: plain values only, so a worker
    process unpickles it without importing the loader."""

    returns: tuple[tuple[Path, Stamp], ...]
    pseudonym_key: bytes
    parquet: Path


def plan(returns: list[tuple[Path, Stamp]], pseudonym_key: bytes, folder: Path) -> list[StageJob]:
    """Group returns, in order, into jobs of about CHUNK_BYTES of XML each.

    One Parquet file per return would cost a file to create per return and, worse, a file to open
    per return in every later scan; one per worker would leave a core idle while the other
    finishes. Jobs of a few dozen returns balance the two processes and keep scans cheap.
    """
    jobs: list[StageJob] = []
    current: list[tuple[Path, Stamp]] = []
    size = 0
    for path, stamp in returns:
        current.append((path, stamp))
        size += _size(path)
        if size >= CHUNK_BYTES:
            jobs.append(StageJob(tuple(current), pseudonym_key, folder / f"{len(jobs):05d}.parquet"))
            current, size = [], 0
    if current:
        jobs.append(StageJob(tuple(current), pseudonym_key, folder / f"{len(jobs):05d}.parquet"))
    return jobs


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def with_provenance(batch: pa.Table, stamp: Stamp) -> pa.Table:
    columns = stamp.columns(batch.num_rows) + batch.columns
    return pa.Table.from_arrays(columns, schema=pa.unify_schemas([PROVENANCE, batch.schema]))


def parse_to_parquet(job: StageJob) -> list[ParseOutcome]:
    """Parse each return of the job, writing every row to the job's owner-only Parquet file.

    Rows of a return that breaks the rules are written too (they stream out before the end of
    the file says so); whoever reads the file keeps only the returns that passed.
    """
    writer: pq.ParquetWriter | None = None
    pseudonymise = Pseudonymiser(job.pseudonym_key)
    found = []

    def write(batch: pa.Table, stamp: Stamp) -> None:
        nonlocal writer
        table = with_provenance(batch, stamp)
        if writer is None:
            writer = pq.ParquetWriter(job.parquet, table.schema)
            private_file(job.parquet)
        writer.write_table(table)

    try:
        for path, stamp in job.returns:
            found.append(
                parse_return(
                    path,
                    expected_old_la_code=stamp.old_la_code,
                    expected_year=stamp.year,
                    pseudonymise=pseudonymise,
                    on_batch=partial(write, stamp=stamp),
                )
            )
    finally:
        if writer is not None:
            writer.close()
    return found


def parse_all(jobs: list[StageJob]) -> Iterator[list[ParseOutcome]]:
    """Each job's outcomes, in the order of `jobs`."""
    if sum(len(job.returns) for job in jobs) < PARALLEL_FROM_FILES:
        yield from map(parse_to_parquet, jobs)
        return
    # spawn, not fork: the parent holds a DuckDB connection and Dagster's threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=PARSE_PROCESSES, mp_context=context) as pool:
        yield from pool.map(parse_to_parquet, jobs)
