"""The Dagster code location loads, and its asset graph only changes on purpose.

The snapshot lists every asset with its group, partitioning, upstream assets and checks (and says
which are external: recorded by another step, never run themselves). When a change to the graph is
intended, regenerate it with `UPDATE_SNAPSHOTS=1 make test` and review the diff like any other code
change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import pytest

from orchestration.lib import paths

SNAPSHOT = paths.PROJECT_ROOT / "tests" / "snapshots" / "asset_graph.json"


def _graph() -> dict[str, dict]:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    checks_by_asset: dict[str, list[str]] = {}
    for check_key in graph.asset_check_keys:
        checks_by_asset.setdefault(check_key.asset_key.to_user_string(), []).append(check_key.name)
    snapshot = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        name = key.to_user_string()
        snapshot[name] = {
            "group": node.group_name,
            "partitioned": node.partitions_def is not None,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted(checks_by_asset.get(name, [])),
        }
        if not node.is_executable:
            snapshot[name]["external"] = True  # materialized by another step's events, never run itself
    return snapshot


def test_asset_graph_matches_snapshot() -> None:
    current = _graph()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == expected


def test_lineage_runs_from_raw_files_to_publish() -> None:
    graph = _graph()
    assert "raw/csww_returns" in graph["staging/stg_csww__workers"]["deps"]
    assert "raw/dfe_csww_indicators" in graph["staging/stg_dfe__csww_indicator_values"]["deps"]
    assert set(graph["published_benchmarks"]["deps"]) == {
        "marts/dim_local_authorities",
        "marts/dim_measures",
        "marts/fct_inspections",
        "marts/fct_published_reconciliation",
        "marts/fct_statistical_neighbour_values",
        "marts/fct_workforce_benchmarks",
        "marts/fct_workforce_indicators",
    }
    # What changed is decided by content in the load; per LA-year status is its own partitioned asset.
    assert not graph["raw/csww_returns"]["partitioned"] and not graph["marts/fct_workforce_indicators"]["partitioned"]
    assert graph["raw/csww_accepted_returns"]["partitioned"]
    assert graph["raw/csww_accepted_returns"]["checks"] == ["latest_file_accepted"]
    for mart in graph["published_benchmarks"]["deps"]:
        assert f"{mart.replace('/', '__')}" in graph[mart]["checks"], f"{mart} has no GE check"


def test_jobs_sensor_and_schedule_are_defined() -> None:
    from orchestration.definitions import defs

    assert {job.name for job in defs.jobs} >= {
        "full_rebuild",
        "republish_returns",
        "refresh_published_sources",
    }
    for sensor in ("landing_zone_sensor", "run_summary_on_success", "run_summary_on_failure"):
        assert defs.resolve_sensor_def(sensor).default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_schedule_def("nightly_full_rebuild").cron_schedule == "0 2 * * *"


def test_dagster_definitions_validate_from_workspace() -> None:
    dagster = str(paths.PROJECT_ROOT / ".venv" / "bin" / "dagster")
    if not os.path.exists(dagster):
        dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    result = subprocess.run(
        [dagster, "definitions", "validate", "-w", str(paths.PROJECT_ROOT / "workspace.yaml")],
        capture_output=True,
        text=True,
        cwd=paths.PROJECT_ROOT,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_a_run_can_be_limited_to_one_la_year_by_config() -> None:
    from orchestration.definitions import defs
    from orchestration.defs.ingest.assets import returns_scope

    job = defs.resolve_job_def("republish_returns")
    assert dg.validate_run_config(job, returns_scope(["301|2022"]))
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(job, returns_scope("301|2022"))  # a list of LA-years, not one string


def test_the_cli_offers_the_jobs_the_code_location_defines() -> None:
    from orchestration.cli import build_parser
    from orchestration.definitions import defs

    run = build_parser()._subparsers._group_actions[0].choices["run"]
    [job_option] = [action for action in run._actions if action.dest == "job"]
    assert set(job_option.choices) == {job.name for job in defs.jobs}
