"""Jobs, the landing-zone sensor and the nightly schedule.

Every job looks at the whole landing zone and the loaders skip any file whose bytes the warehouse
already holds (sha256), so "what changed" is decided once, by content, inside the load. The sensor
only notices that the landing zone's door decisions changed and asks for one run of the job that
covers the sources concerned; it never works out partitions itself.
"""

import json

import dagster as dg

from orchestration.defs.automation.job_names import FULL_REBUILD, JOBS, REFRESH_PUBLISHED_SOURCES, REPUBLISH_RETURNS
from orchestration.defs.ingest.assets import ACCEPTED_RETURNS, csww_returns, latest_file_accepted, published_file_assets
from orchestration.lib import landing

full_rebuild = dg.define_asset_job(
    FULL_REBUILD,
    selection=dg.AssetSelection.all() | dg.AssetSelection.checks(latest_file_accepted),
    description=JOBS[FULL_REBUILD],
)
# A job rebuilds only what its loads can change (the dbt step also builds anything upstream that
# the warehouse lacks: orchestration/lib/transform/dbt_build.py) and publishes.
republish_returns = dg.define_asset_job(
    REPUBLISH_RETURNS,
    # raw/csww_accepted_returns is recorded by the load itself, not materialized by a step.
    selection=dg.AssetSelection.assets(csww_returns).downstream() - dg.AssetSelection.assets(ACCEPTED_RETURNS)
    | dg.AssetSelection.checks(latest_file_accepted),
    description=JOBS[REPUBLISH_RETURNS],
)
refresh_published_sources = dg.define_asset_job(
    REFRESH_PUBLISHED_SOURCES,
    selection=dg.AssetSelection.assets(*published_file_assets).downstream(),
    description=JOBS[REFRESH_PUBLISHED_SOURCES],
)
jobs = [full_rebuild, republish_returns, refresh_published_sources]


def job_for(changed_sources: set[str | None]) -> str:
    """The job that covers every changed source (a file outside every source counts as a return:
    it is most likely a council's return put in the wrong place, and any job reports it)."""
    returns = landing.RETURNS.name in changed_sources or None in changed_sources
    published = bool(changed_sources - {landing.RETURNS.name, None})
    if returns and published:
        return FULL_REBUILD
    return REPUBLISH_RETURNS if returns else REFRESH_PUBLISHED_SOURCES


@dg.sensor(
    name="landing_zone_sensor",
    jobs=jobs,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Notices new, changed, removed or refused files in the landing zone and runs the job that "
    "loads them and republishes (only changed bytes are loaded). Lock and system files are ignored.",
)
def landing_zone_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    current = landing.decide().fingerprint()
    seen = json.loads(context.cursor) if context.cursor else {}
    changed = {path for path in current.keys() | seen.keys() if current.get(path) != seen.get(path)}
    if not changed:
        return dg.SkipReason("No new, changed or refused files in the landing zone.")
    # A removed file has no decision now: where it sat says which source it belonged to.
    sources = {source.name if (source := landing.source_of(path)) else None for path in changed}
    for path in sorted(changed):
        context.log.info(f"landing zone: {path} {current.get(path, 'removed:').split(':')[0]}")
    # No run key: the cursor moves with the request, and a file that changes back to earlier bytes
    # must be loaded again.
    return dg.SensorResult(
        run_requests=[dg.RunRequest(job_name=job_for(sources))], cursor=json.dumps(current, sort_keys=True)
    )


nightly_full_rebuild = dg.ScheduleDefinition(
    name="nightly_full_rebuild",
    cron_schedule="0 2 * * *",
    job=full_rebuild,
    execution_timezone="Europe/London",
    description="Rebuild everything from the landing zone every night at 02:00 (turn on in the UI).",
)
