"""Tell someone when a run needs attention: an email through an SMTP host, a JSON POST to a webhook.

Runs call `send` when they failed, when a blocking check stopped publishing, or when files were
quarantined or refused (orchestration/runner.py decides). Settings are read from the environment
when an alert is sent, and nothing is sent unless they are set; the password is only ever read
from the environment, so no secret is written to a file by this project.

| variable                         | meaning                                                      |
|----------------------------------|--------------------------------------------------------------|
| WORKFORCE_ALERT_WEBHOOK_URL      | POST the run summary as JSON here (http or https only)       |
| WORKFORCE_ALERT_SMTP_HOST        | send email through this host                                 |
| WORKFORCE_ALERT_SMTP_PORT        | its port (default 587)                                       |
| WORKFORCE_ALERT_SMTP_SECURITY    | starttls (default), ssl, or none (a relay on this machine)   |
| WORKFORCE_ALERT_SMTP_USER        | log in as this user (optional)                               |
| WORKFORCE_ALERT_SMTP_PASSWORD    | with this password                                           |
| WORKFORCE_ALERT_EMAIL_FROM       | sender (default workforce@<this host>)                       |
| WORKFORCE_ALERT_EMAIL_TO         | recipients, comma-separated (needed for email)               |
| WORKFORCE_ALERT_TIMEOUT          | seconds to wait for the host or the webhook (default 10)     |

What is sent is the run summary: job, outcome, counts, and the files not loaded with the reason
the landing zone or the loader gave. It holds no worker-level data: a quarantined return is
described by its error count and where its report is, never by the values in it.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

log = logging.getLogger("workforce")

PREFIX = "WORKFORCE_ALERT_"
SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class AlertSettings:
    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    email_from: str = ""
    email_to: tuple[str, ...] = ()
    timeout: float = 10.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(PREFIX + name, "").strip()
            return value or None

        return cls(
            webhook_url=get("WEBHOOK_URL"),
            smtp_host=get("SMTP_HOST"),
            smtp_port=int(get("SMTP_PORT") or 587),
            smtp_security=(get("SMTP_SECURITY") or "starttls").lower(),
            smtp_user=get("SMTP_USER"),
            smtp_password=get("SMTP_PASSWORD"),
            email_from=get("EMAIL_FROM") or f"workforce@{socket.getfqdn()}",
            email_to=tuple(a.strip() for a in (get("EMAIL_TO") or "").split(",") if a.strip()),
            timeout=float(get("TIMEOUT") or 10),
        )

    def problems(self) -> list[str]:
        """Settings that cannot work, said so that whoever set them can put them right."""
        found = []
        if self.webhook_url and urllib.parse.urlsplit(self.webhook_url).scheme not in ("http", "https"):
            found.append(f"{PREFIX}WEBHOOK_URL must be an http:// or https:// address")
        if self.smtp_host and not self.email_to:
            found.append(f"{PREFIX}SMTP_HOST is set but {PREFIX}EMAIL_TO is not: no one to email")
        if self.smtp_host and self.smtp_security not in SECURITY:
            found.append(f"{PREFIX}SMTP_SECURITY must be one of {', '.join(SECURITY)}")
        return found


def send(
    subject: str, text: str, summary: dict[str, Any], settings: AlertSettings | None = None
) -> tuple[list[str], list[str]]:
    """Send the alert through every configured channel: the channels it went by, and what went wrong.

    Never raises: an alert that cannot be sent must not hide or change the outcome of the run it is
    about (the problems go to the log and the run summary).
    """
    settings = settings or AlertSettings.from_environment()
    problems = settings.problems()
    channels = []
    if settings.webhook_url and not problems:
        channels.append(("webhook", lambda: _post(settings, summary)))
    if settings.smtp_host and not problems:
        channels.append(("email", lambda: _email(settings, subject, text)))
    if not channels and not problems:
        log.info("alert not sent (no %s* settings): %s", PREFIX, subject)
    sent = []
    for name, deliver in channels:
        try:
            deliver()
        except (OSError, smtplib.SMTPException, ValueError) as error:
            problems.append(f"{name} alert failed: {error}")
        else:
            sent.append(name)
            log.info("alert sent by %s: %s", name, subject)
    for problem in problems:
        log.warning("alert: %s", problem)
    return sent, problems


def _post(settings: AlertSettings, summary: dict[str, Any]) -> None:
    body = json.dumps(summary, sort_keys=True, default=str).encode("utf-8")
    request = urllib.request.Request(
        settings.webhook_url or "",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "workforce-warehouse-alerts"},
    )
    # Only http(s) gets here (problems() refuses file: and other schemes); an HTTP error status raises.
    with urllib.request.urlopen(request, timeout=settings.timeout):
        pass


def _email(settings: AlertSettings, subject: str, text: str) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = ", ".join(settings.email_to)
    message.set_content(text)
    host, port, timeout = settings.smtp_host or "", settings.smtp_port, settings.timeout
    context = ssl.create_default_context()
    if settings.smtp_security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    with server:
        if settings.smtp_security == "starttls":
            server.starttls(context=context)
        if settings.smtp_user:
            server.login(settings.smtp_user, settings.smtp_password or "")
        server.send_message(message)
