"""The dbt unit tests (hand-written worker rows for every measure and edge case) pass.

Pipeline runs leave them out (`--exclude-resource-type unit_test`: they test the SQL, not the
data), so the suite runs them here, against a warehouse the pipeline has just built.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from orchestration.lib import paths
from orchestration.lib.transform import dbt_project
from tests.integration.helpers import run_pipeline


@pytest.mark.usefixtures("workspace")
def test_dbt_unit_tests_pass() -> None:
    assert run_pipeline().succeeded
    result = subprocess.run(
        [str(dbt_project.DBT_EXECUTABLE), "test", "--select", "test_type:unit",
         "--project-dir", str(paths.DBT_PROJECT_DIR), "--profiles-dir", str(paths.DBT_PROJECT_DIR)],
        env={**os.environ, **dbt_project.dbt_environment()},
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:]
    summary = next(line for line in result.stdout.splitlines() if "Done. PASS=" in line)
    counts = dict(part.split("=") for part in summary.split("Done. ")[1].split())
    assert counts["ERROR"] == "0" and counts["WARN"] == "0", summary
    assert int(counts["PASS"]) == int(counts["TOTAL"]) >= 20, summary
