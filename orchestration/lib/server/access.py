"""Who may read what on the server: reader roles, council logins and row-level security.

Two group roles read the published schema, and neither can write anything:

- `workforce_analyst` reads every published row;
- `workforce_council` is the group of council logins (one login role per council, mapped to its
  `old_la_code` in `access.council_logins`). A council sees every published figure except the
  *provisional* ones (a year DfE has not published, computed from councils' returns) of councils
  that do not share them with it under the data-sharing agreement.

The portal's login (group `workforce_portal`) reads the published tables for whoever it serves,
under the same rule: in each transaction it names the council it acts for (ACTING_COUNCIL), and
the policies show it what that council's login would see; a transaction naming nobody sees no
restricted row, and only EVERY_COUNCIL (an analyst's request) sees them all.

The rule is enforced by PostgreSQL policies on each published table, so no query a council can
write (select, join, subquery, aggregate, the planner's statistics) and no bug in a client can
return another council's restricted rows. The policies read three small tables in `access`:
`council_logins` (kept by `add_council_login`), and `provisional_viewers` (who may see whose
provisional rows) and `dfe_published_years`, which the portal writes from the agreement and the
published version (portal/server_access.py). Both fail closed: a year missing from
`dfe_published_years` counts as provisional, a pair missing from `provisional_viewers` hides rows.

Worker-level rows are on the server only in the schemas loads and dbt write (server/warehouse.py),
on which neither group, nor PUBLIC, has any right; the groups read `published` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

ANALYST_GROUP = "workforce_analyst"
COUNCIL_GROUP = "workforce_council"
PORTAL_GROUP = "workforce_portal"
ACCESS_SCHEMA = "access"
# The portal connects with one login for everyone it serves, and says whom it acts for in each
# transaction: a council's code, or EVERY_COUNCIL for analysts and engineers. Its reads of the
# published tables, and of its own tables (portal/store/postgres.py), are filtered by this.
ACTING_COUNCIL = "workforce.council"
EVERY_COUNCIL = "*"

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_CODE = re.compile(r"^\d{3}$")


@dataclass(frozen=True)
class RestrictedRows:
    """Which rows of a published table are a council's provisional figures, and whose."""

    owner_column: str
    """The column naming the council (or joint reporting unit) the row's figure belongs to."""
    provisional_when: str
    """SQL over the row: true when the row is a provisional figure of the council in owner_column."""


_NOT_DFE_YEAR = f"time_period not in (select time_period from {ACCESS_SCHEMA}.dfe_published_years)"
# A figure is provisional when DfE has not published its year and it does not come from DfE
# (portal/figures.py, Shaper.provisional); only council-level rows are any one council's figures.
RESTRICTED_ROWS: dict[str, RestrictedRows] = {
    "fct_workforce_benchmarks": RestrictedRows("old_la_code", f"source <> 'dfe_published' and {_NOT_DFE_YEAR}"),
    "fct_workforce_indicators": RestrictedRows(
        "old_la_code", f"geographic_level = 'Local authority' and source <> 'dfe_published' and {_NOT_DFE_YEAR}"
    ),
    "fct_statistical_neighbour_values": RestrictedRows("neighbour_old_la_code", _NOT_DFE_YEAR),
    "fct_published_reconciliation": RestrictedRows(
        "area_code", f"geographic_level = 'Local authority' and {_NOT_DFE_YEAR}"
    ),
}

