"""Great Expectations for Dagster: one validator per run, and suite outcomes as check results.

Every step of a run executes in one process (the in-process executor), so all of a run's
validations share one GE context, and the Data Docs of those where a blocking expectation failed
form one site per run under `data/reports/data_docs/<run id>/`.
"""

import dagster as dg

from orchestration.lib import paths
from orchestration.lib.checks.expectations import SuiteOutcome, Validator


def validator_for_run(run_id: str) -> Validator:
    return Validator(docs_dir=paths.reports_dir() / "data_docs" / run_id)


def suite_check_result(
    outcome: SuiteOutcome,
    *,
    check_name: str,
    asset_key: dg.AssetKey,
    data_docs: str | None = None,
    can_block: bool = True,
) -> dg.AssetCheckResult:
    """ERROR (blocks downstream) when a critical expectation failed, WARN when only warnings did.

    Loads pass can_block=False: they have already kept the failing file out of the warehouse.
    """
    failures = {r.describe(): r.severity for r in outcome.failed}
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key=asset_key,
        passed=not outcome.failed,
        severity=(
            dg.AssetCheckSeverity.ERROR if can_block and outcome.blocking_failures else dg.AssetCheckSeverity.WARN
        ),
        metadata={
            "suite": outcome.suite,
            "rows": outcome.rows,
            "expectations": len(outcome.results),
            "failed_blocking": len(outcome.blocking_failures),
            "failed_warnings": len(outcome.warnings),
            "failures": dg.MetadataValue.json(failures),
            **({"data_docs": dg.MetadataValue.path(data_docs)} if data_docs else {}),
        },
    )
