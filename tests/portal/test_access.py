"""Who can reach what, over HTTP: every restricted route, by URL, token and form field.

A council's restricted data (submissions, reports, uploads, packs) is its own; another council's
answers 404 with nothing of the data in it; anonymous users get the sign-in page (pages) or 401
(API); revoked tokens and disabled accounts stop working; CSRF and sign-in throttling hold.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.portal.conftest import (
    PASSWORD,
    a_return,
    csrf_of,
    make_portal,
    sign_in,
    token_for,
)

A, B = "301", "316"
OFFICER_A, OFFICER_B = "officer@301.test", "officer@316.test"
ANALYST, ENGINEER = "analyst@region.test", "engineer@region.test"


@pytest.fixture(scope="module")
def b_submission(portal, portal_root) -> str:
    """A real submission of council B (its own 2023 return, re-sent), for A to try to reach."""
    from fastapi.testclient import TestClient

    with TestClient(portal.app, follow_redirects=False) as client:
        assert sign_in(client, OFFICER_B).status_code == 303
        form = client.get(f"/councils/{B}/submit")
        response = client.post(
            f"/councils/{B}/submit",
            data={"csrf_token": csrf_of(form.text)},
            files={"return_file": ("csww_2023.xml", a_return(portal_root, B, 2023), "text/xml")},
        )
        assert response.status_code == 303
        return response.headers["location"].rsplit("/", 1)[-1]


def page_routes(code: str, sid: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/councils/{code}"),
        ("GET", f"/councils/{code}/measures/turnover_rate_fte"),
        ("GET", f"/councils/{code}/pack?format=csv"),
        ("GET", f"/councils/{code}/submit"),
        ("POST", f"/councils/{code}/submit"),
        ("GET", f"/councils/{code}/submissions"),
        ("GET", f"/councils/{code}/submissions/{sid}"),
        ("GET", f"/councils/{code}/submissions/{sid}/report.txt"),
        ("GET", "/councils"),
        ("GET", "/tables"),
        ("GET", "/tables/fct_workforce_benchmarks.csv"),
        ("GET", "/engineer"),
        ("GET", "/engineer/quarantine"),
        ("GET", "/engineer/publications"),
        ("POST", "/engineer/rollback"),
        ("GET", "/engineer/alerts"),
        ("GET", "/engineer/audit"),
        ("GET", "/account/password"),
        ("GET", "/api"),
        ("GET", "/"),
    ]


def api_routes(code: str, sid: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/api/v1/councils/{code}/benchmarks"),
        ("GET", f"/api/v1/councils/{code}/pack?format=csv"),
        ("GET", f"/api/v1/councils/{code}/submissions"),
        ("GET", f"/api/v1/councils/{code}/submissions/{sid}"),
        ("POST", f"/api/v1/councils/{code}/returns"),
        ("GET", "/api/v1/tables/fct_workforce_benchmarks"),
    ]


def test_anonymous_users_get_the_sign_in_page_or_401_and_nothing_else(client_for, b_submission) -> None:
    client = client_for()
    for method, path in page_routes(B, b_submission):
        response = client.request(method, path)
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/sign-in"), (method, path)
    for method, path in api_routes(B, b_submission):
        response = client.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "turnover" not in response.text


def test_a_council_cannot_reach_another_councils_restricted_data_by_url(client_for, b_submission) -> None:
    client = client_for(OFFICER_A)
    form = client.get(f"/councils/{A}/submit")
    csrf = csrf_of(form.text)
    attempts = [
        ("GET", f"/councils/{B}/submit"),
        ("GET", f"/councils/{B}/submissions"),
        ("GET", f"/councils/{B}/submissions/{b_submission}"),
        ("GET", f"/councils/{B}/submissions/{b_submission}/report.txt"),
        ("GET", f"/councils/{B}/pack?format=csv"),
        # B's submission id under A's own code: the id alone gives nothing.
        ("GET", f"/councils/{A}/submissions/{b_submission}"),
        ("GET", f"/councils/{A}/submissions/{b_submission}/report.txt"),
    ]
    for method, path in attempts:
        response = client.request(method, path)
        assert response.status_code == 404, path
        assert b_submission not in response.text and "csww_2023.xml" not in response.text
    upload = client.post(
        f"/councils/{B}/submit",
        data={"csrf_token": csrf},
        files={"return_file": ("csww_2024.xml", b"<Message/>", "text/xml")},
    )
    assert upload.status_code == 404
    # Engineers' pages are not for councils.
    assert client.get("/engineer").status_code == 403
    assert client.get("/tables").status_code == 403


def test_a_council_token_reaches_its_own_council_only(portal, client_for, b_submission, portal_root) -> None:
    client = client_for()
    headers = {"Authorization": f"Bearer {token_for(portal, OFFICER_A)}"}
    assert client.get(f"/api/v1/councils/{A}/submissions", headers=headers).status_code == 200
    for method, path in api_routes(B, b_submission)[1:5]:
        kwargs = {"files": {"file": ("r.xml", a_return(portal_root, B, 2024), "text/xml")}} if method == "POST" else {}
        response = client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == 404, path
        assert b_submission not in response.text
    listed = client.get(f"/api/v1/councils/{A}/submissions/{b_submission}", headers=headers)
    assert listed.status_code == 404
    assert client.get("/api/v1/tables/fct_workforce_benchmarks", headers=headers).status_code == 403


def test_a_form_field_cannot_steer_an_upload_to_another_council(client_for, portal_root) -> None:
    """B's return sent by A, with form fields naming B: refused, and nothing lands under B."""
    client = client_for(OFFICER_A)
    target_b = portal_root / "raw" / "returns" / B / "2024" / "csww_2024.xml"
    before = target_b.read_bytes()
    form = client.get(f"/councils/{A}/submit")
    response = client.post(
        f"/councils/{A}/submit",
        data={"csrf_token": csrf_of(form.text), "old_la_code": B, "code": B, "year": "2024"},
        files={"return_file": ("csww_2024.xml", a_return(portal_root, B, 2024), "text/xml")},
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Your return was not accepted" in page.text
    assert "LEA" in page.text
    assert target_b.read_bytes() == before
    assert not list((portal_root / "raw").rglob(".portal-*")), "no temporary file may be left behind"


def test_a_revoked_token_and_a_disabled_account_stop_working(portal, client_for) -> None:
    from portal.security import digest

    client = client_for()
    secret = token_for(portal, OFFICER_A)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"/api/v1/councils/{A}/benchmarks", headers=headers).status_code == 200
    token = portal.store.token_by_hash(digest(secret))
    assert portal.store.revoke_token(token.id)
    response = client.get(f"/api/v1/councils/{A}/benchmarks", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    made_up = {"Authorization": "Bearer wfp_made_up"}
    assert client.get(f"/api/v1/councils/{A}/benchmarks", headers=made_up).status_code == 401


def test_disabling_an_account_ends_its_session_and_tokens(portal_root, client_for) -> None:
    from fastapi.testclient import TestClient

    from orchestration import cli
    from portal import security

    portal = make_portal()
    email = "leaver@301.test"
    user = portal.store.add_user(email, "council", A, security.hash_password(PASSWORD))
    portal.store.set_password(user.id, user.password_hash, must_change=False)
    secret = token_for(portal, email)
    with TestClient(portal.app, follow_redirects=False) as client:
        assert sign_in(client, email).status_code == 303
        assert client.get(f"/councils/{A}").status_code == 200
        assert cli.main(["users", "disable", "--email", email]) == 0
        assert client.get(f"/councils/{A}").status_code == 303
        bearer = {"Authorization": f"Bearer {secret}"}
        assert client.get(f"/api/v1/councils/{A}/benchmarks", headers=bearer).status_code == 401
        assert sign_in(client, email).status_code == 400


def test_forms_without_the_sessions_csrf_token_are_refused(portal, client_for, portal_root) -> None:
    client = client_for(OFFICER_A)
    before = len(portal.store.submissions_of(A))
    upload = {"return_file": ("csww_2024.xml", a_return(portal_root, A, 2024), "text/xml")}
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"/councils/{A}/submit", data=data, files=upload)
        assert response.status_code == 403
        assert "expired" in response.text
    assert client.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403
    assert client.get(f"/councils/{A}").status_code == 200  # still signed in
    assert len(portal.store.submissions_of(A)) == before

    engineer = client_for(ENGINEER)
    assert engineer.post("/engineer/rollback", data={"csrf_token": "forged"}).status_code == 403

    # Sign-in itself: the form token must match the cookie set with the form (login CSRF).
    stranger = client_for()
    response = stranger.post("/sign-in", data={"email": OFFICER_A, "password": PASSWORD, "form_token": "x"})
    assert response.status_code == 403


