"""End to end with council returns: calibrated loads, quarantine without blocking others,
recovery from a killed run, and the landing-zone sensor."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import dagster as dg
import pytest

from orchestration.lib import paths, warehouse
from orchestration.lib.sources import dfe_release
from synthetic import generate_returns
from tests.integration.helpers import RUN_TIMES, published_tables, query_published, run_pipeline
from tests.listeners import alert_environment

# Reorganised (Dorset 838 from 2019), suppressed in the release (Westminster 213 and Birmingham 330
# in 2024), joint return (North/West Northamptonshire from 2021) and a plain London borough.
RETURNS = {"838": [2019], "213": [2024], "330": [2024], "940": [2021], "301": [2023, 2024]}
YEARS = sorted({year for years in RETURNS.values() for year in years})


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate_returns(out_dir=out, seed=11, years=YEARS, la_codes=list(RETURNS))
    for la, years in RETURNS.items():  # the generator made every wanted year for each LA: keep the listed ones
        for folder in (out / la).iterdir():
            if int(folder.name) not in years:
                shutil.rmtree(folder)
    return out


def _land(generated: Path, skip: tuple[str, ...] = ()) -> None:
    for xml in generated.rglob("*.xml"):
        relative = xml.relative_to(generated)
        if str(relative.parent) in skip:
            continue
        target = paths.returns_dir() / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(xml, target)


def _published_counts(code: str, year: int) -> dict[str, float]:
    rows = dfe_release.latest_rows(paths.dfe_releases_dir())
    row = rows[(rows.time_period == str(year)) & (rows.old_la_code == code)].iloc[0]
    return {m: dfe_release.as_number(row[m]) for m in dfe_release.release_columns().measures}


def _reaggregate(old_la_code: str, year: int) -> dict[str, float]:
    """docs/measures.md counts from the loaded rows, written here independently of the dbt models, in
    exact decimals (DfE rounds exact sums half-up: a float sum of 105.65 is 105.649999...)."""
    start, census = f"{year - 1}-10-01", f"{year}-09-30"
    in_post = f"(role_end_date is null or role_end_date > '{census}') and coalesce(fte30, 0) > 0"
    leaver = f"not agency_worker and role_end_date between '{start}' and '{census}'"
    starter = f"not agency_worker and role_start_date between '{start}' and '{census}'"
    sql = f"""
        select
            sum(fte30::decimal(18, 6)) filter (where not agency_worker and {in_post}),
            count(distinct swe_pseudonym) filter (where not agency_worker and {in_post}),
            sum(fte::decimal(18, 6)) filter (where {starter}), count(distinct swe_pseudonym) filter (where {starter}),
            sum(fte::decimal(18, 6)) filter (where {leaver}), count(distinct swe_pseudonym) filter (where {leaver}),
            sum(fte30::decimal(18, 6)) filter (where agency_worker and {in_post}),
            count(distinct swe_pseudonym) filter (where agency_worker and {in_post}),
            sum(fte30::decimal(18, 6)) filter (where {in_post} and cases30 > 0),
            sum(cases30::decimal(18, 6)) filter (where {in_post} and cases30 > 0),
            sum(working_days_lost::decimal(18, 6)) filter (where not agency_worker and {in_post})
        from raw_csww.workers where old_la_code = ? and collection_year = ?
    """
    names = ["inpost_fte", "inpost_headcount", "starters_fte", "starters_headcount", "leavers_fte",
             "leavers_headcount", "agency_fte", "agency_headcount", "case_holders_fte", "cases",
             "working_days_lost_fte"]  # fmt: skip
    with warehouse.connect(read_only=True) as con:
        values = dict(zip(names, con.execute(sql, [old_la_code, year]).fetchone(), strict=True))
        vacancies, cover = con.execute(
            "select number_of_vacancies, no_agency_fte from raw_csww.la_level "
            "where old_la_code = ? and collection_year = ?",
            [old_la_code, year],
        ).fetchone()
    return {**values, "vacancy_fte": vacancies, "agency_cover_fte": cover}


def _imputed(generated: Path, old_la_code: str, year: int) -> dict[str, float]:
    """What the generator filled in for the cells DfE suppressed, from the return's sidecar."""
    sidecar = json.loads((generated / old_la_code / str(year) / f"csww_{year}.generated.json").read_text())
    return {item["measure"]: item["value"] for item in sidecar["imputed"]}


