"""The per LA-year status in the Dagster UI: raw/csww_accepted_returns and its check latest_file_accepted.

The check reads the outcomes the returns load recorded; here they are recorded by hand, so the
check's own rules are tested without a pipeline run (tests/integration covers the run).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.defs.ingest.assets import (
    CSWW_RETURNS,
    LATEST_FILE_ACCEPTED,
    accepted_returns,
    latest_file_accepted,
)
from orchestration.defs.ingest.partitions import COLLECTION_YEARS

DEFS = dg.Definitions(
    assets=[dg.AssetSpec(CSWW_RETURNS), accepted_returns],
    asset_checks=[latest_file_accepted],
    jobs=[dg.define_asset_job("check_la_years", selection=dg.AssetSelection.checks(latest_file_accepted))],
)


def _outcome(status: str) -> dict[str, object]:
    return {"status": status, "files": [f"returns/x/{status}.xml"], "reason": f"why {status}"}


def _check_after_load(instance: dg.DagsterInstance, la_years: dict[str, str]) -> dict[str, tuple[bool, str]]:
    """Record a returns load with these outcomes, run the check, and return this run's results."""
    outcomes = {key: _outcome(status) for key, status in la_years.items()}
    instance.report_runless_asset_event(
        dg.AssetMaterialization(CSWW_RETURNS, metadata={"la_years": dg.MetadataValue.json(outcomes)})
    )
    result = DEFS.resolve_job_def("check_la_years").execute_in_process(instance=instance)
    assert result.success
    return {
        evaluation.partition: (evaluation.passed, evaluation.description or "")
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.partition
    }


def test_a_refused_or_quarantined_la_year_fails_and_passes_again_once_accepted(tmp_path: Path) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        instance.add_dynamic_partitions(COLLECTION_YEARS.name, ["2022", "2023"])

        first = _check_after_load(
            instance, {"301|2022": "quarantined", "909|2023": "refused", "302|2023": "loaded", "303|2023": "unchanged"}
        )
        second = _check_after_load(instance, {"301|2022": "loaded", "909|2023": "refused", "302|2023": "unchanged"})

        statuses = {
            info.partition_key: info.latest_execution_status.value
            for info in instance.event_log_storage.get_asset_check_partition_info([LATEST_FILE_ACCEPTED.key])
            if info.partition_key
        }
    assert first == {"301|2022": (False, "quarantined: why quarantined"), "909|2023": (False, "refused: why refused")}
    assert second == {"301|2022": (True, ""), "909|2023": (False, "refused: why refused")}
    assert statuses == {"301|2022": "SUCCEEDED", "909|2023": "FAILED"}