_SETUP = f"""
do $$ begin
    if not exists (select from pg_roles where rolname = '{ANALYST_GROUP}') then
        create role {ANALYST_GROUP} nologin;
    end if;
    if not exists (select from pg_roles where rolname = '{COUNCIL_GROUP}') then
        create role {COUNCIL_GROUP} nologin;
    end if;
    if not exists (select from pg_roles where rolname = '{PORTAL_GROUP}') then
        create role {PORTAL_GROUP} nologin;
    end if;
    -- The warehouse's own login builds packs as the portal does, taking the portal group's role
    -- (and so its row policies) for the council a pack is for (packs/source.py).
    if not pg_has_role(current_user, '{PORTAL_GROUP}', 'member') then
        begin
            execute format('grant {PORTAL_GROUP} to %I', current_user);
        exception when insufficient_privilege then
            raise notice 'an administrator grants {PORTAL_GROUP} to %, for packs made on the server', current_user;
        end;
    end if;
end $$;
create schema if not exists {ACCESS_SCHEMA};
create table if not exists {ACCESS_SCHEMA}.council_logins (
    role_name name primary key,
    old_la_code text not null check (old_la_code ~ '^[0-9]{{3}}$')
);
create table if not exists {ACCESS_SCHEMA}.provisional_viewers (
    owner_old_la_code text not null,
    viewer_old_la_code text not null,
    primary key (owner_old_la_code, viewer_old_la_code)
);
create table if not exists {ACCESS_SCHEMA}.dfe_published_years (time_period integer primary key);
revoke all on schema {ACCESS_SCHEMA} from public;
do $$ begin
    -- Readers connect and read; they create nothing, not even temporary tables.
    execute format('revoke temporary on database %I from public', current_database());
end $$;
grant usage on schema {ACCESS_SCHEMA} to {COUNCIL_GROUP}, {PORTAL_GROUP};
grant select on all tables in schema {ACCESS_SCHEMA} to {COUNCIL_GROUP};
grant select on {ACCESS_SCHEMA}.provisional_viewers, {ACCESS_SCHEMA}.dfe_published_years to {PORTAL_GROUP};
-- A council reads only its own login's mapping and what is shared with it, which is all the
-- published tables' policies ask of these tables.
alter table {ACCESS_SCHEMA}.council_logins enable row level security;
alter table {ACCESS_SCHEMA}.provisional_viewers enable row level security;
drop policy if exists own_login on {ACCESS_SCHEMA}.council_logins;
create policy own_login on {ACCESS_SCHEMA}.council_logins for select to {COUNCIL_GROUP}
    using (role_name = current_user);
drop policy if exists shared_with_own_council on {ACCESS_SCHEMA}.provisional_viewers;
create policy shared_with_own_council on {ACCESS_SCHEMA}.provisional_viewers for select to {COUNCIL_GROUP}
    using (viewer_old_la_code in (select old_la_code from {ACCESS_SCHEMA}.council_logins));
drop policy if exists portal_reads_sharing on {ACCESS_SCHEMA}.provisional_viewers;
create policy portal_reads_sharing on {ACCESS_SCHEMA}.provisional_viewers for select to {PORTAL_GROUP}
    using (true);
"""


_ACTING_SETTING = f"current_setting('{ACTING_COUNCIL}', true)"


def visible_condition(table: str, acting_for: str) -> str | None:
    """SQL over a row of a published `table`: true when the council `acting_for` (an SQL
    expression giving its code, or EVERY_COUNCIL) may see it; None when every row is for everyone.

    The portal's policy on the server, and the DuckDB copy's views a pack reads through
    (packs/source.py), are this one condition, over the same two `access` tables."""
    restricted = RESTRICTED_ROWS.get(table)
    if restricted is None:
        return None
    return (
        f"{acting_for} = '{EVERY_COUNCIL}' or not ({restricted.provisional_when}) or {restricted.owner_column} in "
        f"(select v.owner_old_la_code from {ACCESS_SCHEMA}.provisional_viewers as v "
        f"where v.viewer_old_la_code = {acting_for})"
    )


def ensure_roles(con: psycopg.Connection) -> None:
    """Create the reader groups and the access tables if they are missing (idempotent)."""
    con.execute(_SETUP)


