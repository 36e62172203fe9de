"""A run opening the working warehouse waits for a reader holding it for a moment (the portal checking
an upload's continuity), and says who holds it when it is held for longer."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import warehouse

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _held(database: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(database), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse" / "workforce.duckdb"
    path.parent.mkdir()
    duckdb.connect(str(path)).close()
    return path


def test_a_writer_waits_for_a_reader_holding_the_warehouse_for_a_moment(database: Path) -> None:
    holder = _held(database, 1.5)
    started = time.monotonic()
    with warehouse.connect(database) as con:
        con.execute("create table written as select 1 as x")
    assert time.monotonic() - started >= 0.5, "the reader held the file, so the writer must have waited"
    holder.wait(timeout=30)


def test_a_writer_says_the_warehouse_is_busy_when_it_stays_held(database: Path) -> None:
    holder = _held(database, 30)
    try:
        with (
            pytest.raises(warehouse.WarehouseBusy, match="in use by another process"),
            warehouse.connect(database, lock_wait=0.5),
        ):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=30)
