"""A 200 MB return loads end to end (parse, checks, warehouse) in flat memory.

The load runs in a fresh interpreter, which reports its own high-water mark (VmHWM), as the
parser's own 200 MB test does (tests/unit/test_csww_parser.py says why not RUSAGE_CHILDREN).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from orchestration.lib import paths
from tests.conftest import TEST_PSEUDONYM_KEY
from tests.unit.test_csww_parser import write_large_return

PEAK_MB = 500


def test_a_200_mb_return_loads_in_under_500_mb(workspace: Path) -> None:
    path = paths.returns_dir() / "301" / "2022" / "csww_2022.xml"
    path.parent.mkdir(parents=True)
    workers = write_large_return(path, 200)
    script = textwrap.dedent(
        f"""
        import json, time
        from pathlib import Path

        from orchestration.lib import warehouse
        from orchestration.lib.checks.expectations import Validator
        from orchestration.lib.load.returns import ReturnFile, ReturnLoader

        def peak_mb():
            status = Path("/proc/self/status").read_text()
            return int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) / 1024

        start = time.perf_counter()
        with warehouse.connect() as con:
            loader = ReturnLoader(con, pseudonym_key=bytes.fromhex({TEST_PSEUDONYM_KEY!r}),
                                  validator=Validator(), run_id="large")
            summary = loader.load([ReturnFile(Path({str(path)!r}), "301", 2022)])
            rows = con.execute("select count(*) from raw_csww.workers").fetchone()[0]
        print(json.dumps({{"statuses": [o.status for o in summary.outcomes], "rows": rows,
                          "seconds": time.perf_counter() - start, "peak_rss_mb": peak_mb()}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=paths.PROJECT_ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"\n200 MB return loaded: {workers:,} workers in {result['seconds']:.1f} s, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    assert result["statuses"] == ["loaded"] and result["rows"] == workers
    assert result["peak_rss_mb"] < PEAK_MB
