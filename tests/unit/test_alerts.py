"""Alerts and honest run status: email and webhook against local listeners, exit codes, the run summary.

Run alone: `.venv/bin/pytest -q tests/unit/test_alerts.py` (an SMTP sink and an HTTP listener are
started on 127.0.0.1 by the tests themselves).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from orchestration import runner
from orchestration.lib import alerts
from tests.listeners import alert_environment, smtp_sink, webhook_listener

SUMMARY = {"job": "full_rebuild", "alerts": ["refused"], "not_loaded": [{"file": "returns/909/2023/c.xml"}]}


def _settings(**overrides: object) -> alerts.AlertSettings:
    return alerts.AlertSettings(**{"email_from": "workforce@test", "timeout": 5.0, **overrides})


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_alert_goes_by_email_and_webhook() -> None:
    with smtp_sink() as smtp, webhook_listener() as hook:
        settings = _settings(
            smtp_host="127.0.0.1",
            smtp_port=smtp.server_address[1],
            smtp_security="none",
            email_to=("a@example.org", "b@example.org"),
            webhook_url=f"http://127.0.0.1:{hook.server_address[1]}/alert",
        )
        sent, problems = alerts.send("workforce: full_rebuild refused", "Summary\n3 refused", SUMMARY, settings)

    assert (sorted(sent), problems) == (["email", "webhook"], [])
    [message] = smtp.messages
    assert message["Subject"] == "workforce: full_rebuild refused"
    assert message["To"] == "a@example.org, b@example.org"
    assert "3 refused" in message.get_payload()
    [post] = hook.posts
    assert post["path"] == "/alert" and post["content_type"] == "application/json"
    assert post["json"] == SUMMARY


def test_with_nothing_configured_nothing_is_sent_and_nothing_fails() -> None:
    settings = alerts.AlertSettings.from_environment({})

    assert alerts.send("subject", "text", SUMMARY, settings) == ([], [])


def test_a_channel_that_cannot_be_reached_is_reported_and_the_others_still_go() -> None:
    with webhook_listener() as hook:
        settings = _settings(
            smtp_host="127.0.0.1",
            smtp_port=_closed_port(),
            smtp_security="none",
            email_to=("a@example.org",),
            webhook_url=f"http://127.0.0.1:{hook.server_address[1]}/",
        )
        sent, problems = alerts.send("subject", "text", SUMMARY, settings)

    assert sent == ["webhook"] and len(hook.posts) == 1
    [problem] = problems
    assert problem.startswith("email alert failed")


@pytest.mark.parametrize(
    ("environment", "words"),
    [
        ({"WORKFORCE_ALERT_WEBHOOK_URL": "file:///etc/passwd"}, "http:// or https://"),
        ({"WORKFORCE_ALERT_SMTP_HOST": "127.0.0.1"}, "EMAIL_TO is not"),
        (
            {
                "WORKFORCE_ALERT_SMTP_HOST": "127.0.0.1",
                "WORKFORCE_ALERT_EMAIL_TO": "a@b",
                "WORKFORCE_ALERT_SMTP_SECURITY": "tls",
            },
            "SMTP_SECURITY must be one of",
        ),
    ],
)
def test_settings_that_cannot_work_are_said_and_nothing_is_sent(environment: dict[str, str], words: str) -> None:
    settings = alerts.AlertSettings.from_environment(environment)

    sent, problems = alerts.send("subject", "text", SUMMARY, settings)

    assert sent == []
    assert any(words in problem for problem in problems), problems


def _report(**fields: object) -> runner.RunReport:
    report = runner.RunReport(succeeded=True, seconds=1.0, job="full_rebuild", run_id="0123456789abcdef")
    report.published_version = "v1"
    for name, value in fields.items():
        setattr(report, name, value)
    return report


def _not_loaded(*decisions: str) -> dict[str, dict]:
    files = [{"file": f"returns/30{i}/2023/c.xml", "decision": d, "reason": "why"} for i, d in enumerate(decisions)]
    return {"raw/csww_returns": {"not_loaded": files}}


@pytest.mark.parametrize(
    ("fields", "exit_code", "reasons"),
    [
        ({}, runner.EXIT_CLEAN, []),
        ({"loads": _not_loaded("ignore")}, runner.EXIT_CLEAN, []),
        ({"loads": _not_loaded("refuse", "ignore")}, runner.EXIT_FILES_NOT_LOADED, ["refused"]),
        ({"loads": _not_loaded("quarantined")}, runner.EXIT_FILES_NOT_LOADED, ["quarantined"]),
        (
            {"succeeded": False, "published_version": None, "blocked_by": ["raw/x / suite"]},
            runner.EXIT_FAILED,
            ["publish_blocked"],
        ),
        ({"succeeded": False, "published_version": None}, runner.EXIT_FAILED, ["run_failed"]),
        (
            {"succeeded": False, "published_version": None, "loads": _not_loaded("quarantined")},
            runner.EXIT_FAILED,
            ["run_failed", "quarantined"],
        ),
    ],
)
def test_the_exit_status_and_the_alerts_say_how_the_run_went(
    fields: dict[str, object], exit_code: int, reasons: list[str]
) -> None:
    report = _report(**fields)

    assert (report.exit_code, report.alerts) == (exit_code, reasons)


def test_a_run_that_refused_files_alerts_and_writes_its_summary(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _report(loads=_not_loaded("refuse", "ignore"))
    with alert_environment(monkeypatch) as (smtp, hook):
        path = runner.finish(report)

    written = json.loads(path.read_text())
    assert json.loads((path.parent / "latest.json").read_text()) == written
    assert written["exit_code"] == runner.EXIT_FILES_NOT_LOADED
    assert written["files"] == {"quarantined": 0, "refused": 1, "ignored": 1}
    assert sorted(written["alerts_sent_by"]) == ["email", "webhook"]
    assert [entry["file"] for entry in written["not_loaded"]] == ["returns/300/2023/c.xml", "returns/301/2023/c.xml"]
    [message] = smtp.messages
    assert message["Subject"] == "workforce: full_rebuild refused"
    assert "refused returns/300/2023/c.xml: why" in message.get_payload()
    [post] = hook.posts
    assert post["json"]["not_loaded"] == written["not_loaded"]


def test_a_clean_run_writes_its_summary_and_alerts_no_one(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with alert_environment(monkeypatch) as (smtp, hook):
        path = runner.finish(_report())

    assert json.loads(path.read_text())["exit_code"] == runner.EXIT_CLEAN
    assert smtp.messages == [] and hook.posts == []
