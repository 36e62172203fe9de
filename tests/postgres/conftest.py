"""The shared-deployment tests: a throwaway PostgreSQL 15 server per test worker, and one published
warehouse (the embedded default) that every module copies.

The tests do not skip without PostgreSQL: when its server programs are missing they fail, saying
what to install. The scenario: councils 301, 316, 203 and 330 sent returns for 2023 and 2024;
the portal tests' agreement (tests/portal/agreement.toml) says who shares provisional figures.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from orchestration import runner
from orchestration.cli import main
from orchestration.lib import paths
from orchestration.lib.server.throwaway import ServerUnavailable, ThrowawayServer, throwaway_server
from tests.integration.helpers import built_once, private_copy, publish_scenario
from tests.portal.conftest import AGREEMENT, portal_base, portal_root  # noqa: F401 (fixtures: the portal tests' scenario)

RETURN_COUNCILS = ["301", "316", "203", "330"]
YEARS = [2023, 2024]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ThrowawayServer]:
    try:
        server = throwaway_server()
        started = server.__enter__()
    except ServerUnavailable as exc:
        pytest.fail(f"The PostgreSQL server tests need PostgreSQL 15: {exc}", pytrace=False)
    try:
        yield started
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def pg_database(pg_server: ThrowawayServer, request: pytest.FixtureRequest) -> str:
    """A new, empty database for one test module; the superuser's URL to it."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    with psycopg.connect(pg_server.url, autocommit=True) as con:
        con.execute(f'drop database if exists "{name}"')
        con.execute(f'create database "{name}"')
    return pg_server.url_for("workforce", name)


def portal_login(database_url: str, role: str) -> str:
    """The portal's login on a database, made by `workforce server portal-login`; its URL."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_WAREHOUSE_URL", database_url)
        patch.setattr("sys.stdin", io.StringIO("the portal's password\n"))
        assert main(["server", "portal-login", "--role", role, "--password-stdin"]) == 0
    return database_url.replace("postgresql://workforce@", f"postgresql://{role}@")


def _build(root: Path) -> None:
    publish_scenario(root, AGREEMENT, councils=RETURN_COUNCILS, years=YEARS, edit_landing_zone=lambda: None)


@pytest.fixture(scope="session")
def embedded_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario published on the embedded default, built once and shared by every worker."""
    return built_once(tmp_path_factory, "server_base", _build)


@pytest.fixture(scope="module")
def embedded_root(embedded_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private copy of the scenario for one test module, with the environment pointing at it."""
    with private_copy(embedded_base, tmp_path_factory, AGREEMENT, "server") as root:
        yield root


DAEMON_START_SECONDS = 120


@contextlib.contextmanager
def dagster_daemon(log: Path) -> Iterator[None]:
    """`dagster-daemon run` on the shared deployment's storage (WORKFORCE_WAREHOUSE_URL set), as a
    deployment runs it, until its run queue is beating. The landing-zone sensor is stopped first:
    the tests start the runs they mean to, and the sensor's first look would queue a rebuild."""
    runner.prepare_environment()
    workspace = str(paths.PROJECT_ROOT / "workspace.yaml")
    tool = Path(sys.executable).with_name
    stopped = subprocess.run(
        [str(tool("dagster")), "sensor", "stop", "landing_zone_sensor", "-w", workspace],
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert stopped.returncode == 0, stopped.stderr
    with log.open("w") as sink:
        daemon = subprocess.Popen(
            [str(tool("dagster-daemon")), "run", "-w", workspace],
            cwd=paths.PROJECT_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its code server and runs go with it when it is stopped
        )
        try:
            import dagster as dg

            with dg.DagsterInstance.get() as instance:
                deadline = time.monotonic() + DAEMON_START_SECONDS
                while runner.QUEUE_DAEMON not in instance.get_daemon_heartbeats():
                    assert daemon.poll() is None, f"dagster-daemon stopped: {log.read_text()[-3000:]}"
                    assert time.monotonic() < deadline, f"no daemon heartbeat: {log.read_text()[-3000:]}"
                    time.sleep(1)
            yield
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait()
