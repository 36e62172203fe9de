"""The portal's state in one SQLite file (the embedded default), readable by its owner only.

One connection per thread, WAL journal so page views (reads) never wait for an audit write, and a
busy timeout so concurrent writers queue instead of failing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from portal.store import (
    AuditEvent,
    Session,
    Submission,
    Token,
    User,
    now,
)

SCHEMA = """
create table if not exists users (
    id integer primary key,
    email text not null unique,
    role text not null,
    old_la_code text,
    password_hash text not null,
    must_change_password integer not null default 1,
    created_at text not null,
    disabled_at text
);
create table if not exists sessions (
    id_hash text primary key,
    user_id integer not null references users(id),
    csrf_token text not null,
    created_at text not null,
    last_seen_at text not null
);
create table if not exists tokens (
    id integer primary key,
    user_id integer not null references users(id),
    token_hash text not null unique,
    label text not null,
    created_at text not null,
    last_used_at text,
    revoked_at text
);
create table if not exists submissions (
    id text primary key,
    old_la_code text not null,
    collection_year integer not null,
    user_id integer not null references users(id),
    file_name text not null,
    sha256 text not null,
    size_bytes integer not null,
    received_at text not null,
    outcome text not null,
    errors integer not null,
    queries integer not null,
    report text not null,
    landed_as text,
    republish_state text not null,
    republish_message text not null default '',
    republish_updated_at text
);
create index if not exists submissions_by_council on submissions (old_la_code, received_at);
create table if not exists audit_log (
    id integer primary key,
    at text not null,
    action text not null,
    path text not null,
    user_id integer,
    email text,
    role text,
    old_la_code text,
    detail text not null,
    client text not null
);
create table if not exists sign_ins (
    at text not null,
    email text not null,
    client text not null,
    succeeded integer not null
);
create index if not exists sign_ins_by_time on sign_ins (at);
"""


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _stamp(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.parent.chmod(0o700)
        self._local = threading.local()
        with self._connect() as con:
            con.executescript(SCHEMA)
        for suffix in ("", "-wal", "-shm"):
            target = Path(f"{self.path}{suffix}")
            if target.exists():
                target.chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            # Files created from here on are the owner's only (the database, its WAL and shm).
            previous = os.umask(0o077)
            try:
                con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            finally:
                os.umask(previous)
            con.row_factory = sqlite3.Row
            con.execute("pragma journal_mode=wal")
            con.execute("pragma synchronous=normal")
            con.execute("pragma foreign_keys=on")
            self._local.con = con
        return con

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        return self._connect().execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self._connect().execute(sql, args).fetchall()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._connect().execute(sql, args)

    # -- accounts ----------------------------------------------------------------------------

    @staticmethod
    def _user(row: sqlite3.Row | None) -> User | None:
        if row is None:
            return None
        return User(
            id=row["id"],
            email=row["email"],
            role=row["role"],
            old_la_code=row["old_la_code"],
            password_hash=row["password_hash"],
            must_change_password=bool(row["must_change_password"]),
            created_at=_time(row["created_at"]),
            disabled_at=_time(row["disabled_at"]),
        )

    def add_user(self, email: str, role: str, old_la_code: str | None, password_hash: str) -> User:
        cursor = self._run(
            "insert into users (email, role, old_la_code, password_hash, created_at) values (?, ?, ?, ?, ?)",
            (email, role, old_la_code, password_hash, _stamp(now())),
        )
        return self.user_by_id(cursor.lastrowid)  # type: ignore[return-value]

    def user_by_email(self, email: str) -> User | None:
        return self._user(self._one("select * from users where email = ?", (email,)))

    def user_by_id(self, user_id: int) -> User | None:
        return self._user(self._one("select * from users where id = ?", (user_id,)))

    def users(self) -> list[User]:
        return [self._user(r) for r in self._all("select * from users order by email")]  # type: ignore[misc]

    def set_password(self, user_id: int, password_hash: str, *, must_change: bool) -> None:
        self._run(
            "update users set password_hash = ?, must_change_password = ? where id = ?",
            (password_hash, int(must_change), user_id),
        )

    def disable_user(self, user_id: int) -> None:
        self._run("update users set disabled_at = ? where id = ? and disabled_at is null", (_stamp(now()), user_id))

    # -- sessions ----------------------------------------------------------------------------

    def add_session(self, session: Session) -> None:
        self._run(
            "insert into sessions values (?, ?, ?, ?, ?)",
            (
                session.id_hash,
                session.user_id,
                session.csrf_token,
                _stamp(session.created_at),
                _stamp(session.last_seen_at),
            ),
        )

    def session(self, id_hash: str) -> Session | None:
        row = self._one("select * from sessions where id_hash = ?", (id_hash,))
        if row is None:
            return None
        return Session(
            row["id_hash"], row["user_id"], row["csrf_token"], _time(row["created_at"]), _time(row["last_seen_at"])
        )

    def touch_session(self, id_hash: str) -> None:
        self._run("update sessions set last_seen_at = ? where id_hash = ?", (_stamp(now()), id_hash))

    def delete_session(self, id_hash: str) -> None:
        self._run("delete from sessions where id_hash = ?", (id_hash,))

    def delete_sessions_of(self, user_id: int) -> None:
        self._run("delete from sessions where user_id = ?", (user_id,))

    # -- tokens ------------------------------------------------------------------------------

    @staticmethod
    def _token(row: sqlite3.Row | None) -> Token | None:
        if row is None:
            return None
        return Token(
            row["id"],
            row["user_id"],
            row["token_hash"],
            row["label"],
            _time(row["created_at"]),
            _time(row["last_used_at"]),
            _time(row["revoked_at"]),
        )

    def add_token(self, user_id: int, token_hash: str, label: str) -> Token:
        cursor = self._run(
            "insert into tokens (user_id, token_hash, label, created_at) values (?, ?, ?, ?)",
            (user_id, token_hash, label, _stamp(now())),
        )
        return self._token(self._one("select * from tokens where id = ?", (cursor.lastrowid,)))  # type: ignore[return-value]

    def token_by_hash(self, token_hash: str) -> Token | None:
        return self._token(self._one("select * from tokens where token_hash = ?", (token_hash,)))

    def tokens_of(self, user_id: int) -> list[Token]:
        return [self._token(r) for r in self._all("select * from tokens where user_id = ? order by id", (user_id,))]  # type: ignore[misc]

    def revoke_token(self, token_id: int) -> bool:
        cursor = self._run(
            "update tokens set revoked_at = ? where id = ? and revoked_at is null", (_stamp(now()), token_id)
        )
        return cursor.rowcount == 1

    def touch_token(self, token_id: int) -> None:
        self._run("update tokens set last_used_at = ? where id = ?", (_stamp(now()), token_id))

    # -- submissions -------------------------------------------------------------------------

    @staticmethod
    def _submission(row: sqlite3.Row | None) -> Submission | None:
        if row is None:
            return None
        return Submission(
            id=row["id"],
            old_la_code=row["old_la_code"],
            collection_year=row["collection_year"],
            user_id=row["user_id"],
            file_name=row["file_name"],
            sha256=row["sha256"],
            size_bytes=row["size_bytes"],
            received_at=_time(row["received_at"]),
            outcome=row["outcome"],
            errors=row["errors"],
            queries=row["queries"],
            report=json.loads(row["report"]),
            landed_as=row["landed_as"],
            republish_state=row["republish_state"],
            republish_message=row["republish_message"],
            republish_updated_at=_time(row["republish_updated_at"]),
        )

    def add_submission(self, submission: Submission) -> None:
        s = submission
        self._run(
            "insert into submissions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                s.id,
                s.old_la_code,
                s.collection_year,
                s.user_id,
                s.file_name,
                s.sha256,
                s.size_bytes,
                _stamp(s.received_at),
                s.outcome,
                s.errors,
                s.queries,
                json.dumps(s.report, default=str),
                s.landed_as,
                s.republish_state,
                s.republish_message,
                _stamp(s.republish_updated_at),
            ),
        )

    def submission(self, old_la_code: str, submission_id: str) -> Submission | None:
        row = self._one("select * from submissions where id = ? and old_la_code = ?", (submission_id, old_la_code))
        return self._submission(row)

    def submissions_of(self, old_la_code: str, limit: int = 100) -> list[Submission]:
        rows = self._all(
            "select * from submissions where old_la_code = ? order by received_at desc, rowid desc limit ?",
            (old_la_code, limit),
        )
        return [self._submission(r) for r in rows]  # type: ignore[misc]

    def recent_submissions(self, limit: int = 50) -> list[Submission]:
        rows = self._all("select * from submissions order by received_at desc, rowid desc limit ?", (limit,))
        return [self._submission(r) for r in rows]  # type: ignore[misc]

    def set_republish_state(self, old_la_code: str, submission_id: str, state: str, message: str = "") -> None:
        self._run(
            "update submissions set republish_state = ?, republish_message = ?, republish_updated_at = ? "
            "where id = ? and old_la_code = ?",
            (state, message, _stamp(now()), submission_id, old_la_code),
        )

    def submissions_in_republish_state(self, *states: str) -> list[Submission]:
        marks = ", ".join("?" for _ in states)
        rows = self._all(f"select * from submissions where republish_state in ({marks}) order by received_at", states)
        return [self._submission(r) for r in rows]  # type: ignore[misc]

    # -- audit and throttling ------------------------------------------------------------------

    def record(self, event: AuditEvent) -> None:
        self._run(
            "insert into audit_log (at, action, path, user_id, email, role, old_la_code, detail, client) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _stamp(event.at),
                event.action,
                event.path,
                event.user_id,
                event.email,
                event.role,
                event.old_la_code,
                event.detail,
                event.client,
            ),
        )

    def audit_events(self, limit: int = 200, old_la_code: str | None = None) -> list[AuditEvent]:
        where, args = ("where old_la_code = ?", (old_la_code,)) if old_la_code else ("", ())
        rows = self._all(f"select * from audit_log {where} order by id desc limit ?", (*args, limit))
        return [
            AuditEvent(
                action=r["action"],
                path=r["path"],
                user_id=r["user_id"],
                email=r["email"],
                role=r["role"],
                old_la_code=r["old_la_code"],
                detail=r["detail"],
                client=r["client"],
                at=_time(r["at"]),  # type: ignore[arg-type]
            )
            for r in rows
        ]

    def record_sign_in(self, email: str, client: str, succeeded: bool) -> None:
        self._run("insert into sign_ins values (?, ?, ?, ?)", (_stamp(now()), email, client, int(succeeded)))

    def failed_sign_ins(self, since: dt.datetime, *, email: str | None = None, client: str | None = None) -> int:
        column, value = ("email", email) if email is not None else ("client", client)
        row = self._one(
            f"select count(*) from sign_ins where succeeded = 0 and at >= ? and {column} = ?",
            (_stamp(since), value),
        )
        return int(row[0]) if row else 0
