"""Where the portal keeps its own state: accounts, sessions, tokens, submissions, the audit log.

`Store` is the whole interface the rest of the portal uses. The embedded default is SQLite under
data/portal (`sqlite.SqliteStore`); the shared deployment keeps it on the warehouse server
(`postgres.PostgresStore`). Every method that touches one council's rows takes that council's
`old_la_code`, which the server's store sets on its transaction for row-level security.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

ROLE_COUNCIL, ROLE_ANALYST, ROLE_ENGINEER = "council", "analyst", "engineer"
ROLES = (ROLE_COUNCIL, ROLE_ANALYST, ROLE_ENGINEER)

# What became of an upload, and then of the republish it asked for.
ACCEPTED, REJECTED = "accepted", "rejected"
REPUBLISH_NOT_REQUESTED = "not_requested"
REPUBLISH_QUEUED, REPUBLISH_RUNNING = "queued", "running"
REPUBLISH_FINISHED, REPUBLISH_FAILED = "finished", "failed"
REPUBLISH_WAITING_FOR_SENSOR = "waiting_for_sensor"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: str
    old_la_code: str | None
    password_hash: str
    must_change_password: bool
    created_at: dt.datetime
    disabled_at: dt.datetime | None


@dataclass(frozen=True)
class Session:
    id_hash: str
    user_id: int
    csrf_token: str
    created_at: dt.datetime
    last_seen_at: dt.datetime


@dataclass(frozen=True)
class Token:
    id: int
    user_id: int
    token_hash: str
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class Submission:
    id: str
    old_la_code: str
    collection_year: int
    user_id: int
    file_name: str
    """The name the council's file had, for display only: never used as a path."""
    sha256: str
    size_bytes: int
    received_at: dt.datetime
    outcome: str
    errors: int
    queries: int
    report: dict[str, Any]
    landed_as: str | None = None
    republish_state: str = REPUBLISH_NOT_REQUESTED
    republish_message: str = ""
    republish_updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class AuditEvent:
    action: str
    """page | download | upload | sign_in | sign_out | rollback | api"""
    path: str
    user_id: int | None = None
    email: str | None = None
    role: str | None = None
    old_la_code: str | None = None
    """The council whose data was shown, downloaded or uploaded (None for England-wide pages)."""
    detail: str = ""
    client: str = ""
    at: dt.datetime = field(default_factory=now)


class Store(Protocol):
    # accounts
    def add_user(self, email: str, role: str, old_la_code: str | None, password_hash: str) -> User: ...
    def user_by_email(self, email: str) -> User | None: ...
    def user_by_id(self, user_id: int) -> User | None: ...
    def users(self) -> list[User]: ...
    def set_password(self, user_id: int, password_hash: str, *, must_change: bool) -> None: ...
    def disable_user(self, user_id: int) -> None: ...

    # sessions (only a hash of the session id is stored)
    def add_session(self, session: Session) -> None: ...
    def session(self, id_hash: str) -> Session | None: ...
    def touch_session(self, id_hash: str) -> None: ...
    def delete_session(self, id_hash: str) -> None: ...
    def delete_sessions_of(self, user_id: int) -> None: ...

    # API tokens (only a hash is stored)
    def add_token(self, user_id: int, token_hash: str, label: str) -> Token: ...
    def token_by_hash(self, token_hash: str) -> Token | None: ...
    def tokens_of(self, user_id: int) -> list[Token]: ...
    def revoke_token(self, token_id: int) -> bool: ...
    def touch_token(self, token_id: int) -> None: ...

    # submissions, always within one council
    def add_submission(self, submission: Submission) -> None: ...
    def submission(self, old_la_code: str, submission_id: str) -> Submission | None: ...
    def submissions_of(self, old_la_code: str, limit: int = 100) -> list[Submission]: ...
    def recent_submissions(self, limit: int = 50) -> list[Submission]: ...
    def set_republish_state(self, old_la_code: str, submission_id: str, state: str, message: str = "") -> None: ...
    def submissions_in_republish_state(self, *states: str) -> list[Submission]: ...

    # audit log and sign-in throttling
    def record(self, event: AuditEvent) -> None: ...
    def audit_events(self, limit: int = 200, old_la_code: str | None = None) -> list[AuditEvent]: ...
    def record_sign_in(self, email: str, client: str, succeeded: bool) -> None: ...
    def failed_sign_ins(self, since: dt.datetime, *, email: str | None = None, client: str | None = None) -> int: ...


def open_store(settings: Any) -> Store:
    """The store the settings name: the warehouse server's `portal` schema when a database URL is
    set (the shared deployment), else the SQLite file under data/portal."""
    if settings.database_url:
        from portal.store.postgres import PostgresStore

        return PostgresStore(settings.database_url)
    from portal.store.sqlite import SqliteStore

    return SqliteStore(settings.database_path)
