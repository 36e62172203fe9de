"""Write-audit-publish of the benchmark tables on a PostgreSQL server (the shared deployment).

When WORKFORCE_WAREHOUSE_URL names a server, each version the pipeline publishes (publication.py)
is also published there, from the version's read-only DuckDB:

1. write: its tables are copied into a new schema `staging_<version>` that no reader can use;
2. audit: on the server, each table's row count and a fingerprint of every column (values present,
   sum of numbers, total length of text, total items of lists) must equal the DuckDB version's,
   so nothing was lost or changed in the copy; the schema is then kept as `published_<version>`;
3. publish: one transaction replaces the rows of every table in `published` with the version's.
   Readers never wait and never see a mix: a statement reads one snapshot of all the tables (and a
   REPEATABLE READ transaction one for all its statements), which is the old version or the new.
   The tables themselves stay, with their grants and row policies (server/access.py). The last
   VERSIONS_KEPT versions are kept for rollback, which replaces the rows the same way.

Renaming schemas instead was tried and is not atomic for readers: PostgreSQL resolves each table
of a statement by name as it reaches it, so a statement over two tables read one from each version
when the rename committed in between (seen in tests/postgres with 20 readers).

Publishers are serialised by an advisory lock; the history of versions is `publishing.versions`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import sql

from orchestration.lib.server import access

PUBLISHED_SCHEMA = "published"
HISTORY_SCHEMA = "publishing"
_PUBLISHER_LOCK = 0x776F726B  # pg_advisory_lock key: one publisher at a time on a server
_SUM_TOLERANCE = 1e-9  # relative: sums of doubles differ only in the order they were added

_TYPES = {
    "VARCHAR": "text",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),(\d+)\)$")
_NUMBERS = {"integer", "bigint", "smallint", "double precision"}


class ServerPublishError(RuntimeError):
    """The server refused or failed the publish; the published version there is unchanged."""


def version_schema(version: str) -> str:
    return f"published_{version.lower()}"


def staging_schema(version: str) -> str:
    return f"staging_{version.lower()}"


def server_type(duckdb_type: str) -> str:
    """The PostgreSQL type that holds a DuckDB column's values exactly."""
    if duckdb_type.endswith("[]"):
        return server_type(duckdb_type[:-2]) + "[]"
    decimal = _DECIMAL.match(duckdb_type)
    if decimal:
        return f"numeric({decimal[1]},{decimal[2]})"
    if duckdb_type not in _TYPES:
        raise ServerPublishError(f"A published column has DuckDB type {duckdb_type}, which has no server type here.")
    return _TYPES[duckdb_type]


@contextmanager
def _publisher(url: str) -> Iterator[psycopg.Connection]:
    try:
        con = psycopg.connect(url)
    except psycopg.OperationalError as exc:
        raise ServerPublishError(
            f"Cannot connect to the warehouse server named by WORKFORCE_WAREHOUSE_URL: {exc}".strip()
        ) from exc
    with con:
        con.execute("select pg_advisory_lock(%s)", [_PUBLISHER_LOCK])
        try:
            con.execute(f"create schema if not exists {HISTORY_SCHEMA}")
            con.execute(
                f"""create table if not exists {HISTORY_SCHEMA}.versions (
                    version text primary key,
                    published_at timestamptz not null,
                    previous_version text,
                    is_current boolean not null default false,
                    manifest jsonb not null
                )"""
            )
            access.ensure_roles(con)
            # The portal asks which version is current (to key what it caches) and when it was published (a
            # pack says so), and nothing else.
            con.execute(f"grant usage on schema {HISTORY_SCHEMA} to {access.PORTAL_GROUP}")
            con.execute(
                f"grant select (version, published_at, is_current) on {HISTORY_SCHEMA}.versions "
                f"to {access.PORTAL_GROUP}"
            )
            con.commit()
            yield con
        finally:
            con.rollback()
            con.execute("select pg_advisory_unlock(%s)", [_PUBLISHER_LOCK])
            con.commit()


def current_version(con: psycopg.Connection) -> str | None:
    found = con.execute(f"select version from {HISTORY_SCHEMA}.versions where is_current").fetchone()
    return found[0] if found else None


def publish(url: str, source: Path, manifest: Mapping[str, Any], tables: list[str], keep: int) -> None:
    """Publish the version whose DuckDB is `source` (manifest: its manifest) on the server."""
    version = manifest["version"]
    staging = staging_schema(version)
    with _publisher(url) as con:
        for (stale,) in con.execute(
            "select nspname from pg_namespace where nspname like 'staging\\_%'"
        ).fetchall():  # left by a publish that stopped half-way
            con.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(stale)))
        con.execute(sql.SQL("create schema {}").format(sql.Identifier(staging)))
        with duckdb.connect(str(source), read_only=True) as source_con:
            for table in tables:
                columns = _write(con, source_con, staging, table)
                _audit(con, source_con, staging, table, columns)
        con.execute(
            sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(staging), sql.Identifier(version_schema(version))
            )
        )
        previous = current_version(con)
        con.execute(
            f"insert into {HISTORY_SCHEMA}.versions values (%s, %s, %s, false, %s)",
            [version, manifest["published_at"], previous, json.dumps(manifest, default=str)],
        )
        # Grants and policies a server published by an earlier version of this code lacks: added
        # here, outside the swap, because adding a policy makes the table's readers wait.
        access.protect(con, PUBLISHED_SCHEMA, [t for t in tables if _columns(con, PUBLISHED_SCHEMA, t)])
        con.commit()  # the audited version, kept but not yet readable: the swap's transaction stays short
        _swap(con, version, tables)
        _prune(con, keep=keep, protected={version, previous})
        con.commit()


