"""`make bench`: the warehouse's speed and memory targets, measured at England scale and above.

Each scale gets its own temporary landing zone and data folder, and every stage runs as a user runs
it, as its own command: `workforce generate`, a bare lxml iterparse over the same files (the floor
ingest is held against, measured in the same run), the dbt parse a new data folder needs once, the
full rebuild (`workforce run`), one pack
(`workforce extract`), and a council's resubmission republished by
`workforce run --job republish_returns --partition '301|2024'`. Memory is the peak of the command's
whole process tree (the run, its Great Expectations worker, its parse workers), sampled every 50 ms.
The runs' step timings (written beside their logs) split each into start-up, ingest, dbt, checks,
publish and exit. Prints the stages, then each target with its measured value and met / not met.
The first scale is measured again on the shared deployment's target (WORKFORCE_WAREHOUSE_URL on a
throwaway PostgreSQL 15: each version published there too, Dagster's storage there), its stages
labelled `server:`. A benchmark, not a test: nothing is asserted.

    python -m orchestration.bench [--scales 1,4,10] [--keep] [--no-server] [--la 301 --year 2024 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.lib import paths
from orchestration.lib.server.throwaway import throwaway_server

WORKFORCE = str(Path(sys.executable).with_name("workforce"))
RESUBMITTED = ("301", 2024)
REPUBLISH = f"workforce run --job republish_returns --partition '{RESUBMITTED[0]}|{RESUBMITTED[1]}'"
GB = 1024.0


@dataclass
class Command:
    """One command's wall time, its process tree's peak memory, and its run's step timings."""

    seconds: float
    peak_mb: float
    output: str
    started: float  # Unix seconds
    finished: float
    samples: list[tuple[float, float]] = field(default_factory=list)  # (Unix seconds, MB)

    def peak_between(self, start: float, end: float) -> float:
        return max((mb for t, mb in self.samples if start <= t <= end), default=0.0)


@dataclass
class Measurement:
    stage: str
    scale: float
    seconds: float
    peak_mb: float
    note: str = ""


@dataclass
class Target:
    name: str
    scale: float
    measured: str
    goal: str
    met: bool


def _run(command: list[str], env: dict[str, str], *, check: bool = True) -> Command:
    with tempfile.TemporaryFile(mode="w+") as output:
        started, clock = time.time(), time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        with _MemorySampler(process.pid) as sampler:
            process.wait()
        seconds = time.monotonic() - clock
        output.seek(0)
        text = output.read()
    if check and process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{text[-3000:]}")
    return Command(seconds, sampler.peak, text, started, started + seconds, sampler.samples)


