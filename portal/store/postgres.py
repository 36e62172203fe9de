"""The portal's state on the warehouse server (the shared deployment), behind row-level security.

The tables live in the server's `portal` schema, made by its owner (`workforce server
portal-login`, with the publisher's WORKFORCE_WAREHOUSE_URL). The portal connects with its own
login (WORKFORCE_PORTAL_DATABASE_URL), a member of `workforce_portal`, which is neither the owner
nor a superuser, so the policies apply to every statement it sends:

- a council's submissions (with their validation reports) and the audit entries about it are
  visible, and submissions writable, only in a transaction that has said which council it acts
  for (`workforce.council`, set by `_as_council` from the method's `old_la_code`). A query that
  forgot its `where` still returns that council's rows and no other's; a transaction that said
  nothing sees none. The engineers' pages and the republisher ask for every council (`*`)
  through the three methods that list across councils.
- the audit log is append-only for the portal: it may insert and read, never update or delete.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from portal.adapter import ACTING_COUNCIL, EVERY_COUNCIL, PORTAL_GROUP
from portal.store import AuditEvent, Session, Submission, Token, User, now

SCHEMA = "portal"

DDL = f"""
do $$ begin
    if not exists (select from pg_roles where rolname = '{PORTAL_GROUP}') then
        create role {PORTAL_GROUP} nologin;
    end if;
end $$;
create schema if not exists {SCHEMA};
revoke all on schema {SCHEMA} from public;
grant usage on schema {SCHEMA} to {PORTAL_GROUP};
create table if not exists {SCHEMA}.users (
    id bigint generated always as identity primary key,
    email text not null unique,
    role text not null,
    old_la_code text,
    password_hash text not null,
    must_change_password boolean not null default true,
    created_at timestamptz not null,
    disabled_at timestamptz
);
create table if not exists {SCHEMA}.sessions (
    id_hash text primary key,
    user_id bigint not null references {SCHEMA}.users (id),
    csrf_token text not null,
    created_at timestamptz not null,
    last_seen_at timestamptz not null
);
create table if not exists {SCHEMA}.tokens (
    id bigint generated always as identity primary key,
    user_id bigint not null references {SCHEMA}.users (id),
    token_hash text not null unique,
    label text not null,
    created_at timestamptz not null,
    last_used_at timestamptz,
    revoked_at timestamptz
);
create table if not exists {SCHEMA}.submissions (
    id text primary key,
    old_la_code text not null,
    collection_year integer not null,
    user_id bigint not null references {SCHEMA}.users (id),
    file_name text not null,
    sha256 text not null,
    size_bytes bigint not null,
    received_at timestamptz not null,
    outcome text not null,
    errors integer not null,
    queries integer not null,
    report jsonb not null,
    landed_as text,
    republish_state text not null,
    republish_message text not null default '',
    republish_updated_at timestamptz,
    arrival bigint generated always as identity
);
create index if not exists submissions_by_council on {SCHEMA}.submissions (old_la_code, received_at);
create table if not exists {SCHEMA}.audit_log (
    id bigint generated always as identity primary key,
    at timestamptz not null,
    action text not null,
    path text not null,
    user_id bigint,
    email text,
    role text,
    old_la_code text,
    detail text not null,
    client text not null
);
create table if not exists {SCHEMA}.sign_ins (
    at timestamptz not null,
    email text not null,
    client text not null,
    succeeded boolean not null
);
grant select, insert, update, delete on {SCHEMA}.users, {SCHEMA}.sessions, {SCHEMA}.tokens to {PORTAL_GROUP};
grant select, insert on {SCHEMA}.sign_ins to {PORTAL_GROUP};
grant select, insert, update on {SCHEMA}.submissions to {PORTAL_GROUP};
grant select, insert on {SCHEMA}.audit_log to {PORTAL_GROUP};

alter table {SCHEMA}.submissions enable row level security;
alter table {SCHEMA}.audit_log enable row level security;
drop policy if exists acting_council on {SCHEMA}.submissions;
create policy acting_council on {SCHEMA}.submissions for all to {PORTAL_GROUP}
    using (current_setting('{ACTING_COUNCIL}', true) in (old_la_code, '{EVERY_COUNCIL}'))
    with check (current_setting('{ACTING_COUNCIL}', true) in (old_la_code, '{EVERY_COUNCIL}'));
