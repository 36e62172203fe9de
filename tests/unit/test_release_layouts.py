"""Every DfE release layout since 2017 reads as today's, or is refused naming what is wrong; never a traceback.

The older layouts are written by the tests from the real 2017-2024 file (tests/release_layouts.py),
so the older release must read back as exactly the current one's rows for the same years.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.checks.expectations import Validator
from orchestration.lib.landing import decide
from orchestration.lib.load.published import DFE_INDICATORS, load_published
from orchestration.lib.sources import dfe_release
from orchestration.lib.sources.published_csv import FileRejected
from tests.release_layouts import (
    CURRENT_RELEASE,
    IDENTIFIERS,
    headline_measures_release,
    with_councils_as_x,
    write_release,
)

WORKFORCE = str(Path(sys.executable).with_name("workforce"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def headline(tmp_path: Path) -> Path:
    folder = tmp_path / "dfe"
    folder.mkdir()
    return headline_measures_release(folder)


def test_the_headline_measures_release_reads_as_the_current_one(headline):
    raw = headline.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"agency_worker_rate_fte_%" in raw.splitlines()[0]
    assert b",318,E09000027,Richmond upon Thames,:,:," in raw, "Richmond has a row of its own, not available"

    older = dfe_release.read_release(headline)
    current = dfe_release.read_release(CURRENT_RELEASE)
    current = current[current["time_period"].astype(int) <= 2022].reset_index(drop=True)
    assert older.equals(current)
    assert not older["old_la_code"].isin(["318", "941"]).any(), "no phantom units for joint-return members"
    assert (older["old_la_code"] == "314 / 318").sum() == 6


def test_figures_for_two_members_of_one_joint_return_are_refused(tmp_path, headline):
    rows = _rows(headline)
    richmond = next(r for r in rows if r["old_la_code"] == "318" and r["time_period"] == "2019")
    richmond["inpost_fte"] = "120.5"
    broken = write_release(tmp_path / "both.csv", rows)
    with pytest.raises(FileRejected) as refused:
        dfe_release.read_release(broken)
    message = str(refused.value)
    assert "2019" in message and "Kingston upon Thames (314)" in message and "Richmond upon Thames (318)" in message
    assert "314 / 318" in message and "Nothing from this file was loaded" in message


def test_a_release_missing_a_required_column_is_refused_naming_it(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "old_la_code"} for r in _rows(CURRENT_RELEASE)[:20]]
    with pytest.raises(FileRejected, match=r"required column\(s\) missing: old_la_code \(named 'old_la_code'\)"):
        dfe_release.read_release(write_release(tmp_path / "no_codes.csv", rows))


def test_a_value_that_is_neither_a_number_nor_a_symbol_is_refused_naming_its_line(tmp_path):
    rows = _rows(CURRENT_RELEASE)[:20]
    rows[4]["turnover_rate_fte"] = "n/a"
    rows[7]["time_period"] = "2024/25"
    broken = write_release(tmp_path / "odd.csv", rows)
    with pytest.raises(FileRejected, match=r"time_period must be a year .*line 9 \('2024/25'\)"):
        dfe_release.read_release(broken)
    rows[7]["time_period"] = "2024"
    with pytest.raises(FileRejected, match=r"\(c, x, z, u, low\): line 6, turnover_rate_fte = 'n/a'"):
        dfe_release.read_release(write_release(tmp_path / "odd.csv", rows))


def _generate(raw: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKFORCE_RAW_DIR": str(raw)}
    return subprocess.run(
        [WORKFORCE, "generate", "--out", str(out), *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_generate_refuses_a_broken_release_without_a_traceback(tmp_path):
    raw = tmp_path / "raw"
    (raw / "dfe" / "csww_indicators").mkdir(parents=True)
    rows = [{**row, "agency_spend": "12"} for row in _rows(CURRENT_RELEASE)[:30]]
    write_release(raw / "dfe" / "csww_indicators" / "csww_2025.csv", rows)
    result = _generate(raw, tmp_path / "out")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "csww_2025.csv" in result.stderr and "'agency_spend'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_generate_reads_the_headline_release_and_writes_joint_returns_once(tmp_path):
    raw = tmp_path / "raw"
    folder = raw / "dfe" / "csww_indicators"
    folder.mkdir(parents=True)
    headline_measures_release(folder)
    result = _generate(raw, tmp_path / "out", "--year", "2021", "--la", "318", "--la", "941")
    assert result.returncode == 0, result.stderr
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").glob("*/*/*.xml"))
    assert written == ["314/2021/csww_2021.xml", "940/2021/csww_2021.xml"]


@pytest.mark.usefixtures("workspace")
def test_the_loader_loads_the_headline_release_and_quarantines_a_broken_one_keeping_what_it_had():
    folder = DFE_INDICATORS.landing_source.directory()
    headline_measures_release(folder)
    validator = Validator()
    with duckdb.connect() as con:

        def load(run_id: str):
            files = decide().files_to_load(DFE_INDICATORS.landing_source)
            return load_published(con, DFE_INDICATORS, files=files, validator=validator, run_id=run_id)

        first = load("first")
        assert [(o.path.name, o.status) for o in first.outcomes] == [
            ("csww_headline_measures_2017_to_2022.csv", "loaded"),
            ("csww_indicators_2017_to_2024.csv", "loaded"),
        ]
        before = con.execute(
            "select source_file, count(*) from raw_dfe.csww_indicators group by 1 order by 1"
        ).fetchall()
        rows = _rows(CURRENT_RELEASE)[:30]
        rows[0]["inpost_fte"] = "12,5"
        write_release(folder / "csww_2025.csv", rows)
        second = load("second")
        broken = next(o for o in second.outcomes if o.path.name == "csww_2025.csv")
        assert broken.status == "quarantined" and "line 2, inpost_fte = '12,5'" in broken.message
        after = con.execute(
            "select source_file, count(*) from raw_dfe.csww_indicators group by 1 order by 1"
        ).fetchall()
        assert after == before
        assert dict(before) == {
            path.name: len(dfe_release.read_release(path))
            for path in sorted(folder.glob("csww_*20*.csv"))
            if path.name != "csww_2025.csv"
        }


def test_no_return_is_written_for_a_council_year_without_any_figure(tmp_path):
    """City of London 2017 published as `x` throughout: nothing to make a return from, and the summary says so."""
    releases = tmp_path / "raw" / "dfe" / "csww_indicators"
    releases.mkdir(parents=True)
    every_measure = tuple(name for name in _rows(CURRENT_RELEASE)[0] if name not in IDENTIFIERS)
    with_councils_as_x(releases, {2017: {"201": every_measure}})
    result = _generate(tmp_path / "raw", tmp_path / "out", "--year", "2017", "--la", "201", "--la", "202")
    assert result.returncode == 0, result.stderr
    assert [p.parent.parent.name for p in (tmp_path / "out").glob("*/2017/*.xml")] == ["202"]
    assert "1 council-years not written: DfE published no figure for them" in result.stdout
    assert "no DfE figure: 201 2017" in result.stdout


def files() -> list[Path]:
    """The files the landing zone's door lets in for this source, as its asset loads them."""
    return decide().files_to_load(DFE_INDICATORS.landing_source)
