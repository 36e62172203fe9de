"""Run the warehouse's Dagster jobs and say, in plain words, what happened.

`workforce run` (and so `make run`) comes through here: it makes sure the pseudonym key and the
raw tables exist, runs the `full_rebuild` job over the whole landing zone in one run, prints
progress as it goes and ends with a summary a person can read. The same summary, as JSON, goes to
data/reports/runs/ (for every run, `make dev` runs included: see defs/automation/alerts.py), an
alert goes out when a run needs someone's attention, and the exit status says how it went
(EXIT_* below).

On the embedded default these runs use an in-memory Dagster instance. Everything that matters
between runs lives in the warehouse (load history, file hashes) and in the publication manifests.
Runs started from the UI, the sensor or the schedule (`make dev`) are recorded in data/dagster_home.
With WORKFORCE_WAREHOUSE_URL set (the shared deployment), Dagster's run, event and schedule
storage is on that server, and `workforce run` puts its run in the run queue there (`queue_job`),
where the dagster-daemon starts it in turn with the runs from the UI, the sensor and the schedule;
with no daemon running it runs the job in this process, recorded in the same history.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import os
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from orchestration.lib import alerts, paths
from orchestration.lib.private_files import private_dir, write_private_text

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
# The shared deployment: runs, events and schedules on the server (dagster-postgres), which reads
# the URL from the environment when the instance starts, so no secret is written to this file.
# dagster-postgres speaks through psycopg2 (its NOTIFY is not valid under psycopg 3, which
# SQLAlchemy picks for a plain postgresql:// URL), so the URL it reads names that driver.
DAGSTER_STORAGE_URL = "WORKFORCE_DAGSTER_STORAGE_URL"
SERVER_STORAGE_YAML = f"""\
storage:
  postgres:
    postgres_url:
      env: {DAGSTER_STORAGE_URL}
