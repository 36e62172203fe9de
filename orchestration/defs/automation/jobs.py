"""Jobs, the landing-zone sensor and the nightly schedule.

A full rebuild is one run over every LA-year partition (the returns asset takes the whole range
in a single run), and because the loader skips files whose bytes it already holds, a run over
many partitions costs only what changed. That is also how the sensor republishes several new
files at once: one run whose range covers them.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.defs.ingest.assets import csww_returns, published_file_assets
from orchestration.defs.ingest.partitions import COLLECTION_YEARS, RETURN_PARTITIONS, partition_key
from orchestration.lib import paths
from orchestration.lib.load.returns import discover_returns

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"

full_rebuild = dg.define_asset_job(
    "full_rebuild",
    selection=dg.AssetSelection.all(),
    description="Load every return and published file, rebuild the marts, check and publish.",
)
# A job rebuilds only what its loads can change (the dbt step also builds anything upstream that
# the warehouse lacks: orchestration/lib/transform/dbt_build.py) and publishes.
republish_returns = dg.define_asset_job(
    "republish_returns",
    selection=dg.AssetSelection.assets(csww_returns).downstream(),
    description="Load the returns of some LA-years, rebuild what depends on them and republish.",
)
refresh_published_sources = dg.define_asset_job(
    "refresh_published_sources",
    selection=dg.AssetSelection.assets(*published_file_assets).downstream(),
    description="Load new DfE releases or Ofsted files, rebuild what depends on them and republish.",
)


def landing_zone_years() -> list[str]:
    found, _ = discover_returns(paths.returns_dir())
    return sorted({str(f.year) for f in found})


def range_tags(keys: list[str]) -> dict[str, str]:
    return {RANGE_START: keys[0], RANGE_END: keys[-1]}


def full_range_tags(instance: dg.DagsterInstance) -> dict[str, str] | None:
    """Tags for one run over every return partition, or None when there are none yet."""
    keys = RETURN_PARTITIONS.get_partition_keys(dynamic_partitions_store=instance)
    return range_tags(keys) if keys else None


def _fingerprints() -> dict[str, str]:
    """Size and modification time of every landing-zone file the pipeline reads."""
    root = paths.raw_dir()
    files = [
        *paths.returns_dir().rglob("*.xml"),
        *paths.dfe_releases_dir().glob("*.csv"),
        *paths.ofsted_dir().glob("*.csv"),
    ]
    return {
        str(path.relative_to(root)): f"{stat.st_size}:{stat.st_mtime_ns}"
        for path in files
        if path.exists()
        for stat in [path.stat()]
    }


def _return_partition(relative: str) -> tuple[str, int] | None:
    parts = Path(relative).parts
    if len(parts) == 4 and parts[0] == "returns" and parts[2].isdigit():
        return parts[1], int(parts[2])
    return None


@dg.sensor(
    name="landing_zone_sensor",
    jobs=[full_rebuild, republish_returns, refresh_published_sources],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Notices new or changed files in the landing zone, loads only those and republishes.",
)
def landing_zone_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    current = _fingerprints()
    seen = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(path for path, fingerprint in current.items() if seen.get(path) != fingerprint)
    if not changed:
        return dg.SkipReason("No new or changed files in the landing zone.")

    known_las = set(RETURN_PARTITIONS.get_partitions_def_for_dimension("old_la_code").get_partition_keys())
    partitions = {p for p in map(_return_partition, changed) if p}
    unknown = sorted(f"{la}/{year}" for la, year in partitions if la not in known_las)
    for folder in unknown:
        context.log.warning(f"returns/{folder}: {folder.split('/')[0]} is not a DfE LA code; not loaded.")
    partitions = {(la, year) for la, year in partitions if la in known_las}

    existing_years = context.instance.get_dynamic_partitions(COLLECTION_YEARS.name)
    new_years = sorted({str(year) for _, year in partitions} - set(existing_years))
    # One run per tick, so loads never race: returns and published files changed together (a first
    # look at a landing zone, say) are loaded by one full-rebuild run over the changed LA-years.
    published_changes = [f"{c}={current[c]}" for c in changed if c.startswith(("dfe/", "ofsted/"))]
    return_changes = [f"{c}={current[c]}" for c in changed if c.startswith("returns/")]
    request = None
    if partitions:
        # Dagster orders multi-partition keys LA first, then years in the order they were added.
        la_order = {la: index for index, la in enumerate(sorted(known_las))}
        year_order = {year: index for index, year in enumerate([*existing_years, *new_years])}
        ordered = [
            str(partition_key(la, year))
            for la, year in sorted(partitions, key=lambda p: (la_order[p[0]], year_order[str(p[1])]))
        ]
        job = full_rebuild if published_changes else republish_returns
        request = dg.RunRequest(
            job_name=job.name,
            run_key=_run_key(job.name, return_changes + published_changes),
            partition_key=ordered[0] if len(ordered) == 1 else None,
            tags=range_tags(ordered) if len(ordered) > 1 else {},
        )
    elif published_changes:
        request = dg.RunRequest(
            job_name=refresh_published_sources.name, run_key=_run_key("published", published_changes)
        )
    return dg.SensorResult(
        run_requests=[request] if request else [],
        dynamic_partitions_requests=[COLLECTION_YEARS.build_add_request(new_years)] if new_years else [],
        cursor=json.dumps(current, sort_keys=True),
    )


def _run_key(kind: str, changes: list[str]) -> str:
    """The same set of file versions always gives the same key, so a change is run once."""
    return f"{kind}:{hashlib.sha256(chr(10).join(changes).encode()).hexdigest()[:16]}"


@dg.schedule(
    name="nightly_full_rebuild",
    cron_schedule="0 2 * * *",
    job=full_rebuild,
    execution_timezone="Europe/London",
    description="Rebuild everything from the landing zone every night at 02:00 (turn on in the UI).",
)
def nightly_full_rebuild(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    tags = full_range_tags(context.instance)
    if tags is None:
        return dg.SkipReason("No council returns in the landing zone yet.")
    return dg.RunRequest(tags=tags)