class _MemorySampler:
    """Samples the resident memory of a process and all its descendants every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def peak(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)

    def __enter__(self) -> _MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), _tree_rss_mb(self.pid)))
            self._stop.wait(0.05)


def _tree_rss_mb(root: int) -> float:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0").strip())
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree) / 1024


def _environment(root: Path, server_url: str | None) -> dict[str, str]:
    environment = {
        **os.environ,
        "WORKFORCE_DATA_DIR": str(root / "data"),
        "WORKFORCE_RAW_DIR": str(root / "raw"),
        "DAGSTER_HOME": str(root / "data" / "dagster_home"),
        "WORKFORCE_PSEUDONYM_KEY": "b" * 64,
    }
    environment.pop("WORKFORCE_WAREHOUSE_URL", None)
    return environment | ({"WORKFORCE_WAREHOUSE_URL": server_url} if server_url else {})


# The floor: one lxml iterparse pass over every element of every file (what any reader of the
# values must do), clearing each worker as it goes; no typing, validation, hashing or loading.
BARE_PARSE = """
import sys, pathlib
from lxml import etree
rows = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.xml")):
    for _, element in etree.iterparse(str(path), events=("end",)):
        if element.tag == "CSWWWorker":
            rows += 1
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
print(rows)
"""

PREPARE_DBT = "from orchestration.lib.transform import dbt_project; dbt_project.prepare()"

# A run's steps, by Dagster step key, grouped as the stages a reader knows.
STAGES: list[tuple[str, Callable[[str], bool]]] = [
    ("ingest (parse, return rules, GE suites, load)", lambda step: step.startswith("raw__")),
    ("dbt build (models, data tests)", lambda step: step == "workforce_dbt"),
    ("checks (GE suites on the marts)", lambda step: step.startswith("marts__")),
    ("publish", lambda step: step == "published_benchmarks"),
]


@dataclass
class RunTimings:
    """A `workforce run` command split into start-up, its steps, Dagster between steps, and exit."""

    command: Command
    run: tuple[float, float]
    steps: dict[str, tuple[float, float]]

    @classmethod
    def of(cls, command: Command, data: Path) -> RunTimings:
        sidecars = sorted((data / "logs").glob("*.steps.json"), key=lambda p: p.stat().st_mtime)
        timings = json.loads(sidecars[-1].read_text())
        steps = {key.split(".")[0]: tuple(span) for key, span in timings["steps"].items()}
        return cls(command, tuple(timings["run"]), steps)

    def stage_seconds(self, matches: Callable[[str], bool]) -> tuple[float, float]:
        spans = [span for step, span in self.steps.items() if matches(step)]
        seconds = sum(end - start for start, end in spans)
        peak = max((self.command.peak_between(start, end) for start, end in spans), default=0.0)
        return seconds, peak

    def breakdown(self, label: str, scale: float) -> list[Measurement]:
        run_start, run_end = self.run
        rows = [
            Measurement(
                f"{label}: start-up (imports, GE worker)",
                scale,
                run_start - self.command.started,
                self.command.peak_between(self.command.started, run_start),
            )
        ]
        in_steps = 0.0
        for stage, matches in STAGES:
            seconds, peak = self.stage_seconds(matches)
            if seconds:
                rows.append(Measurement(f"{label}: {stage}", scale, seconds, peak))
                in_steps += seconds
        rows.append(Measurement(f"{label}: Dagster between steps", scale, run_end - run_start - in_steps, 0))
        rows.append(Measurement(f"{label}: exit (Data Docs, shutdown)", scale, self.command.finished - run_end, 0))
        return rows


@dataclass
class ScaleResult:
    scale: float
    records: int
    floor: Command
    rebuild: RunTimings
    republish: RunTimings
    measurements: list[Measurement]

    @property
    def ingest_seconds(self) -> float:
        return self.rebuild.stage_seconds(lambda step: step == "raw__csww_returns")[0]


def measure_scale(
    scale: float, root: Path, *, las: list[str], years: list[int], server_url: str | None = None
) -> ScaleResult:
    """Every stage at one scale; with `server_url`, on the shared deployment's target."""
    env = _environment(root, server_url)
    for folder in ("dfe", "ofsted"):
        shutil.copytree(paths.PROJECT_ROOT / "raw" / folder, root / "raw" / folder)
    results = []
    selection = [f for la in las for f in ("--la", la)] + [f for year in years for f in ("--year", str(year))]
    generate = _run([WORKFORCE, "generate", "--scale", str(scale), *selection], env)
    size_mb = sum(p.stat().st_size for p in (root / "raw" / "returns").rglob("*.xml")) / 1e6
    results.append(Measurement("generate", scale, generate.seconds, generate.peak_mb, f"{size_mb:,.0f} MB of XML"))

    floor = _run([sys.executable, "-c", BARE_PARSE, str(root / "raw" / "returns")], env)
    records = int(floor.output.strip().splitlines()[-1])
    results.append(
        Measurement("bare lxml iterparse (floor)", scale, floor.seconds, floor.peak_mb, f"{records:,} worker records")
    )

    # Once per version of the dbt project and data folder, not per run: measured on its own.
    parse = _run([sys.executable, "-c", PREPARE_DBT], env)
    results.append(Measurement("dbt parse (once per version of the project)", scale, parse.seconds, parse.peak_mb))

    rebuild_command = _run([WORKFORCE, "run"], env, check=False)
    rebuild = RunTimings.of(rebuild_command, root / "data")
    results.extend(rebuild.breakdown("full rebuild", scale))
    results.append(
        Measurement(
            "full rebuild (workforce run)", scale, rebuild_command.seconds, rebuild_command.peak_mb,
            _published(rebuild_command),
        )
    )  # fmt: skip

    try:
        extract = _run([WORKFORCE, "extract", "--la", "940", "--format", "xlsx"], env)
        results.append(Measurement("extract (one pack, xlsx)", scale, extract.seconds, extract.peak_mb))
    except RuntimeError as failure:
        results.append(Measurement("extract (one pack, xlsx)", scale, 0, 0, f"failed: {str(failure)[-120:]}"))

    _resubmit(root / "raw" / "returns")
    key = f"{RESUBMITTED[0]}|{RESUBMITTED[1]}"
    republish_command = _run([WORKFORCE, "run", "--job", "republish_returns", "--partition", key], env, check=False)
    republish = RunTimings.of(republish_command, root / "data")
    results.extend(republish.breakdown("republish", scale))
    results.append(
        Measurement(
            "one-council resubmission, republished", scale, republish_command.seconds, republish_command.peak_mb,
            _published(republish_command),
        )
    )  # fmt: skip
    if server_url:
        for measurement in results:
            measurement.stage = f"server: {measurement.stage}"
    return ScaleResult(scale, records, floor, rebuild, republish, results)


def _published(command: Command) -> str:
    return "published" if "Published: version" in command.output else "NOT published"


def _resubmit(returns: Path) -> None:
    """A council corrects one worker's sickness days and sends its return again."""
    la, year = RESUBMITTED
    path = returns / la / str(year) / f"csww_{year}.xml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"<WorkingDaysLost>[\d.]+<", "<WorkingDaysLost>4.25<", text, count=1), encoding="utf-8")


