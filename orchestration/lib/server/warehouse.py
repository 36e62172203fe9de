"""The working warehouse on the server (WORKFORCE_WAREHOUSE_URL): where dbt builds in the shared deployment.

Loads parse, pseudonymise, stage and check each file in the working DuckDB, as on the embedded
default: that is where the return rules and the raw suites run, file by file. Before dbt builds on
the server, `write_raw` makes each raw table there hold what the DuckDB one holds, file by file:
the rows of one load of one file share a `file_sha256` and a `loaded_at`, so only the loads the
server lacks are written and only the loads DuckDB no longer holds are removed, in one
transaction (dbt never reads a half-written return). A column a source gains is added as in
DuckDB (warehouse.evolve_table).

Worker-level rows (the `raw_*` schemas and dbt's `sensitive` schema) and dbt's working schemas
are owned by the loading role and granted to nobody: the reader roles (server/access.py) reach
only `published`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import duckdb
import psycopg
import pyarrow as pa
from psycopg import sql

from orchestration.lib import warehouse
from orchestration.lib.publish.postgres import server_type

_LOAD_KEY = ("file_sha256", "loaded_at")
_BATCH = 10_000

_ARROW_TYPES = {
    "text": pa.string(),
    "character varying": pa.string(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "smallint": pa.int16(),
    "double precision": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp without time zone": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
}
_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")


class ServerWarehouseError(RuntimeError):
    """The server refused or failed a write; what it held before is unchanged."""


@contextmanager
def connect(url: str) -> Iterator[psycopg.Connection]:
    try:
        con = psycopg.connect(url)
    except psycopg.OperationalError as exc:
        raise ServerWarehouseError(
            f"Cannot connect to the warehouse server named by WORKFORCE_WAREHOUSE_URL: {exc}".strip()
        ) from exc
    with con:
        yield con


def close_working_schemas(con: psycopg.Connection, schemas: Iterable[str]) -> None:
    """Create the schemas loads and dbt write if missing, and take every right on them from everyone else."""
    for schema in sorted({*warehouse.RAW_SCHEMAS, *schemas}):
        con.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        con.execute(sql.SQL("revoke all on schema {} from public").format(sql.Identifier(schema)))


def write_raw(
    url: str, source: duckdb.DuckDBPyConnection, dbt_schemas: Iterable[str] = ()
) -> dict[str, dict[str, int]]:
    """Make every raw table on the server hold the DuckDB one's loads; per table, rows added and
    removed. The raw schemas and `dbt_schemas` (where dbt is about to build) are closed to readers."""
    tables = source.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({', '.join('?' for _ in warehouse.RAW_SCHEMAS)}) order by 1, 2",
        list(warehouse.RAW_SCHEMAS),
    ).fetchall()
    changes: dict[str, dict[str, int]] = {}
    with connect(url) as con:
        close_working_schemas(con, dbt_schemas)
        for schema, table in tables:
            changes[f"{schema}.{table}"] = _write_table(con, source, schema, table)
        con.commit()
    return changes


def _write_table(con: psycopg.Connection, source: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, int]:
    qualified = f"{schema}.{table}"
    columns = {name: server_type(kind) for name, kind in warehouse.table_columns(source, qualified).items()}
    if not set(_LOAD_KEY) <= set(columns):
        raise ServerWarehouseError(f"{qualified} has no {' and '.join(_LOAD_KEY)}, so its loads cannot be told apart.")
    _evolve(con, schema, table, columns)
    target = sql.Identifier(schema, table)
    here = set(source.execute(f"select distinct file_sha256, loaded_at from {qualified}").fetchall())
    there = set(con.execute(sql.SQL("select distinct file_sha256, loaded_at from {}").format(target)).fetchall())
    gone = sorted(there - here, key=lambda load: (load[0], str(load[1])))
    # One statement for every load to remove: a rebuilt DuckDB gives every load a new loaded_at.
    removed = (
        con.execute(
            sql.SQL(
                "delete from {} as t using unnest(%s::text[], %s::timestamptz[]) as gone (sha, loaded_at) "
                "where t.file_sha256 = gone.sha and t.loaded_at = gone.loaded_at"
            ).format(target),
            [[load[0] for load in gone], [load[1] for load in gone]],
        ).rowcount
        if gone
        else 0
    )
    added = 0
    new_loads = sorted(here - there, key=lambda load: (load[0], str(load[1])))
    if new_loads:
        names = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
        quoted = ", ".join(f'"{name}"' for name in columns)
        source.register(
            "new_loads", pa.table({key: [load[i] for load in new_loads] for i, key in enumerate(_LOAD_KEY)})
        )
        try:
            keys = ", ".join(_LOAD_KEY)
            rows = source.execute(f"select {quoted} from {qualified} semi join new_loads using ({keys})")
            with con.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(target, names)) as copy:
                while batch := rows.fetchmany(_BATCH):
                    for row in batch:
                        copy.write_row(row)
                    added += len(batch)
        finally:
            source.unregister("new_loads")
    return {"added": added, "removed": removed}


def _evolve(con: psycopg.Connection, schema: str, table: str, columns: dict[str, str]) -> None:
    target = sql.Identifier(schema, table)
    existing = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            [schema, table],
        ).fetchall()
    }
    if not existing:
        definition = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in columns.items()
        )
        con.execute(sql.SQL("create table {} ({})").format(target, definition))
        return
    for name, kind in columns.items():
        if name not in existing:
            con.execute(sql.SQL("alter table {} add column {} {}").format(target, sql.Identifier(name), sql.SQL(kind)))


def existing_relations(url: str) -> set[tuple[str, str]]:
    """(schema, name) of every table and view on the server."""
    with connect(url) as con:
        return set(
            con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema not in ('pg_catalog', 'information_schema')"
            ).fetchall()
        )


def read_table(url: str, qualified_table: str, order_by: tuple[str, ...] = ()) -> pa.Table:
    """A table on the server as Arrow, each column with the type DuckDB gives the same column."""
    with connect(url) as con:
        return table_as_arrow(con, qualified_table, order_by)


def table_as_arrow(con: psycopg.Connection, qualified_table: str, order_by: tuple[str, ...] = ()) -> pa.Table:
    """`read_table` on an open connection (in its transaction, as its role). Rows in `order_by`'s
    order, text compared byte by byte as DuckDB does, so a file written from it is the DuckDB one."""
    schema, table = qualified_table.split(".")
    kinds = con.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute as a "
        "join pg_class as c on c.oid = a.attrelid join pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped order by a.attnum",
        [schema, table],
    ).fetchall()
    if not kinds:
        raise ServerWarehouseError(f"{qualified_table} is not on the warehouse server: has dbt built it there?")
    texts = {name for name, kind in kinds if kind == "text" or kind.startswith("character varying")}
    order = sql.SQL(", ").join(
        sql.SQL('{} collate "C"').format(sql.Identifier(c)) if c in texts else sql.Identifier(c) for c in order_by
    )
    query = sql.SQL("select * from {}").format(sql.Identifier(schema, table))
    rows = con.execute(query + sql.SQL(" order by {}").format(order) if order_by else query).fetchall()
    arrow_schema = pa.schema([(name, _arrow_type(kind)) for name, kind in kinds])
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in kinds]
    return pa.table(
        [
            pa.array(_arrow_values(values, field.type), type=field.type)
            for values, field in zip(columns, arrow_schema, strict=True)
        ],
        schema=arrow_schema,
    )


def _arrow_type(kind: str) -> pa.DataType:
    if kind.endswith("[]"):
        return pa.list_(_arrow_type(kind[:-2]))
    numeric = _NUMERIC.match(kind)
    if numeric:
        return pa.decimal128(int(numeric[1]), int(numeric[2]))
    if kind.startswith("character varying"):
        return pa.string()
    if kind not in _ARROW_TYPES:
        raise ServerWarehouseError(f"A column on the server has type {kind}, which has no DuckDB type here.")
    return _ARROW_TYPES[kind]


def _arrow_values(values: tuple, kind: pa.DataType) -> list:
    if pa.types.is_timestamp(kind) and kind.tz:
        return [v.astimezone(dt.UTC) if v is not None else None for v in values]
    if pa.types.is_decimal(kind):
        return [decimal.Decimal(v) if v is not None else None for v in values]
    return list(values)
