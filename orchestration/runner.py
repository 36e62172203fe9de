"""Run the warehouse's Dagster jobs in this process and say, in plain words, what happened.

`workforce run` (and so `make run`) comes through here: it makes sure the pseudonym key and the
raw tables exist, runs the `full_rebuild` job over every LA-year in one run, prints progress as
it goes and ends with a summary a person can read.

These runs use an in-memory Dagster instance. Everything that matters between runs lives in the
warehouse (load history, file hashes) and in the publication manifests, and recording a full
rebuild's per-partition events in the SQLite instance under data/dagster_home costs about 25 s at
England scale. Runs started from the UI, the sensor or the schedule (`make dev`) are recorded there.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from orchestration.lib import paths

log = logging.getLogger("workforce")

DAGSTER_YAML = """\
# Written by `workforce`: local Dagster state for this warehouse (safe to delete with data/).
telemetry:
  enabled: false
concurrency:
  runs:
    # DuckDB allows one writer: runs are queued and go one at a time.
    max_concurrent_runs: 1
  pools:
    default_limit: 1
python_logs:
  managed_python_loggers:
    - workforce
  python_log_level: INFO
"""


def prepare_environment() -> Path:
    """Dagster home, telemetry off, pseudonym key, raw tables: everything a run needs."""
    from orchestration.lib import warehouse
    from orchestration.lib.load.pseudonym import ensure_local_key
    from orchestration.lib.load.returns import ensure_tables

    home = paths.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    ensure_local_key()
    with warehouse.connect() as con:
        # dbt reads the return tables even before the first return arrives.
        ensure_tables(con)
    return home


def show_progress() -> None:
    """Print the pipeline's own progress lines (not Dagster's event stream) as they happen."""
    handler = logging.StreamHandler(sys.__stdout__)
    handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", datefmt="%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


@dataclass
class RunReport:
    succeeded: bool
    seconds: float
    loads: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    published_version: str | None = None
    failures: list[str] = field(default_factory=list)
    log_file: Path | None = None
    # step name -> (started, finished), Unix seconds
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)

    def checks_with(self, outcome: str) -> list[dict[str, Any]]:
        return [c for c in self.checks if c["outcome"] == outcome]

    def describe(self) -> str:
        lines = ["", "Summary", "-------"]
        returns = self.loads.get("raw/csww_returns", {})
        if returns:
            lines.append(
                f"Council returns: {returns.get('files_loaded', 0)} loaded, "
                f"{returns.get('files_unchanged', 0)} unchanged, {returns.get('files_quarantined', 0)} quarantined; "
                f"{returns.get('rows_loaded', 0):,} worker-role rows loaded, "
                f"{returns.get('table_rows', 0):,} in the warehouse."
            )
        for key in ("raw/dfe_csww_indicators", "raw/ofsted_ilacs_inspections"):
            if key in self.loads:
                m = self.loads[key]
                lines.append(
                    f"{key}: {m.get('files_loaded', 0)} files loaded, {m.get('files_unchanged', 0)} unchanged, "
                    f"{m.get('files_quarantined', 0)} quarantined; {m.get('table_rows', 0):,} rows."
                )
        lines.append(
            f"Checks: {len(self.checks_with('passed'))} passed, {len(self.checks_with('warned'))} warned, "
            f"{len(self.checks_with('failed'))} failed."
        )
        for check in self.checks:
            if check["outcome"] != "passed":
                lines.append(f"  {check['outcome']}: {check['asset']} / {check['check']}")
        if self.published_version:
            lines.append(f"Published: version {self.published_version} at {paths.published_dir()}.")
        else:
            lines.append("Not published: the previously published files are unchanged.")
            lines.extend(f"  because {reason}" for reason in self.failures or ["the run did not reach publishing"])
        if any(load.get("files_quarantined") for load in self.loads.values()):
            lines.append(
                f"Quarantined files, each with a report saying what to fix, are under {paths.quarantine_dir()}."
            )
        lines.append(f"Finished in {self.seconds:.0f} s." + (f" Full log: {self.log_file}" if self.log_file else ""))
        return "\n".join(lines)


def run_job(job_name: str = "full_rebuild", *, partition_key: str | None = None) -> RunReport:
    """Execute a job of the code location in process and report on it."""
    from orchestration.lib.checks.expectations import Validator

    started = time.monotonic()
    # Great Expectations starts in its own process now, while Dagster and the definitions import.
    Validator().warm_up()

    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.automation.jobs import full_range_tags, landing_zone_years
    from orchestration.defs.ingest.partitions import COLLECTION_YEARS

    _freeze_imported_objects()
    # Local storage under DAGSTER_HOME: without a folder, Dagster makes one in the system temp folder.
    instance = dg.DagsterInstance.ephemeral(tempdir=str(paths.dagster_home()))
    instance.add_dynamic_partitions(COLLECTION_YEARS.name, landing_zone_years())
    tags: dict[str, str] = {}
    if job_name == "full_rebuild":
        full_range = full_range_tags(instance)
        if full_range is None:
            log.info("run: no council returns in the landing zone; benchmarks come from DfE's published figures")
            job_name = "refresh_published_sources"
        else:
            tags = full_range
    job = defs.resolve_job_def(job_name)
    log_file = paths.data_dir() / "logs" / f"{job_name}_{time.strftime('%Y%m%dT%H%M%S')}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log.info(
        "run: %s started%s; full log in %s",
        job_name,
        f" for {partition_key}" if partition_key else "",
        log_file,
    )
    # dbt and the libraries print a great deal; it goes to the log file, progress to the terminal.
    run_started = time.time()
    with log_file.open("w", encoding="utf-8") as sink, redirect_stdout(sink), redirect_stderr(sink):
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition_key,
            tags=tags,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    report = _report(result, instance, time.monotonic() - started)
    report.log_file = log_file
    _write_step_timings(log_file.with_suffix(".steps.json"), report, run_started)
    return report


@cache
def _freeze_imported_objects() -> None:
    """The millions of objects Dagster, dbt and their libraries create on import live as long as the
    process: out of the garbage collector's sight, its passes during a run and at exit (2 s here)
    skip them. Once per process, so a later run's garbage is never frozen with them."""
    gc.freeze()