"""


def prepare_environment() -> Path:
    """Dagster home, telemetry off, pseudonym key, raw tables: everything a run needs."""
    from orchestration.lib import warehouse
    from orchestration.lib.load.pseudonym import ensure_local_key
    from orchestration.lib.load.returns import ensure_tables

    home = paths.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    server = paths.warehouse_server_url()
    wanted = DAGSTER_YAML + (SERVER_STORAGE_YAML if server else "")
    if server:
        os.environ[DAGSTER_STORAGE_URL] = paths.dagster_storage_url()  # type: ignore[assignment]
    if not config.exists() or config.read_text(encoding="utf-8") != wanted:
        config.write_text(wanted, encoding="utf-8")
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


EXIT_CLEAN = 0
"""Published, and every file in the landing zone was loaded (or was already)."""
EXIT_FAILED = 1
"""A step failed or a blocking check stopped publishing: the published files are as they were."""
EXIT_FILES_NOT_LOADED = 3
"""Published, but some files were refused at the door or quarantined (their councils' figures come
from DfE's published release, or from the return loaded before)."""

IGNORED_LISTED_UP_TO = 5
"""Ignored files sharing a reason are named one by one up to this many; beyond, counted (the run
summary JSON names every one)."""


@dataclass
class RunReport:
    succeeded: bool
    seconds: float
    job: str = ""
    run_id: str = ""
    loads: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    published_version: str | None = None
    failures: list[str] = field(default_factory=list)
    blocked_by: list[str] = field(default_factory=list)
    """Blocking checks that failed, so nothing was published."""
    log_file: Path | None = None
    # step name -> (started, finished), Unix seconds
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)

    def checks_with(self, outcome: str) -> list[dict[str, Any]]:
        return [c for c in self.checks if c["outcome"] == outcome]

    @property
    def not_loaded(self) -> list[dict[str, Any]]:
        """Every landing-zone file the run did not load, once each, with the reason (from every load)."""
        files = {entry["file"]: entry for load in self.loads.values() for entry in load.get("not_loaded", [])}
        return [files[name] for name in sorted(files)]

    def count(self, decision: str) -> int:
        return sum(entry["decision"] == decision for entry in self.not_loaded)

    @property
    def exit_code(self) -> int:
        if not self.succeeded or not self.published_version:
            return EXIT_FAILED
        return EXIT_FILES_NOT_LOADED if self.count("refuse") or self.count("quarantined") else EXIT_CLEAN

    @property
    def alerts(self) -> list[str]:
        """Why someone should be told about this run (nothing: no alert)."""
        reasons = []
        if not self.succeeded and not self.blocked_by:
            reasons.append("run_failed")
        if self.blocked_by or (self.succeeded and not self.published_version):
            reasons.append("publish_blocked")
        if self.count("quarantined"):
            reasons.append("quarantined")
        if self.count("refuse"):
            reasons.append("refused")
        return reasons

    def as_dict(self) -> dict[str, Any]:
        """The run summary a scheduler or an alert reads (no worker-level data: files, counts, reasons)."""
        return {
            "job": self.job,
            "run_id": self.run_id,
            "exit_code": self.exit_code,
            "succeeded": self.succeeded,
            "published_version": self.published_version,
            "alerts": self.alerts,
            "files": {
                "quarantined": self.count("quarantined"),
                "refused": self.count("refuse"),
                "ignored": self.count("ignore"),
            },
            "not_loaded": self.not_loaded,
            "loads": {
                key: {name: value for name, value in load.items() if isinstance(value, int | float | str)}
                for key, load in self.loads.items()
                if key.startswith("raw/")
            },
            "checks": {outcome: len(self.checks_with(outcome)) for outcome in ("passed", "warned", "failed")},
            "checks_not_passed": [c for c in self.checks if c["outcome"] != "passed"],
            "failures": self.failures,
            "seconds": round(self.seconds, 1),
            "log_file": str(self.log_file) if self.log_file else None,
        }

    def describe(self) -> str:
        lines = ["", "Summary", "-------"]
        returns = self.loads.get("raw/csww_returns", {})
        if returns:
            lines.append(
                f"Council returns: {returns.get('files_loaded', 0)} loaded, "
                f"{returns.get('files_unchanged', 0)} unchanged, {returns.get('files_quarantined', 0)} quarantined, "
                f"{returns.get('files_refused', 0)} refused; "
                f"{returns.get('rows_loaded', 0):,} worker-role rows loaded, "
                f"{returns.get('table_rows', 0):,} in the warehouse."
            )
        for key in ("raw/dfe_csww_indicators", "raw/ofsted_ilacs_inspections"):
            if key in self.loads:
                m = self.loads[key]
                lines.append(
                    f"{key}: {m.get('files_loaded', 0)} files loaded, {m.get('files_unchanged', 0)} unchanged, "
                    f"{m.get('files_quarantined', 0)} quarantined, {m.get('files_refused', 0)} refused; "
                    f"{m.get('table_rows', 0):,} rows."
                )
        lines.extend(self._describe_not_loaded())
        lines.append(
            f"Checks: {len(self.checks_with('passed'))} passed, {len(self.checks_with('warned'))} warned, "
            f"{len(self.checks_with('failed'))} failed."
        )
        for check in self.checks:
            if check["outcome"] != "passed":
                lines.append(f"  {check['outcome']}: {check['asset']} / {check['check']}")
        if self.published_version:
            lines.append(f"Published: version {self.published_version} at {paths.published_dir()}.")
            sharing = self.loads.get("server_sharing", {})
            if "council_pairs" in sharing:
                lines.append(
                    f"Server sharing written: {sharing['council_pairs']} council pairs may see provisional "
                    f"figures; DfE has published {sharing['dfe_published_years']} years."
                )
            lines.extend(f"  then {reason}" for reason in self.failures)
        else:
            lines.append("Not published: the previously published files are unchanged.")
            lines.extend(f"  because {reason}" for reason in self.failures or ["the run did not reach publishing"])
        if self.count("quarantined"):
            lines.append(
                f"Quarantined files, each with a report saying what to fix, are under {paths.quarantine_dir()}."
            )
        # A run the daemon ran (queued, or from the UI, the sensor or the schedule) logged to Dagster.
        where = f" Full log: {self.log_file}" if self.log_file else f" Its log: the Dagster UI, run {self.run_id}."
        lines.append(f"Finished in {self.seconds:.0f} s." + (where if self.log_file or self.run_id else ""))
        return "\n".join(lines)

    def _describe_not_loaded(self) -> list[str]:
        entries = self.not_loaded
        if not entries:
            return []
        lines = [
            f"Not loaded: {self.count('refuse'):,} refused, {self.count('quarantined'):,} quarantined, "
            f"{self.count('ignore'):,} ignored (every file is in the run summary JSON):"
        ]
        ignored: dict[str, list[str]] = {}
        for entry in entries:
            if entry["decision"] == "ignore":
                ignored.setdefault(entry["reason"], []).append(entry["file"])
            else:
                lines.append(f"  {entry['decision'].replace('refuse', 'refused')} {entry['file']}: {entry['reason']}")
        for reason, files in ignored.items():
            if len(files) > IGNORED_LISTED_UP_TO:
                lines.append(f"  ignored {len(files):,} files, each {reason}")
            else:
                lines.extend(f"  ignored {name}: {reason}" for name in files)
        return lines


