"""Quarantine housekeeping and privacy at rest: one entry per file content, never read twice for the
same verdict, owner-only like every other file holding worker-level data, and removed after the
retention period, by every load and by `workforce quarantine purge`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration import cli
from orchestration.lib import paths, warehouse
from orchestration.lib.checks.expectations import Validator
from orchestration.lib.load import outcomes, returns, staged_checks, staging
from orchestration.lib.load.published import DFE_INDICATORS, load_published
from tests.integration.conftest import release_files
from tests.integration.test_return_loads import history, load

SPOILED_FTE = (r"<FTE>[\d.]+</FTE>", "<FTE>1.400000</FTE>")  # an error: FTE above 1
IMPRECISE_FTE = (r"<FTE>[\d.]+</FTE>", "<FTE>0.1234567</FTE>")  # a warning: more than 6 decimals


def spoil(path: Path, change: tuple[str, str] = SPOILED_FTE) -> None:
    text = path.read_text(encoding="utf-8")
    changed = re.sub(change[0], change[1], text, count=1)
    assert changed != text
    path.write_text(changed, encoding="utf-8")


def entry_folders(source: str = returns.SOURCE) -> list[Path]:
    root = paths.quarantine_dir() / source
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the loader reads (a handful of files are parsed in this process)."""
    read: list[Path] = []
    parse = staging.parse_return

    def counting(path: Path, **kwargs):
        read.append(path)
        return parse(path, **kwargs)

    monkeypatch.setattr(staging, "parse_return", counting)
    return read


def test_a_refused_file_has_one_entry_and_is_not_read_again(
    landing: Path, validator: Validator, parses: list[Path]
) -> None:
    target = landing / "301" / "2022" / "csww_2022.xml"
    spoil(target)
    [first] = load(validator).with_status("quarantined")
    [entry] = entry_folders()
    assert entry == first.report_path and entry.name == first.sha256
    assert sorted(p.name for p in entry.iterdir()) == [
        "csww_2022.xml",
        "entry.json",
        "issues.csv",
        "report.html",
        "report.txt",
    ]
    recorded = history()
    parses.clear()

    for run in ("second", "third"):
        [again] = load(validator, run_id=run).with_status("quarantined")
        assert again.still_quarantined and again.report_path == entry
        assert "still quarantined" in again.message and "FTE must be" in again.message

    assert target not in parses, "bytes already quarantined are not parsed again"
    assert entry_folders() == [entry], "reruns never add a second entry"
    assert history() == recorded, "no new judgement, so nothing new in the load history"


def test_a_quarantined_file_is_judged_again_when_the_rules_change(
    landing: Path, validator: Validator, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = landing / "301" / "2022" / "csww_2022.xml"
    spoil(target)
    load(validator)
    [entry] = entry_folders()
    first = json.loads((entry / "entry.json").read_text())

    monkeypatch.setattr(outcomes, "rules_version", lambda: "changed-rules")
    [again] = load(validator, run_id="new rules").with_status("quarantined")

    assert target in parses and not again.still_quarantined
    assert entry_folders() == [entry]
    now = json.loads((entry / "entry.json").read_text())
    assert now["rules_version"] == "changed-rules"
    assert now["written_at"] == first["written_at"], "retention still counts from the first quarantine"
    assert [status for _la, _year, status, _sha in history()].count("quarantined") == 2


def test_a_corrected_file_loads_after_its_quarantine(landing: Path, validator: Validator) -> None:
    target = landing / "301" / "2022" / "csww_2022.xml"
    good = target.read_bytes()
    spoil(target)
    load(validator)

    target.write_bytes(good)
    summary = load(validator, run_id="corrected")

    assert {o.path.name: o.status for o in summary.outcomes} == {
        "csww_2022.xml": "loaded",
        "csww_2023.xml": "unchanged",
    }


def test_a_symlink_is_never_copied_into_the_quarantine(workspace: Path, validator: Validator) -> None:
    outside = workspace / "elsewhere.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\n")
    link = paths.returns_dir() / "301" / "2022" / "csww_2022.xml"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)

    with warehouse.connect() as con:
        loader = returns.ReturnLoader(con, pseudonym_key=b"k" * 32, validator=validator, run_id="link")
        [outcome] = loader.load([returns.ReturnFile(link, "301", 2022)]).outcomes

    assert outcome.status == "quarantined"
    assert sorted(p.name for p in outcome.report_path.iterdir()) == [
        "entry.json",
        "issues.csv",
        "report.html",
        "report.txt",
    ]
    for path in outcome.report_path.iterdir():
        assert "root:" not in path.read_text()


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable: modes must not depend on it."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_worker_level_files_are_readable_by_their_owner_only(
    landing: Path, validator: Validator, permissive_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spoil(landing / "301" / "2022" / "csww_2022.xml")
    spoil(landing / "301" / "2023" / "csww_2023.xml", IMPRECISE_FTE)
    # State left world-readable by an earlier version is tightened too.
    legacy = paths.quarantine_dir() / "301" / "2021" / "20240101T000000Z_abc"
    legacy.mkdir(parents=True)
    (legacy / "csww_2021.xml").write_text("<Message/>")
    os.chmod(legacy / "csww_2021.xml", 0o644)
    staged: list[tuple[int, int]] = []
    stage = staging.parse_to_parquet

    def watch(job: staging.StageJob):
        found = stage(job)
        staged.append((mode(job.parquet), mode(job.parquet.parent)))
        return found

    monkeypatch.setattr(staging, "parse_to_parquet", watch)

    summary = load(validator)

    [refused] = summary.with_status("quarantined")
    [loaded] = summary.with_status("loaded")
    assert loaded.queries and loaded.report_path is not None
    assert staged == [(0o600, 0o700)], "staged rows"
    for folder in paths.personal_data_dirs():
        assert mode(folder) == 0o700, folder
    for root in (paths.warehouse_path().parent, paths.quarantine_dir(), paths.reports_dir()):
        for path in root.rglob("*"):
            assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert (refused.report_path / "csww_2022.xml").exists()
    assert (loaded.report_path / "issues.csv").exists()


