"""The portal's state on the server: it behaves as the embedded store does, and the database itself
keeps each council's submissions, validation reports and audit entries to transactions acting for
that council, so a query the portal gets wrong cannot return another council's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from orchestration.lib.server.throwaway import ThrowawayServer
from portal import security
from portal.store import ACCEPTED, REJECTED, AuditEvent, Session, Store, Submission
from portal.store.postgres import PostgresStore
from portal.store.sqlite import SqliteStore
from tests.postgres.conftest import portal_login

PORTAL_LOGIN = "portal_app"
RECEIVED = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def portal_url(pg_server: ThrowawayServer, pg_database: str) -> str:
    """The portal's login on the module's database."""
    return portal_login(pg_database, PORTAL_LOGIN)


@pytest.fixture
def server_store(portal_url: str, pg_database: str) -> Iterator[PostgresStore]:
    yield PostgresStore(portal_url)
    with psycopg.connect(pg_database) as owner:  # each test starts from empty tables
        owner.execute(
            "truncate portal.sessions, portal.tokens, portal.submissions, portal.audit_log, portal.sign_ins, "
            "portal.users restart identity"
        )


def _submission(code: str, number: int, outcome: str = ACCEPTED) -> Submission:
    return Submission(
        id=f"{code}-{number}",
        old_la_code=code,
        collection_year=2024,
        user_id=1 if code == "301" else 2,
        file_name=f"csww_{number}.xml",
        sha256="ab" * 32,
        size_bytes=1000 + number,
        received_at=RECEIVED + dt.timedelta(minutes=number),
        outcome=outcome,
        errors=0 if outcome == ACCEPTED else 2,
        queries=1,
        report={"findings": [{"rule": "fte-range", "value": 1.5}], "checked_on": dt.date(2026, 11, 30)},
    )


def _what_the_portal_reads(store: Store) -> dict[str, Any]:
    """One council officer's journey and the engineers' views, as the pages read them."""
    officer = store.add_user("officer@301.test", "council", "301", security.hash_password("a long password"))
    store.add_user("officer@316.test", "council", "316", "not a hash")
    store.set_password(officer.id, officer.password_hash, must_change=False)
    store.add_session(Session("session-hash", officer.id, "csrf", RECEIVED, RECEIVED))
    token = store.add_token(officer.id, "token-hash", "nightly")
    revoked = store.revoke_token(token.id)
    for submission in (_submission("301", 1), _submission("316", 2), _submission("301", 3, REJECTED)):
        store.add_submission(submission)
    store.set_republish_state("301", "301-1", "queued", "waiting for the run")
    store.set_republish_state("316", "301-1", "failed", "another council's id changes nothing")
    for code in ("301", "316", None):
        store.record(AuditEvent("page", f"/councils/{code}", officer.id, officer.email, "council", code, at=RECEIVED))
    store.record_sign_in("officer@301.test", "10.0.0.1", succeeded=False)
    store.record_sign_in("officer@301.test", "10.0.0.1", succeeded=True)
    user = store.user_by_email("officer@301.test")
    return {
        "users": [(u.email, u.role, u.old_la_code, u.must_change_password) for u in store.users()],
        "password_kept": user is not None and security.verify_password(user.password_hash, "a long password"),
        "session": store.session("session-hash"),
        "token_revoked": (revoked, store.token_by_hash("token-hash").revoked_at is not None),
        "301": [(s.id, s.outcome, s.report, s.republish_state) for s in store.submissions_of("301")],
        "316": [s.id for s in store.submissions_of("316")],
        "other council's id": store.submission("316", "301-1"),
        "queued": [s.id for s in store.submissions_in_republish_state("queued")],
        "recent": [s.id for s in store.recent_submissions()],
        "audit of 301": [(e.action, e.path, e.old_la_code) for e in store.audit_events(old_la_code="301")],
        "audit": [(e.action, e.path) for e in store.audit_events()],
        "failed sign-ins": store.failed_sign_ins(RECEIVED - dt.timedelta(days=1), email="officer@301.test"),
    }


def test_the_server_store_reads_what_the_embedded_store_reads(server_store: PostgresStore, tmp_path: Path) -> None:
    embedded = _what_the_portal_reads(SqliteStore(tmp_path / "portal.sqlite"))
    on_server = _what_the_portal_reads(server_store)
    assert on_server == embedded
    assert on_server["301"][0][2] == {"findings": [{"rule": "fte-range", "value": 1.5}], "checked_on": "2026-11-30"}
    assert on_server["316"] == ["316-2"] and on_server["other council's id"] is None
    assert on_server["queued"] == ["301-1"] and on_server["failed sign-ins"] == 1


def _as_portal(url: str, council: str | None) -> psycopg.Connection:
    con = psycopg.connect(url)
    if council is not None:
        con.execute("select set_config('workforce.council', %s, true)", [council])
    return con


def test_the_database_keeps_each_councils_rows_to_transactions_acting_for_it(
    server_store: PostgresStore, portal_url: str
) -> None:
    server_store.add_user("officer@301.test", "council", "301", "hash")
    server_store.add_user("officer@316.test", "council", "316", "hash")
    for submission in (_submission("301", 1), _submission("316", 2)):
        server_store.add_submission(submission)
    for code in ("301", "316"):
        server_store.record(AuditEvent("upload", f"/councils/{code}/submit", old_la_code=code))

    with _as_portal(portal_url, None) as con:
        assert con.execute("select count(*) from portal.submissions").fetchone() == (0,), "no council said: no rows"
    with _as_portal(portal_url, "301") as con:
        # A query that forgot its filter still returns the acting council's rows only.
        assert con.execute("select old_la_code, report from portal.submissions").fetchall() == [
            ("301", {"findings": [{"rule": "fte-range", "value": 1.5}], "checked_on": "2026-11-30"})
        ]
        assert con.execute("select distinct old_la_code from portal.audit_log").fetchall() == [("301",)]
        assert con.execute("update portal.submissions set outcome = 'accepted'").rowcount == 1
    with _as_portal(portal_url, "301") as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute(
            "insert into portal.submissions (id, old_la_code, collection_year, user_id, file_name, sha256, "
            "size_bytes, received_at, outcome, errors, queries, report, republish_state) "
            "values ('316-9', '316', 2024, 2, 'x.xml', 'ab', 1, now(), 'accepted', 0, 0, '{}', 'queued')"
        )
    attempts = [
        "update portal.audit_log set detail = 'tampered'",
        "delete from portal.audit_log",
        "delete from portal.submissions",
        "alter table portal.submissions disable row level security",
        "set role workforce",
    ]
    for statement in attempts:
        with _as_portal(portal_url, "*") as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute(statement)


def test_the_portal_serves_from_the_server_store(
    embedded_root: Path, server_store: PostgresStore, portal_url: str
) -> None:
    from portal.app import create_app
    from portal.settings import load_settings

    officer = server_store.add_user("officer@301.test", "council", "301", security.hash_password("a long password"))
    other = server_store.add_user("officer@316.test", "council", "316", security.hash_password("a long password"))
    assert (officer.id, other.id) == (1, 2), "the ids _submission gives its rows"
    for submission in (_submission("301", 1), _submission("316", 2)):
        server_store.add_submission(submission)
    secret = security.new_api_token()
    server_store.add_token(officer.id, security.digest(secret), "test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_PORTAL_DATABASE_URL", portal_url)
        settings = load_settings(republish="off")
        assert isinstance(create_app(settings).state.portal.store, PostgresStore)
        with TestClient(create_app(settings)) as client:
            headers = {"Authorization": f"Bearer {secret}"}
            own = client.get("/api/v1/councils/301/submissions", headers=headers)
            other_council = client.get("/api/v1/councils/316/submissions", headers=headers)
    assert own.status_code == 200 and [s["id"] for s in own.json()] == ["301-1"]
    assert other_council.status_code == 404
    audited = [(e.action, e.old_la_code) for e in server_store.audit_events()]
    assert ("download", "301") in audited
