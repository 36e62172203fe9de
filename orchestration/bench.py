"""`make bench`: wall time and peak memory of every stage at England scale and above.

Each scale gets its own temporary landing zone and data folder. Stages run as the user would run
them, each in its own process, so peak memory is that process's (and its children's) high-water
mark: `workforce generate`, a bare lxml iterparse over the same files (the floor ingest is held
against), the full rebuild through Dagster (split into its steps: ingest, dbt build, checks,
publish), `workforce extract`, and a one-council resubmission republished by the
`republish_returns` job. Prints one table; nothing is asserted — targets are read off the table.

    python -m orchestration.bench [--scales 1,4,10] [--keep]
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
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib import paths

WORKFORCE = str(Path(sys.executable).with_name("workforce"))
RESUBMITTED = ("301", 2024)
STEP_STAGES = {
    "raw__csww_returns": "ingest (parse, load checks, load)",
    "workforce_dbt": "dbt build (models, tests)",
    "published_benchmarks": "publish",
}
CHECK_STAGE = "checks (GE suites on marts)"


@dataclass
class Measurement:
    stage: str
    scale: float
    seconds: float
    peak_mb: float
    note: str = ""


def _run(command: list[str], env: dict[str, str], *, check: bool = True) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of a command, its own children included (wait4 rusage)."""
    with tempfile.TemporaryFile(mode="w+") as output:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        output.seek(0)
        text = output.read()
    if check and process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{text[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def _environment(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WORKFORCE_DATA_DIR": str(root / "data"),
        "WORKFORCE_RAW_DIR": str(root / "raw"),
        "DAGSTER_HOME": str(root / "data" / "dagster_home"),
        "WORKFORCE_PSEUDONYM_KEY": "b" * 64,
    }


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


def measure_scale(scale: float, root: Path) -> list[Measurement]:
    env = _environment(root)
    for folder in ("dfe", "ofsted"):
        shutil.copytree(paths.PROJECT_ROOT / "raw" / folder, root / "raw" / folder)
    results = []
    seconds, peak, _ = _run([WORKFORCE, "generate", "--scale", str(scale)], env)
    size_mb = sum(p.stat().st_size for p in (root / "raw" / "returns").rglob("*.xml")) / 1e6
    results.append(Measurement("generate", scale, seconds, peak, f"{size_mb:,.0f} MB of XML"))

    seconds, peak, output = _run([sys.executable, "-c", BARE_PARSE, str(root / "raw" / "returns")], env)
    rows = int(output.strip().splitlines()[-1])
    floor = Measurement("bare lxml iterparse (floor)", scale, seconds, peak, f"{rows:,} worker records")
    results.append(floor)

    results.extend(_pipeline_stages(scale, env, root, floor.seconds))

    try:
        seconds, peak, _ = _run([WORKFORCE, "extract", "--la", "940", "--format", "xlsx"], env)
        results.append(Measurement("extract (one pack, xlsx)", scale, seconds, peak))
    except RuntimeError as failure:
        results.append(Measurement("extract (one pack, xlsx)", scale, 0, 0, f"failed: {str(failure)[-120:]}"))

    _resubmit(root / "raw" / "returns")
    key = f"{RESUBMITTED[0]}|{RESUBMITTED[1]}"
    seconds, peak, output = _run([WORKFORCE, "run", "--job", "republish_returns", "--partition", key], env, check=False)
    published = "published" if "Published: version" in output else "NOT published"
    results.append(Measurement("one-council resubmission, republished", scale, seconds, peak, published))
    return results


def _pipeline_stages(scale: float, env: dict[str, str], root: Path, floor_seconds: float) -> list[Measurement]:
    """Run the full rebuild in a child process that reports each step's time and peak memory."""
    report = root / "stages.json"
    started = time.monotonic()
    _, peak, output = _run(
        [sys.executable, "-m", "orchestration.bench", "--pipeline-report", str(report)], env, check=False
    )
    total = time.monotonic() - started
    steps = json.loads(report.read_text())
    results = []
    for step, stage in STEP_STAGES.items():
        timing = steps.get(step)
        if timing:
            note = ""
            if step == "raw__csww_returns":
                note = f"{timing['seconds'] / floor_seconds:.1f}x the bare parse"
            results.append(Measurement(stage, scale, timing["seconds"], timing["peak_mb"], note))
    checks = [t for name, t in steps.items() if name.startswith("marts__")]
    if checks:
        seconds = sum(t["seconds"] for t in checks)
        results.append(Measurement(CHECK_STAGE, scale, seconds, max(t["peak_mb"] for t in checks)))
    published = "published" if "Published: version" in output else "NOT published"
    results.append(Measurement("full rebuild (workforce run, all of the above)", scale, total, peak, published))
    return results


def _resubmit(returns: Path) -> None:
    """A council corrects one worker's sickness days and sends its return again."""
    la, year = RESUBMITTED
    path = returns / la / str(year) / f"csww_{year}.xml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"<WorkingDaysLost>[\d.]+<", "<WorkingDaysLost>4.25<", text, count=1), encoding="utf-8")


class _MemorySampler:
    """Samples the resident memory of this process and all its descendants every 50 ms."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> _MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), _tree_rss_mb(os.getpid())))
            time.sleep(0.05)

    def peak_between(self, start: float, end: float) -> float:
        inside = [mb for t, mb in self.samples if start <= t <= end]
        return max(inside, default=0.0)


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


def pipeline_report(report: Path) -> None:
    """Child-process side: the full rebuild, with per-step wall time and peak memory."""
    from orchestration import runner

    runner.prepare_environment()
    with _MemorySampler() as sampler:
        report_of_run = runner.run_job("full_rebuild")
    print(report_of_run.describe())
    steps = {
        step.split(".")[0]: {"seconds": end - start, "peak_mb": sampler.peak_between(start, end)}
        for step, (start, end) in report_of_run.steps.items()
    }
    report.write_text(json.dumps(steps, indent=2))


def _table(results: list[Measurement]) -> str:
    lines = [f"{'stage':<48} {'scale':>5} {'wall s':>8} {'peak MB':>8}  note", "-" * 100]
    for r in results:
        lines.append(f"{r.stage:<48} {r.scale:>4g}x {r.seconds:>8.1f} {r.peak_mb:>8.0f}  {r.note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,4,10", help="comma-separated volume multipliers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--pipeline-report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pipeline_report:
        pipeline_report(Path(args.pipeline_report))
        return 0
    base = Path(tempfile.mkdtemp(prefix="workforce_bench_"))
    results: list[Measurement] = []
    try:
        for scale in (float(s) for s in args.scales.split(",")):
            print(f"measuring {scale:g}x England ...", flush=True)
            results.extend(measure_scale(scale, base / f"scale_{scale:g}"))
            print(_table([r for r in results if r.scale == scale]), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print()
    print(_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
