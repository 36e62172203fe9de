"""The run summary names what made a step fail, not Dagster's wrapper around it."""

import dagster as dg

from orchestration.runner import report_for_run


def test_a_failed_step_is_reported_with_its_cause() -> None:
    @dg.op
    def open_warehouse() -> None:
        raise ConnectionError("Can't open a connection to the warehouse file")

    @dg.job
    def broken() -> None:
        open_warehouse()

    with dg.DagsterInstance.ephemeral() as instance:
        result = broken.execute_in_process(instance=instance, raise_on_error=False)
        report = report_for_run(instance, result.run_id, seconds=1.0)

    assert not report.succeeded
    assert report.failures == [
        "step open_warehouse failed: ConnectionError: Can't open a connection to the warehouse file"
    ]