def protect(con: psycopg.Connection, schema: str, tables: list[str]) -> None:
    """Grant the readers SELECT on published tables and put the row policies on them. Idempotent,
    and it changes a table only where a grant or policy is missing: a policy change takes a lock
    that makes readers wait, so publishing calls this before its swap, not inside it."""
    access_schema = sql.Identifier(ACCESS_SCHEMA)
    for table in tables:
        qualified = sql.Identifier(schema, table)
        for group in (ANALYST_GROUP, COUNCIL_GROUP, PORTAL_GROUP):
            granted = con.execute(
                "select has_table_privilege(%s, %s, 'select')", [group, f'"{schema}"."{table}"']
            ).fetchone()
            if not (granted and granted[0]):
                con.execute(sql.SQL("grant select on {} to {}").format(qualified, sql.Identifier(group)))
        restricted = RESTRICTED_ROWS.get(table)
        if restricted is None:
            continue
        owner, provisional = sql.Identifier(restricted.owner_column), sql.SQL(restricted.provisional_when)
        policies = {
            "analysts_read_all": (ANALYST_GROUP, sql.SQL("true")),
            "councils_read_shared": (
                COUNCIL_GROUP,
                sql.SQL(
                    "not ({provisional}) or {owner} in (select v.owner_old_la_code from {access}.provisional_viewers "
                    "as v join {access}.council_logins as l on l.old_la_code = v.viewer_old_la_code "
                    "where l.role_name = current_user)"
                ).format(provisional=provisional, owner=owner, access=access_schema),
            ),
            "portal_reads_for_its_council": (PORTAL_GROUP, sql.SQL(visible_condition(table, _ACTING_SETTING) or "")),
        }
        existing = {
            row[0]
            for row in con.execute(
                "select policyname from pg_policies where schemaname = %s and tablename = %s", [schema, table]
            ).fetchall()
        }
        if existing >= set(policies):
            continue
        con.execute(sql.SQL("alter table {} enable row level security").format(qualified))
        for name, (group, condition) in policies.items():
            if name not in existing:
                con.execute(
                    sql.SQL("create policy {} on {} for select to {} using ({})").format(
                        sql.Identifier(name), qualified, sql.Identifier(group), condition
                    )
                )


def add_council_login(con: psycopg.Connection, role_name: str, old_la_code: str, password: str | None = None) -> None:
    """Create (or update) a council's login role, in the council group, mapped to its LA code."""
    if not _CODE.match(old_la_code):
        raise ValueError(f'{old_la_code!r} is not a 3-digit DfE LA code, e.g. "301".')
    ensure_roles(con)
    add_login(con, role_name, COUNCIL_GROUP, password)
    con.execute(
        f"insert into {ACCESS_SCHEMA}.council_logins values (%s, %s) "
        "on conflict (role_name) do update set old_la_code = excluded.old_la_code",
        [role_name, old_la_code],
    )


def add_login(con: psycopg.Connection, role_name: str, group: str, password: str | None = None) -> None:
    """Create (or update) a login role with no special rights, in `group`."""
    if not _ROLE_NAME.match(role_name):
        raise ValueError(f"{role_name!r} is not a valid role name: use lower-case letters, digits and _ only.")
    role = sql.Identifier(role_name)
    exists = con.execute("select 1 from pg_roles where rolname = %s", [role_name]).fetchone()
    verb = sql.SQL("alter role" if exists else "create role")
    # Hashed here (SCRAM, as psql's \password does), so the password itself never reaches the
    # server, its logs or pg_stat_activity.
    verifier = (
        con.pgconn.encrypt_password(password.encode(), role_name.encode(), b"scram-sha-256").decode()
        if password is not None
        else None
    )
    # No BYPASSRLS (a new role's default; only a superuser may give it, or even name it in ALTER).
    con.execute(
        sql.SQL("{} {} login nosuperuser nocreatedb nocreaterole password {}").format(verb, role, sql.Literal(verifier))
    )
    con.execute(sql.SQL("grant {} to {}").format(sql.Identifier(group), role))


def write_sharing(url: str, pairs: set[tuple[str, str]], years: set[int]) -> None:
    """Replace, in one transaction, who may see whose provisional rows ((owner, viewer) `pairs`)
    and the `years` DfE has published."""
    with psycopg.connect(url) as con:
        ensure_roles(con)
        con.execute(f"delete from {ACCESS_SCHEMA}.provisional_viewers")
        con.execute(f"delete from {ACCESS_SCHEMA}.dfe_published_years")
        with con.cursor() as cur:
            cur.executemany(f"insert into {ACCESS_SCHEMA}.provisional_viewers values (%s, %s)", sorted(pairs))
            cur.executemany(f"insert into {ACCESS_SCHEMA}.dfe_published_years values (%s)", [(y,) for y in years])
