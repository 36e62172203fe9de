"""Every run the Dagster daemon finishes (started from the UI, the sensor or the schedule under
`make dev` or the shared deployment's daemon) gets the same run summary JSON and alerts as
`workforce run`: see runner.finish. A run `workforce run` queued is its to report on.

Two run-status sensors, one for runs that succeeded (which may still have quarantined or refused
files) and one for runs that failed (a step failed, or a blocking check stopped publishing).
"""

import dagster as dg

from orchestration import runner


def _summarise(context: dg.RunStatusSensorContext) -> None:
    run_id = context.dagster_run.run_id
    if context.dagster_run.tags.get(runner.REPORTED_BY_CLI_TAG):
        return  # queued by `workforce run`, which reports on it itself
    stats = context.instance.get_run_stats(run_id)
    seconds = (stats.end_time or 0.0) - (stats.start_time or stats.end_time or 0.0)
    report = runner.report_for_run(context.instance, run_id, seconds)
    path = runner.finish(report)
    context.log.info(f"run {run_id}: exit status {report.exit_code}, alerts {report.alerts or 'none'}; {path}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="run_summary_on_success",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes the run summary JSON of a finished run and alerts if files were quarantined or refused.",
)
def run_summary_on_success(context: dg.RunStatusSensorContext) -> None:
    _summarise(context)


@dg.run_failure_sensor(
    name="run_summary_on_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes the run summary JSON of a failed run and alerts (run failure or blocked publish).",
)
def run_summary_on_failure(context: dg.RunFailureSensorContext) -> None:
    _summarise(context)


run_summary_sensors = [run_summary_on_success, run_summary_on_failure]