def run_job(job_name: str = "full_rebuild", *, la_year: str | None = None) -> RunReport:
    """Execute a job of the code location in process and report on it.

    `la_year` ("<old_la_code>|<year>") limits the returns load to that council's year.
    """
    from orchestration.lib.checks.expectations import Validator

    started = time.monotonic()
    # Great Expectations starts in its own process now, while Dagster and the definitions import.
    Validator().warm_up()

    import dagster as dg

    from orchestration.definitions import defs

    _freeze_imported_objects()
    if paths.warehouse_server_url():
        instance = dg.DagsterInstance.get()  # DAGSTER_HOME's dagster.yaml: storage on the server
    else:
        # Local storage under DAGSTER_HOME: without a folder, Dagster makes one in the system temp folder.
        instance = dg.DagsterInstance.ephemeral(tempdir=str(paths.dagster_home()))
    job = defs.resolve_job_def(job_name)
    log_file = paths.logs_dir() / f"{job_name}_{time.strftime('%Y%m%dT%H%M%S')}.log"
    private_dir(log_file.parent)
    write_private_text(log_file, "")  # owner-only before anything is logged: logs can quote returns
    log.info(
        "run: %s started%s; full log in %s",
        job_name,
        f" for {la_year}" if la_year else "",
        log_file,
    )
    # dbt and the libraries print a great deal; it goes to the log file, progress to the terminal.
    run_started = time.time()
    with log_file.open("w", encoding="utf-8") as sink, redirect_stdout(sink), redirect_stderr(sink):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=_run_config(la_year),
        )
    report = report_for_run(instance, result.run_id, time.monotonic() - started)
    report.log_file = log_file
    _write_step_timings(log_file.with_suffix(".steps.json"), report, run_started)
    return report


QUEUE_DAEMON = "QUEUED_RUN_COORDINATOR"
DAEMON_SILENT_AFTER_SECONDS = 120
"""A daemon whose last heartbeat is older than this (it beats every 30 s or so) is taken to be down."""
QUEUE_POLL_SECONDS = 1.0
REPORTED_BY_CLI_TAG = "workforce/reported_by_cli"
"""On a run `workforce run` queued and follows: it writes the summary and alerts itself, so the
daemon's run-summary sensors (defs/automation/alerts.py) leave the run alone."""


class QueueError(RuntimeError):
    """Dagster would not queue the run; nothing was started."""


def queue_job(job_name: str, *, la_year: str | None = None) -> RunReport | None:
    """The shared deployment: put the run in Dagster's run queue on the server, where the daemon
    starts it when no other run holds the warehouse (runs from the UI, the sensor and the schedule
    wait in the same queue), follow it, and report on it. None when no daemon is running, so
    nothing would ever start the run."""
    import uuid

    import dagster as dg

    instance = dg.DagsterInstance.get()
    if not _daemon_is_running(instance):
        return None
    started = time.monotonic()
    run_id = str(uuid.uuid4())
    # Dagster's own command makes the run from the code location, as the UI does, and queues it.
    launched = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            *("job", "launch", "-w", str(paths.PROJECT_ROOT / "workspace.yaml"), "-j", job_name),
            *("--run-id", run_id, "--config-json", json.dumps(_run_config(la_year))),
            *("--tags", json.dumps({REPORTED_BY_CLI_TAG: "true"})),
        ],
        capture_output=True,
        text=True,
        cwd=paths.PROJECT_ROOT,
    )
    if launched.returncode != 0:
        raise QueueError(f"Dagster did not queue the run: {(launched.stderr or launched.stdout).strip()[-2000:]}")
    log.info("run: %s queued as run %s; the Dagster daemon starts it when the queue allows", job_name, run_id)
    status, cursor = None, None
    while status not in _finished_statuses():
        time.sleep(QUEUE_POLL_SECONDS)
        run = instance.get_run_by_id(run_id)
        # The run's own progress lines, as an in-process run prints them (not Dagster's events).
        records = instance.get_records_for_run(run_id, cursor=cursor)
        cursor = records.cursor
        for record in records.records:
            entry = record.event_log_entry
            if entry.dagster_event is None and entry.level >= logging.INFO:
                log.info("%s", entry.user_message)
        if run is not None and run.status != status:
            status = run.status
            log.info("run: %s %s", run_id, status.value.lower())
        if status == dg.DagsterRunStatus.QUEUED and not _daemon_is_running(instance):
            return RunReport(
                succeeded=False,
                seconds=time.monotonic() - started,
                job=job_name,
                run_id=run_id,
                failures=[
                    f"the run is queued as {run_id}, but the dagster-daemon stopped before starting it; it starts "
                    "when the daemon runs again (or cancel it in the Dagster UI)"
                ],
            )
    return report_for_run(instance, run_id, time.monotonic() - started)