@pytest.mark.usefixtures("workspace")
def test_loaded_returns_reaggregate_to_dfe_and_a_bad_one_falls_back_to_published_figures(generated: Path) -> None:
    _land(generated)
    # Birmingham's 2024 return arrives corrupted: it must be quarantined, and the rest published.
    birmingham = paths.returns_dir() / "330" / "2024" / "csww_2024.xml"
    birmingham.write_bytes(birmingham.read_bytes()[:5000])

    report = run_pipeline()

    assert report.succeeded, report.describe()
    assert report.published_version
    assert report.loads["raw/csww_returns"]["files_loaded"] == 5
    assert report.loads["raw/csww_returns"]["files_quarantined"] == 1
    # Every loaded council-year's worker records re-aggregate to DfE's published counts, and where
    # DfE suppressed a count, to the value the generator recorded as imputed.
    joint = {"940": "940 / 941"}
    for la, year in [("838", 2019), ("213", 2024), ("940", 2021), ("301", 2023), ("301", 2024)]:
        published = _published_counts(joint.get(la, la), year)
        imputed = _imputed(generated, la, year)
        recomputed = _reaggregate(la, year)
        for measure, value in recomputed.items():
            expected = published[measure] if published[measure] is not None else imputed[measure]
            shown = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            assert float(shown) == pytest.approx(expected, abs=1e-9), (la, year, measure)
    assert set(_imputed(generated, "213", 2024)) == {"agency_fte", "agency_cover_fte"}
    rows = dict(
        query_published(
            "select old_la_code || ':' || time_period, source || '/' || return_status from fct_workforce_indicators "
            "where geographic_level = 'Local authority' and old_la_code in ('838', '330', '940 / 941', '301')"
        )
    )
    assert rows["838:2019"] == "council_return/loaded"
    assert rows["940 / 941:2021"] == "council_return/loaded"
    assert rows["330:2024"] == "dfe_published/quarantined", "the refused council-year is benchmarked from DfE"
    assert rows["301:2022"] == "dfe_published/not_received"
    # A year with no returns at all is still fully benchmarked from DfE's figures.
    [(units, sources)] = query_published(
        "select count(distinct old_la_code), string_agg(distinct source, ',') from fct_workforce_benchmarks "
        "where time_period = 2022"
    )
    assert units > 145 and sources == "dfe_published"
    # Reconciliation of what came from returns: every LA-level comparison within DfE's rounding.
    [(compared, off)] = query_published(
        "select count(*), count(*) filter (where exceeds_rounding) from fct_published_reconciliation "
        "where geographic_level = 'Local authority'"
    )
    assert compared >= 5 * 18 and off == 0


def _run_subprocess(log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=paths.PROJECT_ROOT,
        start_new_session=True,
    )