drop policy if exists read_acting_council on {SCHEMA}.audit_log;
create policy read_acting_council on {SCHEMA}.audit_log for select to {PORTAL_GROUP}
    using (current_setting('{ACTING_COUNCIL}', true) = '{EVERY_COUNCIL}'
        or old_la_code = current_setting('{ACTING_COUNCIL}', true));
drop policy if exists append on {SCHEMA}.audit_log;
create policy append on {SCHEMA}.audit_log for insert to {PORTAL_GROUP} with check (true);
"""


def create_schema(con: psycopg.Connection) -> None:
    """Make (or bring up to date) the portal's tables, grants and policies; run by their owner."""
    con.execute(DDL)


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()

    def _connection(self) -> psycopg.Connection:
        con = getattr(self._local, "con", None)
        if con is None or con.closed:
            con = psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
            self._local.con = con
        return con

    @contextmanager
    def _as_council(self, old_la_code: str) -> Iterator[psycopg.Connection]:
        """A transaction acting for one council (or EVERY_COUNCIL): the policies read the setting."""
        con = self._connection()
        with con.transaction():
            con.execute("select set_config(%s, %s, true)", [ACTING_COUNCIL, old_la_code])
            yield con

    def _one(self, query: str, args: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        return self._connection().execute(query, args).fetchone()

    def _all(self, query: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return self._connection().execute(query, args).fetchall()

    def _run(self, query: str, args: tuple[Any, ...] = ()) -> psycopg.Cursor:
        return self._connection().execute(query, args)

    # -- accounts ----------------------------------------------------------------------------

    @staticmethod
    def _user(row: dict[str, Any] | None) -> User | None:
        return User(**row) if row else None

    def add_user(self, email: str, role: str, old_la_code: str | None, password_hash: str) -> User:
        row = self._one(
            f"insert into {SCHEMA}.users (email, role, old_la_code, password_hash, created_at) "
            "values (%s, %s, %s, %s, %s) returning *",
            (email, role, old_la_code, password_hash, now()),
        )
        return self._user(row)  # type: ignore[return-value]

    def user_by_email(self, email: str) -> User | None:
        return self._user(self._one(f"select * from {SCHEMA}.users where email = %s", (email,)))

    def user_by_id(self, user_id: int) -> User | None:
        return self._user(self._one(f"select * from {SCHEMA}.users where id = %s", (user_id,)))

    def users(self) -> list[User]:
        return [self._user(r) for r in self._all(f"select * from {SCHEMA}.users order by email")]  # type: ignore[misc]

    def set_password(self, user_id: int, password_hash: str, *, must_change: bool) -> None:
        self._run(
            f"update {SCHEMA}.users set password_hash = %s, must_change_password = %s where id = %s",
            (password_hash, must_change, user_id),
        )

    def disable_user(self, user_id: int) -> None:
        self._run(f"update {SCHEMA}.users set disabled_at = %s where id = %s and disabled_at is null", (now(), user_id))

    # -- sessions ----------------------------------------------------------------------------

    def add_session(self, session: Session) -> None:
        s = session
        self._run(
            f"insert into {SCHEMA}.sessions values (%s, %s, %s, %s, %s)",
            (s.id_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at),
        )

    def session(self, id_hash: str) -> Session | None:
        row = self._one(f"select * from {SCHEMA}.sessions where id_hash = %s", (id_hash,))
        return Session(**row) if row else None

    def touch_session(self, id_hash: str) -> None:
        self._run(f"update {SCHEMA}.sessions set last_seen_at = %s where id_hash = %s", (now(), id_hash))

    def delete_session(self, id_hash: str) -> None:
        self._run(f"delete from {SCHEMA}.sessions where id_hash = %s", (id_hash,))

    def delete_sessions_of(self, user_id: int) -> None:
        self._run(f"delete from {SCHEMA}.sessions where user_id = %s", (user_id,))

    # -- tokens ------------------------------------------------------------------------------

    def add_token(self, user_id: int, token_hash: str, label: str) -> Token:
        row = self._one(
            f"insert into {SCHEMA}.tokens (user_id, token_hash, label, created_at) values (%s, %s, %s, %s) returning *",
            (user_id, token_hash, label, now()),
        )
        return Token(**row)  # type: ignore[arg-type]

    def token_by_hash(self, token_hash: str) -> Token | None:
        row = self._one(f"select * from {SCHEMA}.tokens where token_hash = %s", (token_hash,))
        return Token(**row) if row else None

    def tokens_of(self, user_id: int) -> list[Token]:
        rows = self._all(f"select * from {SCHEMA}.tokens where user_id = %s order by id", (user_id,))
        return [Token(**r) for r in rows]

    def revoke_token(self, token_id: int) -> bool:
        cursor = self._run(
            f"update {SCHEMA}.tokens set revoked_at = %s where id = %s and revoked_at is null", (now(), token_id)
        )
        return cursor.rowcount == 1

    def touch_token(self, token_id: int) -> None:
        self._run(f"update {SCHEMA}.tokens set last_used_at = %s where id = %s", (now(), token_id))

    # -- submissions: each in a transaction acting for its council ----------------------------

    @staticmethod
    def _submission(row: dict[str, Any] | None) -> Submission | None:
        if row is None:
            return None
        row = {k: v for k, v in row.items() if k != "arrival"}
        return Submission(**row)

    def add_submission(self, submission: Submission) -> None:
        s = submission
        # Through JSON and back, as the embedded store keeps it: dates in a report become text.
        report = Jsonb(json.loads(json.dumps(s.report, default=str)))
        row = {**dataclasses.asdict(s), "report": report}
        with self._as_council(s.old_la_code) as con:
            con.execute(
                f"insert into {SCHEMA}.submissions ({', '.join(row)}) values ({', '.join(['%s'] * len(row))})",
                list(row.values()),
            )

    def submission(self, old_la_code: str, submission_id: str) -> Submission | None:
        with self._as_council(old_la_code) as con:
            row = con.execute(
                f"select * from {SCHEMA}.submissions where id = %s and old_la_code = %s", (submission_id, old_la_code)
            ).fetchone()
        return self._submission(row)

    def submissions_of(self, old_la_code: str, limit: int = 100) -> list[Submission]:
        with self._as_council(old_la_code) as con:
            rows = con.execute(
                f"select * from {SCHEMA}.submissions where old_la_code = %s "
                "order by received_at desc, arrival desc limit %s",
                (old_la_code, limit),
            ).fetchall()
        return [self._submission(r) for r in rows]  # type: ignore[misc]

    def recent_submissions(self, limit: int = 50) -> list[Submission]:
        with self._as_council(EVERY_COUNCIL) as con:
            rows = con.execute(
                f"select * from {SCHEMA}.submissions order by received_at desc, arrival desc limit %s", (limit,)
            ).fetchall()
        return [self._submission(r) for r in rows]  # type: ignore[misc]

    def set_republish_state(self, old_la_code: str, submission_id: str, state: str, message: str = "") -> None:
        with self._as_council(old_la_code) as con:
            con.execute(
                f"update {SCHEMA}.submissions set republish_state = %s, republish_message = %s, "
                "republish_updated_at = %s where id = %s and old_la_code = %s",
                (state, message, now(), submission_id, old_la_code),
            )

    def submissions_in_republish_state(self, *states: str) -> list[Submission]:
        with self._as_council(EVERY_COUNCIL) as con:
            rows = con.execute(
                f"select * from {SCHEMA}.submissions where republish_state = any(%s) order by received_at, arrival",
                (list(states),),
            ).fetchall()
        return [self._submission(r) for r in rows]  # type: ignore[misc]

    # -- audit and throttling ------------------------------------------------------------------

    def record(self, event: AuditEvent) -> None:
        e = event
        self._run(
            f"insert into {SCHEMA}.audit_log (at, action, path, user_id, email, role, old_la_code, detail, client) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (e.at, e.action, e.path, e.user_id, e.email, e.role, e.old_la_code, e.detail, e.client),
        )

    def audit_events(self, limit: int = 200, old_la_code: str | None = None) -> list[AuditEvent]:
        where, args = ("where old_la_code = %s", (old_la_code,)) if old_la_code else ("", ())
        with self._as_council(old_la_code or EVERY_COUNCIL) as con:
            rows = con.execute(
                f"select * from {SCHEMA}.audit_log {where} order by id desc limit %s", (*args, limit)
            ).fetchall()
        return [AuditEvent(**{k: v for k, v in r.items() if k != "id"}) for r in rows]

    def record_sign_in(self, email: str, client: str, succeeded: bool) -> None:
        self._run(f"insert into {SCHEMA}.sign_ins values (%s, %s, %s, %s)", (now(), email, client, succeeded))

    def failed_sign_ins(self, since: dt.datetime, *, email: str | None = None, client: str | None = None) -> int:
        column, value = ("email", email) if email is not None else ("client", client)
        row = self._one(
            f"select count(*) as failed from {SCHEMA}.sign_ins where not succeeded and at >= %s and {column} = %s",
            (since, value),
        )
        return int(row["failed"]) if row else 0