def test_sign_in_is_throttled_after_repeated_failures(portal_root, client_for) -> None:
    from fastapi.testclient import TestClient

    portal = make_portal(login_failures_allowed=3)
    with TestClient(portal.app, follow_redirects=False) as client:
        for _ in range(3):
            assert sign_in(client, OFFICER_B, "wrong password!").status_code == 400
        held = sign_in(client, OFFICER_B)  # the right password, too late
        assert held.status_code == 429
        assert "too many failed attempts" in held.text
        # Another account from the same address is not yet held back.
        assert sign_in(client, "officer@203.test").status_code == 303


def test_councils_outside_the_agreement_cannot_sign_in(portal, client_for) -> None:
    from portal import security

    email = "officer@330.test"
    if portal.store.user_by_email(email) is None:
        user = portal.store.add_user(email, "council", "330", security.hash_password(PASSWORD))
        portal.store.set_password(user.id, user.password_hash, must_change=False)
    client = client_for()
    assert sign_in(client, email).status_code == 400
    assert sign_in(client, "officer@302.test").status_code == 400  # joins only in 2999


def test_roles_see_their_own_sections_only(portal, client_for) -> None:
    analyst = client_for(ANALYST)
    assert analyst.get("/tables").status_code == 200
    csv_table = analyst.get("/tables/fct_workforce_benchmarks.csv")
    assert csv_table.status_code == 200 and csv_table.text.startswith("time_period,old_la_code")
    parquet = analyst.get("/tables/dim_local_authorities.parquet")
    assert parquet.status_code == 200 and parquet.content[:4] == b"PAR1"
    assert analyst.get("/tables/raw_csww.csv").status_code == 404
    assert analyst.get(f"/councils/{B}/submissions").status_code == 404
    assert analyst.get(f"/councils/{B}/pack?format=csv").status_code == 200
    assert analyst.get("/engineer").status_code == 403

    engineer = client_for(ENGINEER)
    for path in ("/engineer", "/engineer/quarantine", "/engineer/publications", "/engineer/alerts", "/engineer/audit"):
        assert engineer.get(path).status_code == 200, path
    assert engineer.get(f"/councils/{A}").status_code == 403
    assert engineer.get(f"/councils/{A}/submissions").status_code == 403
    assert engineer.get("/tables").status_code == 403