def _write_step_timings(path: Path, report: RunReport, run_started: float) -> None:
    """When the run and each of its steps started and finished (Unix seconds), beside the log:
    where a run's time goes, as `make bench` reports it."""
    timings = {"run": [run_started, time.time()], "steps": report.steps}
    path.write_text(json.dumps(timings, indent=1), encoding="utf-8")


def _report(result: Any, instance: Any, seconds: float) -> RunReport:
    import dagster as dg

    report = RunReport(succeeded=result.success, seconds=seconds)
    step_events = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
    }
    started: dict[str, float] = {}
    for entry in instance.all_logs(result.run_id, of_type=step_events):
        step = entry.dagster_event.step_key
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            started[step] = entry.timestamp
        else:
            report.steps[step] = (started.get(step, entry.timestamp), entry.timestamp)
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            key = materialization.asset_key.to_user_string()
            metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
            report.loads.setdefault(key, metadata)
            if key == "published_benchmarks":
                report.published_version = metadata.get("version")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            outcome = (
                "passed"
                if evaluation.passed
                else ("failed" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warned")
            )
            report.checks.append(
                {
                    "asset": evaluation.asset_key.to_user_string(),
                    "check": evaluation.check_name,
                    "outcome": outcome,
                }
            )
            if outcome == "failed":
                report.failures.append(
                    f"blocking check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed"
                )
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            if error and error.cls_name == "Failure":
                # A step that stopped on purpose (dbt's failed tests or models) says why itself.
                message = error.message.split(": ", 1)[-1].strip().splitlines()[0]
            else:
                message = error.message.strip().splitlines()[0] if error and error.message else "unknown error"
            report.failures.append(f"step {event.step_key} failed: {message}")
    return report
