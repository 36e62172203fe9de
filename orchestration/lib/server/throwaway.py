"""A throwaway PostgreSQL server from the machine's binaries, for the tests and `make bench`.

It lives in a temporary folder (data directory and socket), listens on a Unix socket only (no
TCP port is opened, so nothing outside this machine can reach it), on a port number that is
free, and is stopped and deleted on exit. `initdb` and `pg_ctl` refuse to run as root, so as
root (CI) the server runs as the unprivileged `nobody`, which then owns the folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "workforce"
DATABASE = "workforce"
UNPRIVILEGED_USER = "nobody"


class ServerUnavailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the server would not start."""


@dataclass(frozen=True)
class ThrowawayServer:
    socket_dir: Path
    port: int

    @property
    def url(self) -> str:
        """The superuser's URL (trust authentication over the private socket)."""
        return self.url_for(SUPERUSER)

    def url_for(self, role: str, database: str = DATABASE) -> str:
        return f"postgresql://{role}@/{database}?host={self.socket_dir}&port={self.port}"


def server_binaries() -> Path:
    """The folder holding initdb, pg_ctl and postgres: Debian's versioned folder, else the PATH."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise ServerUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found in /usr/lib/postgresql/*/bin "
        "or on the PATH. Install PostgreSQL 15 (Debian: apt-get install postgresql-15) to run the server tests."
    )


def _free_port() -> int:
    """A port no local TCP server holds: it names the socket file, and stays free should TCP be turned on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], as_user: str | None) -> None:
    if as_user:
        command = ["su", "-s", "/bin/sh", as_user, "-c", shlex.join(command)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServerUnavailable(f"{shlex.join(command)} failed ({done.returncode}): {done.stderr or done.stdout}")


@contextmanager
def throwaway_server() -> Iterator[ThrowawayServer]:
    """Start a new, empty server; stop it and delete its files on exit."""
    binaries = server_binaries()
    as_user = UNPRIVILEGED_USER if os.geteuid() == 0 else None
    # `nobody` must reach the folder: under /tmp, not a TMPDIR only root may enter.
    root = Path(tempfile.mkdtemp(prefix="workforce-pg-", dir="/tmp" if as_user else None))
    if as_user:
        account = pwd.getpwnam(as_user)
        os.chown(root, account.pw_uid, account.pw_gid)
    data, sockets, port = root / "data", root / "socket", _free_port()
    pg_ctl = str(binaries / "pg_ctl")
    started = False
    try:
        _run(["mkdir", "-m", "700", str(sockets)], as_user)
        _run(
            [str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"],
            as_user,
        )
        # fsync off: nothing on a throwaway server needs to survive a crash.
        options = f"-c listen_addresses='' -c unix_socket_directories={sockets} -p {port} -c fsync=off"
        log = root / "server.log"
        try:
            _run([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], as_user)
        except ServerUnavailable as exc:
            said = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ServerUnavailable(f"{exc}\nThe server's log:\n{said}") from exc
        started = True
        _run([str(binaries / "createdb"), "-h", str(sockets), "-p", str(port), "-U", SUPERUSER, DATABASE], as_user)
        yield ThrowawayServer(sockets, port)
    finally:
        if started:
            _run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], as_user)
        shutil.rmtree(root, ignore_errors=True)