def test_the_audit_log_records_views_downloads_and_uploads(portal, client_for, portal_root) -> None:
    client = client_for(OFFICER_A)
    client.get(f"/councils/{A}")
    client.get(f"/councils/{A}/pack?format=csv")
    form = client.get(f"/councils/{A}/submit")
    client.post(
        f"/councils/{A}/submit",
        data={"csrf_token": csrf_of(form.text)},
        files={"return_file": ("not-xml.pdf", b"%PDF-1.7", "application/pdf")},
    )
    events = portal.store.audit_events(50, old_la_code=A)
    actions = {(e.action, e.email) for e in events}
    assert {("page", OFFICER_A), ("download", OFFICER_A), ("upload", OFFICER_A)} <= actions
    upload = next(e for e in events if e.action == "upload")
    assert "rejected" in upload.detail
    assert all(e.client for e in events)


def test_the_openapi_document_describes_the_api(client_for) -> None:
    schema = client_for().get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/councils/{code}/benchmarks",
        "/api/v1/councils/{code}/pack",
        "/api/v1/councils/{code}/submissions",
        "/api/v1/councils/{code}/returns",
    ):
        assert path in schema["paths"], path
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert not any(p.startswith(("/councils", "/engineer", "/sign-in")) for p in schema["paths"])
    assert re.search("bearer", str(schema["components"]["securitySchemes"]), re.I)


