"""The Dagster code location. It only composes: every definition lives under defs/ by stage."""

import dagster as dg

from orchestration.defs.automation.alerts import run_summary_sensors
from orchestration.defs.automation.jobs import jobs, landing_zone_sensor, nightly_full_rebuild
from orchestration.defs.ingest.assets import (
    accepted_returns,
    csww_returns,
    latest_file_accepted,
    published_file_assets,
)
from orchestration.defs.publish.assets import mart_checks, published_benchmarks, server_sharing
from orchestration.defs.transform.assets import workforce_dbt

defs = dg.Definitions(
    assets=[
        csww_returns,
        accepted_returns,
        *published_file_assets,
        workforce_dbt,
        published_benchmarks,
        server_sharing,
    ],
    asset_checks=[latest_file_accepted, *mart_checks],
    jobs=jobs,
    sensors=[landing_zone_sensor, *run_summary_sensors],
    schedules=[nightly_full_rebuild],
    # One process per run: steps share a warehouse writer and a GE context, and Dagster does not
    # re-load the code for every step (2-3x faster than the multiprocess executor here).
    executor=dg.in_process_executor,
)