def test_a_run_killed_midway_then_rerun_publishes_what_an_uninterrupted_run_does(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import TEST_PSEUDONYM_KEY

    snapshots = {}
    for name in ("uninterrupted", "killed"):
        root = tmp_path / name
        for folder in ("dfe", "ofsted"):
            shutil.copytree(paths.PROJECT_ROOT / "raw" / folder, root / "raw" / folder)
        monkeypatch.setenv("WORKFORCE_DATA_DIR", str(root / "data"))
        monkeypatch.setenv("WORKFORCE_RAW_DIR", str(root / "raw"))
        monkeypatch.setenv("DAGSTER_HOME", str(root / "data" / "dagster_home"))
        monkeypatch.setenv("WORKFORCE_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)
        _land(generated)
        if name == "killed":
            log = tmp_path / "killed.log"
            process = _run_subprocess(log)
            deadline = time.monotonic() + 240
            while "dbt: build started" not in log.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                time.sleep(0.2)
            time.sleep(2)  # dbt is now writing the warehouse
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            assert not paths.published_dir().exists(), "the killed run must not have published"
        report = run_pipeline()
        assert report.succeeded, report.describe()
        snapshots[name] = published_tables(without=RUN_TIMES)
    assert snapshots["killed"] == snapshots["uninterrupted"]


def test_the_sensor_picks_up_new_files_and_the_ui_shows_each_la_year_honestly(
    workspace: Path, generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.definitions import defs
    from orchestration.defs.ingest.assets import ACCEPTED_RETURNS, LATEST_FILE_ACCEPTED

    _land(generated, skip=("301/2024",))
    assert run_pipeline().succeeded
    sql = "select source from fct_workforce_indicators where old_la_code = '301' and time_period = 2024"
    assert query_published(sql) == [("dfe_published",)]

    instance = dg.DagsterInstance.get()
    sensor = defs.resolve_sensor_def("landing_zone_sensor")
    with dg.build_sensor_context(instance=instance) as context:
        settled = sensor(context)  # the first look sees every file as new: one full rebuild
    [first_look] = settled.run_requests
    assert first_look.job_name == "full_rebuild"
    # A council's new return arrives with a lock file beside it; another sends a corrupt return for
    # a year nothing was loaded for.
    new_file = paths.returns_dir() / "301" / "2024" / "csww_2024.xml"
    new_file.parent.mkdir(parents=True)
    shutil.copy(generated / "301" / "2024" / "csww_2024.xml", new_file)
    (new_file.parent / "~$csww_2024.xml").write_bytes(b"lock")
    broken = paths.returns_dir() / "301" / "2022" / "csww_2022.xml"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(new_file.read_bytes()[:4000])

    with dg.build_sensor_context(instance=instance, cursor=settled.cursor) as context:
        result = sensor(context)

    [request] = result.run_requests
    assert request.job_name == "republish_returns"
    assert request.partition_key is None and not request.tags, "no partitions: the load compares content"
    run = defs.resolve_job_def(request.job_name).execute_in_process(instance=instance, tags=request.tags)
    assert run.success
    assert query_published(sql) == [("council_return",)]
    # The UI: an LA-year is materialized only when its return was accepted, and the LA-year whose
    # latest file was quarantined shows a failed check, never green.
    assert {"301|2024", "301|2023"} <= instance.get_materialized_partitions(ACCEPTED_RETURNS)
    assert "301|2022" not in instance.get_materialized_partitions(ACCEPTED_RETURNS)
    statuses = {
        info.partition_key: info.latest_execution_status.value
        for info in instance.event_log_storage.get_asset_check_partition_info([LATEST_FILE_ACCEPTED.key])
        if info.partition_key
    }
    assert statuses == {"301|2022": "FAILED"}, "accepted LA-years are shown by their partitions"

    # After the run, the run-status sensor writes its summary and alerts (local listeners).
    [finished] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
    with alert_environment(monkeypatch) as (smtp, hook):
        context = dg.build_run_status_sensor_context(
            sensor_name="run_summary_on_success",
            dagster_event=finished.dagster_event,
            dagster_instance=instance,
            dagster_run=run.dagster_run,
        )
        defs.resolve_sensor_def("run_summary_on_success")(context)
    summary = json.loads((paths.reports_dir() / "runs" / "latest.json").read_text())
    assert (summary["run_id"], summary["exit_code"], summary["alerts"]) == (run.run_id, 3, ["quarantined"])
    quarantined = [e for e in summary["not_loaded"] if e["decision"] == "quarantined"]
    assert [e["file"] for e in quarantined] == ["returns/301/2022/csww_2022.xml"]
    assert "returns/301/2024/~$csww_2024.xml" in {e["file"] for e in summary["not_loaded"]}
    assert [post["json"]["run_id"] for post in hook.posts] == [run.run_id]
    [message] = smtp.messages
    assert message["Subject"] == "workforce: republish_returns quarantined"

    with dg.build_sensor_context(instance=instance, cursor=result.cursor) as context:
        assert isinstance(sensor(context), dg.SkipReason), "nothing new: the sensor stays quiet"
    (new_file.parent / "~$csww_2024.xml").unlink()
    with dg.build_sensor_context(instance=instance, cursor=result.cursor) as context:
        assert isinstance(sensor(context), dg.SkipReason), "a lock file going away is no reason to run"