def test_quarantine_reports_reach_the_engineer_and_the_council_they_belong_to(portal_root, client_for) -> None:
    """A return the warehouse's load refused, as the loader files it: engineers see every council's,
    a council its own (on its submissions page), nobody else."""
    folder = portal_root / "data" / "quarantine" / "csww_returns" / ("0123456789ab" * 5 + "0123")
    folder.mkdir(parents=True)
    (folder / "report.txt").write_text("CSWW return csww_2024.xml: LA 316\nNOT LOADED: 1 errors\n", encoding="utf-8")
    entry = {
        "file": f"returns/{B}/2024/csww_2024.xml",
        "written_at": "2026-12-01T00:00:00+00:00",
        "partition": [B, 2024],
    }
    (folder / "entry.json").write_text(json.dumps(entry), encoding="utf-8")

    engineer = client_for(ENGINEER)
    listing = engineer.get("/engineer/quarantine")
    assert f"Council {B}" in listing.text
    report = engineer.get(f"/engineer/quarantine/{B}/2024/{folder.name}")
    assert report.status_code == 200 and "NOT LOADED" in report.text
    assert engineer.get(f"/engineer/quarantine/{B}/2024/../../../secrets").status_code == 404

    assert "NOT LOADED" in client_for(OFFICER_B).get(f"/councils/{B}/submissions").text
    assert "NOT LOADED" not in client_for(OFFICER_A).get(f"/councils/{A}/submissions").text
    assert client_for(OFFICER_A).get(f"/engineer/quarantine/{B}/2024/{folder.name}").status_code == 403


def test_rollback_needs_an_engineer_and_an_earlier_version(client_for) -> None:
    engineer = client_for(ENGINEER)
    page = engineer.get("/engineer/publications")
    response = engineer.post("/engineer/rollback", data={"csrf_token": csrf_of(page.text)})
    # The scenario has published once: there is nothing earlier, and the answer says so.
    assert response.status_code == 409
    assert "no earlier version" in response.text
    council = client_for(OFFICER_A)
    form = council.get(f"/councils/{A}")
    assert council.post("/engineer/rollback", data={"csrf_token": csrf_of(form.text)}).status_code == 403


def test_a_one_time_password_must_be_replaced_before_anything_else(portal_root, capsys) -> None:
    from fastapi.testclient import TestClient

    from orchestration import cli

    assert cli.main(["users", "add", "--email", "New.Officer@301.test", "--role", "council", "--council", A]) == 0
    one_time = re.search(r"One-time password.*: (\S+)", capsys.readouterr().out).group(1)
    assert cli.main(["users", "add", "--email", "x@330.test", "--role", "council", "--council", "330"]) == 2
    assert "does not take part" in capsys.readouterr().err
    portal = make_portal()
    with TestClient(portal.app, follow_redirects=False) as client:
        response = sign_in(client, "new.officer@301.test", one_time)
        assert response.headers["location"] == "/account/password"
        assert client.get(f"/councils/{A}").headers["location"] == "/account/password"
        form = client.get("/account/password")
        too_short = {"csrf_token": csrf_of(form.text), "current": one_time, "new": "short", "confirm": "short"}
        assert client.post("/account/password", data=too_short).status_code == 400
        chosen = "my own long password"
        changed = client.post(
            "/account/password",
            data={"csrf_token": csrf_of(form.text), "current": one_time, "new": chosen, "confirm": chosen},
        )
        assert changed.status_code == 303
        assert client.get(f"/councils/{A}").status_code == 200
    with TestClient(portal.app, follow_redirects=False) as client:
        assert sign_in(client, "new.officer@301.test", one_time).status_code == 400
        assert sign_in(client, "new.officer@301.test", chosen).headers["location"] == f"/councils/{A}"
