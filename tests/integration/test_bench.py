"""`make bench` works end to end. It runs here on one council-year, not all of England, to prove
that it measures and reports every target; the figures themselves are read off it, never tested."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.lib import paths

TARGETS = (
    "one-council republish (workforce run --job republish_returns --partition '301|2024')",
    "full England rebuild (workforce run)",
    "ingest against the bare lxml parse, same run",
    "ingest throughput",
    "whole-run peak memory (largest run)",
)
REPUBLISH_STAGES = (
    "republish: start-up (imports, GE worker)",
    "republish: ingest (parse, return rules, GE suites, load)",
    "republish: dbt build (models, data tests)",
    "republish: checks (GE suites on the marts)",
    "republish: publish",
    "republish: exit (Data Docs, shutdown)",
)


def test_bench_reports_every_target_and_where_the_republish_spends_its_time(tmp_path: Path) -> None:
    bench = subprocess.run(
        [sys.executable, "-m", "orchestration.bench", "--scales", "1", "--la", "301", "--year", "2024", "--no-server"],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr[-3000:]
    lines = bench.stdout.splitlines()
    for target in TARGETS:
        [row] = [line for line in lines if line.startswith(target)]
        assert row.rstrip().endswith(("met", "NOT MET")), row
    for stage in REPUBLISH_STAGES:
        assert any(line.startswith(stage) for line in lines), f"no {stage!r} in the bench's table"
    floor = next(line for line in lines if line.startswith("bare lxml iterparse (floor)"))
    assert "worker records" in floor
    resubmission = [line for line in lines if line.startswith("one-council resubmission, republished")]
    assert resubmission and all(line.rstrip().endswith(" published") for line in resubmission)
    assert not list(tmp_path.iterdir()), "the bench leaves no temporary folder behind"
