"""Staging plans: returns grouped in order into Parquet files of about CHUNK_BYTES of XML each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from orchestration.lib.load import staging


def test_returns_are_grouped_in_order_by_size(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(staging, "CHUNK_BYTES", 100)
    sizes = {"a": 40, "b": 40, "c": 40, "d": 250, "e": 10}
    returns = []
    for name, size in sizes.items():
        path = tmp_path / f"{name}.xml"
        path.write_bytes(b"x" * size)
        returns.append((path, staging.Stamp("301", 2022, name, name * 64, dt.datetime.now(dt.UTC))))

    jobs = staging.plan(returns, b"k" * 32, tmp_path / "staging")

    assert [[stamp.source_file for _path, stamp in job.returns] for job in jobs] == [["a", "b", "c"], ["d"], ["e"]]
    assert len({job.parquet for job in jobs}) == 3
    assert all(job.parquet.parent == tmp_path / "staging" for job in jobs)
