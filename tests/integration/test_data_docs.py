"""Great Expectations' Data Docs: a page for each validation that a blocking expectation failed,
in the run's folder, and nothing in the system temp folder (GE's default docs site would be)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest

from orchestration.lib.checks import ge_worker

SUITE = {
    "name": "test__counts",
    "expectations": [
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "count"},
            "meta": {"why": "A count is always reported."},
            "severity": "critical",
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "count", "min_value": 0},
            "meta": {"why": "Counts are not negative."},
            "severity": "warning",
        },
    ],
}


def test_pages_only_for_blocking_failures_in_the_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp, docs = tmp_path / "tmp", tmp_path / "data_docs" / "run"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    run = ge_worker.RunContext(docs)

    warned = run.validate(pd.DataFrame({"count": [1.0, -1.0]}), SUITE, (), None)
    refused = run.validate(pd.DataFrame({"count": [1.0, None]}), SUITE, (), None)
    run.finish()

    assert warned.failed and not warned.blocking_failures
    assert [f.expectation for f in refused.blocking_failures] == ["expect_column_values_to_not_be_null"]
    pages = list((docs / "validations").rglob("*.html"))
    assert len(pages) == 1, "one page: the refused frame's, not the warned one's"
    assert (docs / "index.html").exists()
    assert not list(temp.iterdir()), sorted(temp.rglob("*"))
