"""What a pack reads: one published version, as the council the pack is for may see it.

A pack is its council's document, put in front of its director and passed on: it shows what that
council may see under the data-sharing agreement and nothing more, whoever builds it (the portal
for an officer or an analyst, an engineer with `workforce extract`). Another council's
provisional figures (a year DfE has not published, computed from that council's return) appear
only if that council shares them with this one.

The rule is the server's row policy for the portal (server/access.py `visible_condition`), read
in both places from the same two `access` tables:

- on the shared deployment the pack reads the server in one read-only REPEATABLE READ transaction
  (one version), as the portal's group, acting for the council: the policies filter the rows;
- on the embedded default it reads the version's DuckDB file through views that apply the same
  condition, over the same sharing written into an in-memory `access` database.

A view starts acting for nobody, so until `act_for` names the council it returns no restricted
row at all: the pack first finds which council it is for in the unrestricted tables. The portal's
pages read the server through the same transaction (`server_transaction`), acting for whoever is
signed in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import duckdb

from orchestration.lib.publish import publication
from orchestration.lib.publish.packs.lookup import PackError
from orchestration.lib.server import access

NOBODY = ""

Sharing = tuple[set[tuple[str, str]], set[int]]
"""(owner, viewer) pairs (the viewer may see the owner's provisional rows) and DfE's published years."""


class PublishedView(Protocol):
    """The published tables of one version, named unqualified, queried with `?` placeholders."""

    version: str
    published_at: str | None

    def execute(self, query: str, args: list[Any] | None = None) -> Any: ...

    def act_for(self, council: str) -> None:
        """From now on, the restricted tables return the rows `council` may see."""


ViewOpener = Callable[[], contextlib.AbstractContextManager[PublishedView]]


class _DuckDBView:
    def __init__(self, con: duckdb.DuckDBPyConnection, version: str, published_at: str | None) -> None:
        self._con = con
        self.version = version
        self.published_at = published_at

    def execute(self, query: str, args: list[Any] | None = None) -> Any:
        return self._con.execute(query, args or [])

    def act_for(self, council: str) -> None:
        self._con.execute(f"update {access.ACCESS_SCHEMA}.acting set council = ?", [council])


@contextlib.contextmanager
def duckdb_view(
    folder: Path | None, sharing: Callable[[duckdb.DuckDBPyConnection], Sharing]
) -> Iterator[PublishedView]:
    """The version in `folder` (default: the published one) through the restricting views; `sharing`
    answers who shares with whom from that version's own tables (the portal's agreement)."""
    folder = folder or publication.current_folder()
    database = folder / publication.PUBLISHED_DB_NAME if folder else None
    if database is None or not database.exists():
        raise PackError(f"Nothing is published yet under {folder or 'data/published'}: run `workforce run` first.", 1)
    manifest = publication.read_manifest(folder.name) or {}
    schema = access.ACCESS_SCHEMA
    with duckdb.connect() as con:
        con.execute(f"attach '{database}' as version_tables (read_only)")
        con.execute("use version_tables")
        pairs, years = sharing(con)
        con.execute("use memory")
        con.execute(f"attach ':memory:' as {schema}")
        con.execute(f"create table {schema}.acting (council varchar not null)")
        con.execute(f"insert into {schema}.acting values (?)", [NOBODY])
        con.execute(
            f"create table {schema}.provisional_viewers (owner_old_la_code varchar, viewer_old_la_code varchar)"
        )
        con.executemany(f"insert into {schema}.provisional_viewers values (?, ?)", sorted(pairs))
        con.execute(f"create table {schema}.dfe_published_years (time_period integer)")
        con.executemany(f"insert into {schema}.dfe_published_years values (?)", [(y,) for y in sorted(years)])
        acting = f"(select council from {schema}.acting)"
        for table in publication.PUBLISHED_TABLES:
            condition = access.visible_condition(table, acting)
            where = f" where {condition}" if condition else ""
            con.execute(f"create view {table} as select * from version_tables.{table}{where}")
        yield _DuckDBView(con, folder.name, manifest.get("published_at"))


class ServerView:
    """The server's published version in one transaction (PublishedView)."""

    def __init__(self, con: Any, version: str, published_at: dt.datetime) -> None:
        self._con = con
        self.version = version
        self.published_at = published_at.astimezone(dt.UTC).isoformat()

    def execute(self, query: str, args: list[Any] | None = None) -> Any:
        # The SQL is written once with DuckDB's `?`; psycopg takes `%s` (and none of that SQL has a
        # literal `?` or `%`).
        if args is None:
            return self._con.execute(query)
        return self._con.execute(query.replace("%", "%%").replace("?", "%s"), args)

    def act_for(self, council: str) -> None:
        self._con.execute("select set_config(%s, %s, true)", [access.ACTING_COUNCIL, council])


@contextlib.contextmanager
def server_transaction(con: Any, acting_for: str = NOBODY, *, as_portal: bool = False) -> Iterator[ServerView]:
    """One transaction on `con` (made read-only REPEATABLE READ by its owner, so every statement
    reads one version) over the published tables, named unqualified, acting for `acting_for`."""
    import psycopg

    from orchestration.lib.publish import postgres

    with con.transaction():
        if as_portal:
            try:
                con.execute(f"set local role {access.PORTAL_GROUP}")
            except psycopg.errors.InsufficientPrivilege as exc:
                raise PackError(
                    f"The warehouse's login cannot take the {access.PORTAL_GROUP} role, under whose row policies "
                    f"packs are read on the server: an administrator runs `grant {access.PORTAL_GROUP} to "
                    f"<this login>` (docs/deployment.md). ({exc})",
                    1,
                ) from exc
        con.execute("select set_config('search_path', %s, true)", [postgres.PUBLISHED_SCHEMA])
        con.execute("select set_config(%s, %s, true)", [access.ACTING_COUNCIL, acting_for])
        try:
            found = con.execute(
                f"select version, published_at from {postgres.HISTORY_SCHEMA}.versions where is_current"
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            found = None  # nothing was ever published on this server
        if found is None:
            raise PackError("Nothing is published on the warehouse server yet: the warehouse has not run.", 1)
        yield ServerView(con, found[0], found[1])


def read_only_connection(url: str) -> Any:
    """A connection whose transactions each read one snapshot and write nothing."""
    import psycopg

    try:
        con = psycopg.connect(url)
    except psycopg.OperationalError as exc:
        raise PackError(f"Cannot connect to the warehouse server: {exc}".strip(), 1) from exc
    con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    con.read_only = True
    return con


@contextlib.contextmanager
def server_view(url: str, *, as_portal: bool = False) -> Iterator[PublishedView]:
    """The server's published version. `url` is the portal's login, or with `as_portal` the
    warehouse's own, which then takes the portal group's role so the same policies apply."""
    with read_only_connection(url) as con, server_transaction(con, as_portal=as_portal) as view:
        yield view