def targets(results: list[ScaleResult]) -> list[Target]:
    """The issue's targets on this 2-core machine, each against what was measured."""
    found: list[Target] = []
    by_scale = {r.scale: r for r in results}
    base = by_scale.get(1.0, results[0])
    republish = base.republish.command
    found.append(
        Target(
            f"one-council republish ({REPUBLISH})",
            base.scale,
            f"{republish.seconds:.1f} s, {_published(republish)}",
            "<= 10 s",
            republish.seconds <= 10 and _published(republish) == "published",
        )
    )
    rebuild = base.rebuild.command
    found.append(
        Target(
            "full England rebuild (workforce run)",
            base.scale,
            f"{rebuild.seconds:.1f} s, {_published(rebuild)}",
            "<= 30 s",
            rebuild.seconds <= 30 and _published(rebuild) == "published",
        )
    )
    ratio = base.ingest_seconds / base.floor.seconds
    found.append(
        Target(
            "ingest against the bare lxml parse, same run",
            base.scale,
            f"{ratio:.1f}x ({base.ingest_seconds:.1f} s vs {base.floor.seconds:.1f} s)",
            "<= 3x",
            ratio <= 3,
        )
    )
    rate = base.records / base.ingest_seconds
    found.append(
        Target("ingest throughput", base.scale, f"{rate:,.0f} worker records/s", ">= 25,000/s", rate >= 25_000)
    )
    for result in results:
        peak = max(result.rebuild.command.peak_mb, result.republish.command.peak_mb)
        limit = 1 * GB if result.scale <= 1 else 2 * GB if result.scale <= 10 else None
        if limit is not None:
            found.append(
                Target(
                    "whole-run peak memory (largest run)",
                    result.scale,
                    f"{peak:,.0f} MB",
                    f"<= {limit / GB:.0f} GB",
                    peak <= limit,
                )
            )
    largest = max(results, key=lambda r: r.scale)
    if largest is not base:
        # Linear: ten times the records take at most ten times as long (fixed costs make it less).
        for name, seconds in (
            ("full rebuild", lambda r: r.rebuild.command.seconds),
            ("ingest", lambda r: r.ingest_seconds),
        ):
            growth = (seconds(largest) / seconds(base)) / (largest.records / base.records)
            found.append(
                Target(
                    f"growth linear: {name} time per record, {largest.scale:g}x against {base.scale:g}x",
                    largest.scale,
                    f"{growth:.2f}x",
                    "<= 1.0x",
                    growth <= 1.0,
                )
            )
        memory = (largest.rebuild.command.peak_mb / base.rebuild.command.peak_mb) / (largest.scale / base.scale)
        found.append(
            Target(
                f"growth linear: full rebuild peak memory per record, {largest.scale:g}x against {base.scale:g}x",
                largest.scale,
                f"{memory:.2f}x",
                "<= 1.0x",
                memory <= 1.0,
            )
        )
    return found


def _table(results: list[Measurement]) -> str:
    lines = [f"{'stage':<58} {'scale':>5} {'wall s':>8} {'peak MB':>8}  note", "-" * 100]
    for r in results:
        peak = f"{r.peak_mb:>8.0f}" if r.peak_mb else f"{'':>8}"
        lines.append(f"{r.stage:<58} {r.scale:>4g}x {r.seconds:>8.1f} {peak}  {r.note}")
    return "\n".join(lines)


def _targets_table(found: list[Target]) -> str:
    lines = [f"{'target':<95} {'scale':>5}  {'measured':<28} {'goal':<12} result", "-" * 150]
    for t in found:
        lines.append(f"{t.name:<95} {t.scale:>4g}x  {t.measured:<28} {t.goal:<12} {'met' if t.met else 'NOT MET'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10", help="comma-separated volume multipliers (1,4,10 adds 4x)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--la", action="append", default=[], help="only this LA code (for a quick check)")
    parser.add_argument("--year", action="append", type=int, default=[], help="only this collection year")
    parser.add_argument("--no-server", action="store_true", help="skip the PostgreSQL target")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="workforce_bench_"))
    scales = [float(s) for s in args.scales.split(",")]
    results: list[ScaleResult] = []
    on_server: list[Measurement] = []
    try:
        for scale in scales:
            print(f"measuring {scale:g}x England ...", flush=True)
            result = measure_scale(scale, base / f"scale_{scale:g}", las=args.la, years=args.year)
            results.append(result)
            print(_table(result.measurements), flush=True)
        if not args.no_server:
            print(f"measuring {scales[0]:g}x England on a throwaway PostgreSQL 15 ...", flush=True)
            with throwaway_server() as server:
                root = base / f"server_{scales[0]:g}"
                on_server = measure_scale(
                    scales[0], root, las=args.la, years=args.year, server_url=server.url
                ).measurements
            print(_table(on_server), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print()
    print(_table([m for r in results for m in r.measurements] + on_server))
    print()
    print(_targets_table(targets(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
