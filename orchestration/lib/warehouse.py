"""The working DuckDB warehouse: connections and the raw tables that loads write.

Only one process writes a DuckDB file at a time; the orchestration layer serialises writers
(one run at a time, steps in process). Users never read this file: they read the published copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib import paths

# DuckDB spills to disk beyond this, which keeps a whole run near or under 2 GB at 10x England
# volume. Row order within a table carries no meaning here, and not preserving it on insert saves
# memory in the large loads.
CONNECTION_CONFIG = {"memory_limit": "1GB", "preserve_insertion_order": False}

RAW_SCHEMAS = ("raw_csww", "raw_dfe", "raw_ofsted")


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse; DuckDB allows one writer at a time."""


@contextmanager
def connect(path: Path | None = None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    target = path or paths.warehouse_path()
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target), read_only=read_only, config=CONNECTION_CONFIG)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise WarehouseBusy(
            f"The warehouse {target} is in use by another process ({str(exc).split('held in ')[-1].split('.')[0]}). "
            "Runs are serialised: wait for the other run to finish, or stop it, then try again."
        ) from exc
    try:
        yield con
    finally:
        con.close()


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
