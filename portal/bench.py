"""`python -m portal.bench` (`make portal-bench`): the portal under 50 concurrent clients.

Needs a published warehouse (`make run`). Starts the portal in its own process with a throwaway
state folder (accounts and sessions made here, never the real ones), then drives 50 clients, each
signed in as a different London council or holding an API token, through council pages, measure
pages, submission histories and the benchmarks API (JSON and CSV):

1. steady: for a fixed time, nothing else running;
2. during a rebuild: the same load while `workforce run --nice 10` rebuilds and publishes a new
   version (at the priority the portal's own republishes run at; `--rebuild-nice 0` for none).

Prints requests/s and p50/p95/p99 latency for pages and API reads, and every failed request (the
target is p95 <= 300 ms and no failure, also while the rebuild swaps the published version).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

CLIENTS = 50
STEADY_SECONDS = 30.0
TARGET_P95_MS = 300.0


def _serve(state_dir: str, port: int) -> None:
    import uvicorn

    from portal.app import create_app
    from portal.settings import load_settings

    settings = load_settings(state_dir=Path(state_dir), republish="off")
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="error", access_log=False)


def _accounts(state_dir: Path, clients: int) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(council code, session cookie, API header) for each client: one account per council."""
    from portal import agreement, auth, security
    from portal.settings import load_settings
    from portal.store import open_store

    settings = load_settings(state_dir=state_dir)
    store = open_store(settings)
    codes = sorted(agreement.load(settings.agreement_path).participants)
    made = []
    for index in range(clients):
        code = codes[index % len(codes)]
        user = store.add_user(f"bench{index}@{code}.test", "council", code, security.hash_password("bench password"))
        store.set_password(user.id, user.password_hash, must_change=False)
        session_secret, _ = auth.start_session(store, store.user_by_id(user.id))
        token = security.new_api_token()
        store.add_token(user.id, security.digest(token), "bench")
        made.append((code, {auth.SESSION_COOKIE: session_secret}, {"Authorization": f"Bearer {token}"}))
    return made


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    finished: float = 0.0


async def _client(base: str, account, results: Results, stop: asyncio.Event, seed: int) -> None:
    import httpx

    code, cookies, headers = account
    rng = random.Random(seed)
    requests = [
        ("pages", f"/councils/{code}", cookies, {}),
        ("pages", f"/councils/{code}/measures/turnover_rate_fte", cookies, {}),
        ("pages", f"/councils/{code}/submissions", cookies, {}),
        ("api", f"/api/v1/councils/{code}/benchmarks", {}, headers),
        ("api", f"/api/v1/councils/{code}/benchmarks?format=csv", {}, headers),
        ("api", f"/api/v1/councils/{code}/submissions", {}, headers),
    ]
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        while not stop.is_set():
            kind, path, cookie, header = rng.choice(requests)
            client.cookies.clear()
            started = time.perf_counter()
            try:
                response = await client.get(path, cookies=cookie, headers=header)
                failed = None if response.status_code == 200 else f"{response.status_code} {path}"
            except httpx.HTTPError as exc:
                failed = f"{type(exc).__name__} {path}"
            elapsed = time.perf_counter() - started
            if failed:
                results.failures.append(failed)
            else:
                results.latencies[kind].append(elapsed)


async def _drive(base: str, accounts, stop_after: float | None, process: subprocess.Popen | None) -> Results:
    results = Results()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_client(base, a, results, stop, i)) for i, a in enumerate(accounts)]
    if process is None:
        await asyncio.sleep(stop_after or STEADY_SECONDS)
    else:
        while process.poll() is None:
            await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tasks)
    results.finished = time.perf_counter()
    return results


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if len(values) > 1 else 0.0


def _report(phase: str, results: Results) -> list[str]:
    seconds = results.finished - results.started
    lines = []
    for kind in ("pages", "api"):
        values = results.latencies.get(kind, [])
        lines.append(
            f"{phase:<26} {kind:<6} {len(values):>8,} {len(values) / seconds:>9.1f} "
            f"{_percentile(values, 50):>8.0f} {_percentile(values, 95):>8.0f} {_percentile(values, 99):>8.0f}"
        )
    lines.append(
        f"{phase:<26} failed requests: {len(results.failures)}"
        + (f" (e.g. {', '.join(sorted(set(results.failures))[:5])})" if results.failures else "")
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    from portal.adapter import REPUBLISH_NICENESS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=STEADY_SECONDS, help="length of the steady phase")
    parser.add_argument("--no-rebuild", action="store_true", help="skip the phase during a full rebuild")
    parser.add_argument(
        "--rebuild-nice",
        type=int,
        default=REPUBLISH_NICENESS,
        help="the rebuild's `workforce run --nice` (default %(default)s, as the portal's own republishes and the "
        "deployment guide's scheduled runs; 0: the rebuild competes with the portal as an equal)",
    )
    args = parser.parse_args(argv)
    rebuild_options = ["--nice", str(args.rebuild_nice)] if args.rebuild_nice else []

    from orchestration.lib import paths

    if not (paths.published_dir() / "benchmarks.duckdb").exists():
        print("Nothing is published yet: run `make run` first.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as state, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        accounts = _accounts(Path(state), args.clients)
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(state, port), daemon=True)
        server.start()
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base)
        print(f"{args.clients} clients against {base}; latency in ms", flush=True)
        header = f"{'phase':<26} {'kind':<6} {'requests':>8} {'req/s':>9} {'p50':>8} {'p95':>8} {'p99':>8}"
        lines = [header, "-" * len(header)]
        steady = asyncio.run(_drive(base, accounts, args.seconds, None))
        lines += _report("steady", steady)
        worst = [steady]
        if not args.no_rebuild:
            log = Path(state) / "rebuild.log"
            with log.open("w") as sink:
                rebuild = subprocess.Popen(
                    [str(Path(sys.executable).with_name("workforce")), "run", *rebuild_options],
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    env=os.environ.copy(),
                )
                during = asyncio.run(_drive(base, accounts, None, rebuild))
            lines += _report(f"during a rebuild (nice {args.rebuild_nice})", during)
            published = [
                line for line in log.read_text().splitlines() if line.startswith(("Published", "Not published"))
            ]
            lines.append(f"rebuild exit {rebuild.returncode}: {published[0] if published else 'see the run log'}")
            worst.append(during)
        server.terminate()
        server.join(10)
    print("\n".join(lines))
    met = all(not r.failures and all(_percentile(v, 95) <= TARGET_P95_MS for v in r.latencies.values()) for r in worst)
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms and no failed request: {'met' if met else 'NOT met'}")
    return 0


def _wait_until_up(base: str, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"The portal did not start at {base}.")


if __name__ == "__main__":
    sys.exit(main())