def _age(entry: Path, days: int) -> None:
    record = json.loads((entry / "entry.json").read_text())
    record["written_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
    (entry / "entry.json").write_text(json.dumps(record))


def test_purge_removes_what_is_past_retention_and_says_so(
    landing: Path, validator: Validator, capsys: pytest.CaptureFixture[str]
) -> None:
    spoil(landing / "301" / "2022" / "csww_2022.xml")
    spoil(landing / "301" / "2023" / "csww_2023.xml")
    load(validator)
    old, recent = sorted(entry_folders(), key=lambda folder: "2023" in (folder / "entry.json").read_text())
    _age(old, 91)
    _age(recent, 89)
    capsys.readouterr()

    assert cli.main(["quarantine", "purge", "--dry-run"]) == 0
    said = capsys.readouterr().out
    assert f"would remove {old}" in said and str(recent) not in said
    assert "1 entries older than 90 days would be removed." in said
    assert entry_folders() == sorted([old, recent])

    assert cli.main(["quarantine", "purge"]) == 0
    said = capsys.readouterr().out
    assert f"removed {old}" in said and "csww_2022.xml (301/2022)" in said
    assert entry_folders() == [recent]

    assert cli.main(["quarantine", "purge", "--older-than", "30"]) == 0
    assert f"removed {recent}" in capsys.readouterr().out
    assert entry_folders() == []


def test_every_load_applies_the_retention_setting(
    landing: Path, validator: Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    spoil(landing / "301" / "2022" / "csww_2022.xml")
    load(validator)
    [entry] = entry_folders()
    _age(entry, 8)
    monkeypatch.setenv(outcomes.RETENTION_ENV, "7")

    [again] = load(validator, run_id="a week later").with_status("quarantined")

    assert not again.still_quarantined, "the expired entry went, so the file was judged afresh"
    [renewed] = entry_folders()
    written = dt.datetime.fromisoformat(json.loads((renewed / "entry.json").read_text())["written_at"])
    assert dt.datetime.now(dt.UTC) - written < dt.timedelta(hours=1)


def test_a_bad_retention_setting_is_explained(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(outcomes.RETENTION_ENV, "ninety")
    assert cli.main(["quarantine", "purge"]) == 2
    assert "WORKFORCE_QUARANTINE_RETENTION_DAYS='ninety'" in capsys.readouterr().err


def test_a_refused_published_file_has_one_entry_and_shares_the_history_schema(
    workspace: Path, validator: Validator
) -> None:
    release = paths.dfe_releases_dir() / "csww_indicators_2017_to_2024.csv"
    release.write_text(release.read_text(encoding="utf-8").replace("time_period", "period", 1), encoding="utf-8")

    with warehouse.connect() as con:
        for run in ("first", "second"):
            summary = load_published(con, DFE_INDICATORS, files=release_files(), validator=validator, run_id=run)
        [refused] = summary.with_status("quarantined")
        dfe_history = con.execute("select status from raw_dfe.load_history").fetchall()
        dfe_columns = warehouse.table_columns(con, "raw_dfe.load_history")
        returns.ensure_tables(con)
        csww_columns = warehouse.table_columns(con, "raw_csww.load_history")

    assert refused.still_quarantined and "'period'" in refused.message
    assert entry_folders(DFE_INDICATORS.name) == [refused.report_path]
    assert dfe_history == [("quarantined",)]
    assert dfe_columns == csww_columns


@pytest.mark.parametrize("engine", ["duckdb", "great_expectations"])
def test_a_return_failing_a_table_check_is_quarantined_by_either_engine(
    engine: str, landing: Path, validator: Validator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suites = tmp_path / "suites"
    shutil.copytree(paths.EXPECTATIONS_DIR, suites)
    suite = json.loads((suites / f"{returns.WORKERS_SUITE}.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "working_days_lost", "max_value": 0},
            "meta": {"why": "a stricter check than any return meets, for this test"},
            "severity": "critical",
        }
    )
    (suites / f"{returns.WORKERS_SUITE}.json").write_text(json.dumps(suite))
    monkeypatch.setattr(paths, "EXPECTATIONS_DIR", suites)
    if engine == "great_expectations":
        monkeypatch.setattr(staged_checks, "supports", lambda _suite: False)

    summary = load(validator)

    refused = summary.with_status("quarantined")
    assert {o.partition for o in refused} == {("301", 2022), ("301", 2023)}
    report = (refused[0].report_path / "issues.csv").read_text()
    assert "table-check:expect_column_values_to_be_between" in report and "working_days_lost" in report
    assert not summary.with_status("loaded")
