"""A local SMTP sink and a local HTTP listener on 127.0.0.1, for testing alerts without a network.

Each runs in a thread of the test process, on a port the system picks, and keeps what it received.
The SMTP sink speaks just enough of the protocol for smtplib (no TLS, no authentication).
"""

from __future__ import annotations

import email
import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self.reply("220 127.0.0.1 test sink")
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:
                if line == b".\r\n":
                    self.server.messages.append(email.message_from_bytes(b"".join(data)))  # type: ignore[attr-defined]
                    data = None
                    self.reply("250 queued")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            command = line[:4].upper()
            if command in (b"EHLO", b"HELO"):
                self.reply("250 127.0.0.1")
            elif command == b"DATA":
                data = []
                self.reply("354 end with .")
            elif command == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[Message] = []


class _WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append(  # type: ignore[attr-defined]
            {"path": self.path, "content_type": self.headers["Content-Type"], "json": json.loads(body)}
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass


class _WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.posts: list[dict[str, Any]] = []


@contextmanager
def _serving(server: socketserver.BaseServer) -> Iterator[Any]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def smtp_sink() -> Iterator[_SMTPServer]:
    with _serving(_SMTPServer()) as server:
        yield server


@contextmanager
def webhook_listener() -> Iterator[_WebhookServer]:
    with _serving(_WebhookServer()) as server:
        yield server


@contextmanager
def alert_environment(monkeypatch: Any) -> Iterator[tuple[_SMTPServer, _WebhookServer]]:
    """Both listeners, with the WORKFORCE_ALERT_* settings pointing at them."""
    with smtp_sink() as smtp, webhook_listener() as hook:
        monkeypatch.setenv("WORKFORCE_ALERT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("WORKFORCE_ALERT_SMTP_PORT", str(smtp.server_address[1]))
        monkeypatch.setenv("WORKFORCE_ALERT_SMTP_SECURITY", "none")
        monkeypatch.setenv("WORKFORCE_ALERT_EMAIL_TO", "data-team@example.org")
        monkeypatch.setenv("WORKFORCE_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{hook.server_address[1]}/hooks/workforce")
        yield smtp, hook
