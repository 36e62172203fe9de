"""The working DuckDB warehouse: connections and the raw tables that loads write.

Only one process writes a DuckDB file at a time; the orchestration layer serialises writers
(one run at a time, steps in process). Users never read this file: they read the published copy.
It holds worker-level rows, so its folder is owner-only (see private_files.py).

Raw tables evolve with their sources: `evolve_table` adds, as a nullable column, whatever a new
CSWW element or a new release column brings, so an existing warehouse takes the new field on the
next run and earlier rows read NULL. Nothing is dropped or retyped: a column a source stops
sending stays, holding its earlier values.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib import paths
from orchestration.lib.private_files import make_tree_private, private_dir

# DuckDB spills to disk beyond memory_limit, which keeps a whole run near or under 2 GB at 10x
# England volume. Row order within a table carries no meaning here, and not preserving it on insert
# saves memory in the large loads. The loads append whole returns: one thread, flushing each row
# group as it fills, holds one row group in memory instead of five per thread, which keeps a 200 MB
# return's load under 500 MB; a second thread would save about a second of a full England load.
# Staged Parquet files are read once or twice, so keeping their bytes in DuckDB's file cache only
# doubled the memory of an England load (680 MB against 340 MB) and saved nothing.
CONNECTION_CONFIG = {
    "memory_limit": "1GB",
    "preserve_insertion_order": False,
    "threads": 1,
    "write_buffer_row_group_count": 1,
    "enable_external_file_cache": False,
}

RAW_SCHEMAS = ("raw_csww", "raw_dfe", "raw_ofsted")


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse; DuckDB allows one writer at a time."""


# Another process may hold the file for a moment: the portal checking an upload's continuity with
# last year reads it for well under a second. A writer waits that long rather than fail the run;
# a writer still holding it after this (another run) is reported as busy.
LOCK_WAIT_SECONDS = 30.0


@contextmanager
def connect(
    path: Path | None = None, *, read_only: bool = False, lock_wait: float = LOCK_WAIT_SECONDS
) -> Iterator[duckdb.DuckDBPyConnection]:
    target = path or paths.warehouse_path()
    if not read_only:
        private_dir(target.parent)
    con = _open(target, read_only=read_only, lock_wait=lock_wait)
    if not read_only:
        make_tree_private(target.parent)  # the database file DuckDB may just have created
    try:
        yield con
    finally:
        con.close()


def _open(target: Path, *, read_only: bool, lock_wait: float) -> duckdb.DuckDBPyConnection:
    give_up = time.monotonic() + lock_wait
    while True:
        try:
            return duckdb.connect(str(target), read_only=read_only, config=CONNECTION_CONFIG)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() < give_up:
                time.sleep(0.2)
                continue
            holder = str(exc).split("held in ")[-1].split(".")[0]
            raise WarehouseBusy(
                f"The warehouse {target} is in use by another process ({holder}). "
                "Runs are serialised: wait for the other run to finish, or stop it, then try again."
            ) from exc


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in RAW_SCHEMAS:
        con.execute(f"create schema if not exists {schema}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def row_count(con: duckdb.DuckDBPyConnection, qualified_table: str) -> int:
    result = con.execute(f"select count(*) from {qualified_table}").fetchone()
    return int(result[0]) if result else 0


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str, parameters: list | None = None) -> dict[str, str]:
    """Column name -> DuckDB type of a query or registered relation, in order."""
    return {row[0]: row[1] for row in con.execute(f"describe {relation}", parameters or []).fetchall()}


def arrow_columns(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> dict[str, str]:
    """Column name -> DuckDB type of an Arrow schema, as DuckDB would store it."""
    con.register("empty_relation", schema.empty_table())
    try:
        return relation_columns(con, "empty_relation")
    finally:
        con.unregister("empty_relation")


def table_columns(con: duckdb.DuckDBPyConnection, qualified_table: str) -> dict[str, str]:
    schema, table = qualified_table.split(".")
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return dict(rows)


def evolve_table(con: duckdb.DuckDBPyConnection, qualified_table: str, columns: Mapping[str, str]) -> list[str]:
    """Create the table with `columns` (name -> DuckDB type), or add those it lacks as nullable columns.

    Returns the names added to an existing table. Existing columns are left as they are.
    """
    existing = table_columns(con, qualified_table)
    if not existing:
        definition = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        con.execute(f"create table if not exists {qualified_table} ({definition})")
        return []
    added = [name for name in columns if name.lower() not in {c.lower() for c in existing}]
    for name in added:
        con.execute(f'alter table {qualified_table} add column "{name}" {columns[name]}')
    return added


def rename_column(con: duckdb.DuckDBPyConnection, qualified_table: str, old: str, new: str) -> None:
    """Rename a column if the table has `old` and not yet `new` (a one-way migration)."""
    existing = table_columns(con, qualified_table)
    if old in existing and new not in existing:
        con.execute(f'alter table {qualified_table} rename column "{old}" to "{new}"')
