"""The dbt unit tests (hand-written worker rows for every measure and edge case) pass.

Pipeline runs leave them out (`--exclude-resource-type unit_test`: they test the SQL, not the
data), so the suite runs them here, against a warehouse the pipeline has just built.
"""

from __future__ import annotations

import collections

import pytest

from orchestration.defs.transform.assets import PROJECT
from orchestration.lib.transform import dbt_project
from tests.integration.helpers import run_pipeline


@pytest.mark.usefixtures("workspace")
def test_dbt_unit_tests_pass() -> None:
    assert run_pipeline().succeeded
    result = dbt_project.invoke(
        ["test", "--select", "test_type:unit"], manifest=dbt_project.load_manifest(PROJECT.target_path)
    )
    assert result.exception is None, result.exception
    statuses = collections.Counter(str(r.status) for r in result.result.results)
    failures = [f"{r.node.name}: {r.message}" for r in result.result.results if str(r.status) != "pass"]
    assert not failures, failures
    assert statuses["pass"] >= 20, statuses