def rollback(url: str, to_version: str) -> None:
    """Make `to_version` (kept on the server) the published version again, in one transaction."""
    with _publisher(url) as con:
        if current_version(con) == to_version:
            return
        kept = con.execute(
            "select tablename from pg_tables where schemaname = %s order by tablename", [version_schema(to_version)]
        ).fetchall()
        if not kept:
            raise ServerPublishError(f"Version {to_version} is no longer kept on the server; cannot roll back.")
        _swap(con, to_version, [row[0] for row in kept])


def _write(con: psycopg.Connection, source: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    columns = {name: server_type(kind) for name, kind, *_ in source.execute(f"describe {table}").fetchall()}
    target = sql.Identifier(schema, table)
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in columns.items()
    )
    con.execute(sql.SQL("create table {} ({})").format(target, definition))
    names = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    rows = source.execute(f"select * from {table}")
    with con.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(target, names)) as copy:
        while batch := rows.fetchmany(10_000):
            for row in batch:
                copy.write_row(row)
    return columns


def _fingerprint_terms(columns: dict[str, str], *, server: bool) -> list[str]:
    terms = ["count(*)"]
    for name, kind in columns.items():
        quoted = '"' + name.replace('"', '""') + '"'
        terms.append(f"count({quoted})")
        if kind in _NUMBERS or kind.startswith("numeric"):
            terms.append(f"sum({quoted})::double precision" if server else f"sum({quoted})::double")
        elif kind == "text":
            terms.append(f"sum(length({quoted}))")
        elif kind.endswith("[]"):
            terms.append(f"sum(cardinality({quoted}))" if server else f"sum(len({quoted}))")
    return terms


def _audit(
    con: psycopg.Connection, source: duckdb.DuckDBPyConnection, schema: str, table: str, columns: dict[str, str]
) -> None:
    """Fail unless the server's copy of `table` has the DuckDB version's rows and values."""
    expected = source.execute(f"select {', '.join(_fingerprint_terms(columns, server=False))} from {table}").fetchone()
    query = f"select {', '.join(_fingerprint_terms(columns, server=True))} from {schema}.{table}"
    found = con.execute(query).fetchone()
    assert expected is not None and found is not None
    for term, want, got in zip(_fingerprint_terms(columns, server=True), expected, found, strict=True):
        same = (
            math.isclose(float(want), float(got), rel_tol=_SUM_TOLERANCE)
            if isinstance(want, float) and got is not None
            else want == got
        )
        if not same:
            raise ServerPublishError(
                f"Audit of {table} on the server failed: {term} is {got}, the published DuckDB says {want}. "
                "Nothing was published on the server; the previous version stays."
            )


def _swap(con: psycopg.Connection, version: str, tables: list[str]) -> None:
    """One transaction: every table in `published` holds the kept version's rows, and it is current."""
    source = version_schema(version)
    con.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(PUBLISHED_SCHEMA)))
    con.execute(
        sql.SQL("grant usage on schema {} to {}, {}, {}").format(
            sql.Identifier(PUBLISHED_SCHEMA),
            sql.Identifier(access.ANALYST_GROUP),
            sql.Identifier(access.COUNCIL_GROUP),
            sql.Identifier(access.PORTAL_GROUP),
        )
    )
    for table in tables:
        live, kept = sql.Identifier(PUBLISHED_SCHEMA, table), sql.Identifier(source, table)
        if _columns(con, PUBLISHED_SCHEMA, table) != _columns(con, source, table):
            # A new table, or a mart whose columns changed: made afresh, which locks out its readers
            # until this transaction ends (the only case in which a publish makes readers wait).
            con.execute(sql.SQL("drop table if exists {}").format(live))
            con.execute(sql.SQL("create table {} (like {})").format(live, kept))
            access.protect(con, PUBLISHED_SCHEMA, [table])
        else:
            con.execute(sql.SQL("delete from {}").format(live))
        con.execute(sql.SQL("insert into {} select * from {}").format(live, kept))
    con.execute(f"update {HISTORY_SCHEMA}.versions set is_current = (version = %s)", [version])
    con.commit()


def _columns(con: psycopg.Connection, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute as a "
        "join pg_class as c on c.oid = a.attrelid join pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped order by a.attnum",
        [schema, table],
    ).fetchall()


def _prune(con: psycopg.Connection, *, keep: int, protected: set[str | None]) -> None:
    versions = [
        row[0]
        for row in con.execute(f"select version from {HISTORY_SCHEMA}.versions order by published_at desc").fetchall()
    ]
    for stale in versions[keep:]:
        if stale in protected:
            continue
        con.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(version_schema(stale))))
        con.execute(f"delete from {HISTORY_SCHEMA}.versions where version = %s", [stale])