def _daemon_is_running(instance: Any) -> bool:
    beat = instance.get_daemon_heartbeats().get(QUEUE_DAEMON)
    return beat is not None and time.time() - beat.timestamp <= DAEMON_SILENT_AFTER_SECONDS


def _run_config(la_year: str | None) -> dict[str, Any]:
    from orchestration.defs.ingest.assets import returns_scope

    return {"loggers": {"console": {"config": {"log_level": "INFO"}}}, **(returns_scope([la_year]) if la_year else {})}


@cache
def _finished_statuses() -> frozenset[Any]:
    import dagster as dg

    return frozenset({dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED})


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


def report_for_run(instance: Any, run_id: str, seconds: float) -> RunReport:
    """What a finished run did, read from its events (an in-process run's, or a `make dev` run's)."""
    import dagster as dg

    run = instance.get_run_by_id(run_id)
    report = RunReport(
        succeeded=run.status == dg.DagsterRunStatus.SUCCESS, seconds=seconds, job=run.job_name, run_id=run_id
    )
    started: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            report.steps[event.step_key] = (started.get(event.step_key, entry.timestamp), entry.timestamp)
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            if materialization.partition is not None:
                continue  # an LA-year of raw/csww_accepted_returns: counted by raw/csww_returns
            key = materialization.asset_key.to_user_string()
            metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
            report.loads.setdefault(key, metadata)
            if key == "published_benchmarks":
                report.published_version = metadata.get("version")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            _add_check(report, event.event_specific_data)
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            if error and error.cls_name == "Failure":
                # A step that stopped on purpose (dbt's failed tests or models) says why itself.
                message = error.message.split(": ", 1)[-1].strip().splitlines()[0]
            else:
                # Dagster wraps what went wrong in "Error occurred while executing op …": name the cause.
                while error and error.cause:
                    error = error.cause
                message = error.message.strip().splitlines()[0] if error and error.message else "unknown error"
            report.failures.append(f"step {event.step_key} failed: {message}")
    return report


def _add_check(report: RunReport, evaluation: Any) -> None:
    import dagster as dg

    if evaluation.partition is not None:
        return  # per LA-year (latest_file_accepted): the files behind it are in report.not_loaded
    failed = not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    outcome = "passed" if evaluation.passed else ("failed" if failed else "warned")
    asset = evaluation.asset_key.to_user_string()
    report.checks.append({"asset": asset, "check": evaluation.check_name, "outcome": outcome})
    if failed:
        report.failures.append(f"blocking check {evaluation.check_name} on {asset} failed")
        if evaluation.blocking:
            report.blocked_by.append(f"{asset} / {evaluation.check_name}")


def summaries_dir() -> Path:
    return paths.reports_dir() / "runs"


def finish(report: RunReport, *, settings: alerts.AlertSettings | None = None) -> Path:
    """Send the run's alerts, if it needs any, and write its summary JSON (also as latest.json).

    Returns the summary's path. A run that needs no alert sends nothing; an alert that cannot be
    sent is said in the summary and the log, and never changes the run's own outcome.
    """
    summary = report.as_dict()
    summary["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if report.alerts:
        subject = f"workforce: {report.job} {', '.join(report.alerts).replace('_', ' ')}"
        summary["alerts_sent_by"], summary["alert_problems"] = alerts.send(
            subject, report.describe(), summary, settings
        )
    folder = summaries_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = summary["finished_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
    path = folder / f"{stamp}_{report.job}_{report.run_id[:8]}.json"
    text = json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n"
    for target in (path, folder / "latest.json"):
        _write_atomically(target, text)
    return path


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
