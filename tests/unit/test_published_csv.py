"""Published files are read through their column maps; anything unrecognised is refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.lib.load.published import OFSTED_INSPECTIONS
from orchestration.lib.sources import dfe_release
from orchestration.lib.sources.published_csv import FileRejected

RELEASE = Path(__file__).resolve().parents[2] / "raw" / "dfe" / "csww_indicators" / "csww_indicators_2017_to_2024.csv"


def _write(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_current_release_reads_with_standard_columns() -> None:
    frame = dfe_release.read_release(RELEASE)
    assert list(frame.columns) == list(dfe_release.release_columns().columns)
    assert len(frame) == 1300
    national_2024 = frame[(frame.time_period == "2024") & (frame.geographic_level == "National")]
    assert national_2024.turnover_rate_fte.tolist() == ["13.9"]


def test_older_release_names_map_to_the_standard_names(tmp_path: Path) -> None:
    release = _write(
        tmp_path / "csww_headline_measures_2017_to_2022.csv",
        "time_period,geographic_level,region_code,region_name,old_la_code,new_la_code,la_name,"
        "turnover_rate_fte_perc,agency_worker_rate_fte_perc",
        "2022,Local authority,E12000007,London,301,E09000002,Barking and Dagenham,18.5,c",
    )
    frame = dfe_release.read_release(release)
    assert frame.loc[0, "turnover_rate_fte"] == "18.5"
    assert frame.loc[0, "agency_rate_fte"] == "c"
    assert frame.loc[0, "vacancy_rate_fte"] == "", "a measure the release lacks comes back empty"


def test_release_with_an_unknown_column_is_refused_naming_it(tmp_path: Path) -> None:
    release = _write(
        tmp_path / "csww_2025.csv",
        "time_period,geographic_level,region_code,region_name,old_la_code,new_la_code,la_name,turnover_rate_fte,"
        "agency_spend_gbp",
        "2025,National,,,,,,13.1,1000",
    )
    with pytest.raises(FileRejected) as refused:
        dfe_release.read_release(release)
    message = str(refused.value)
    assert "csww_2025.csv" in message and "'agency_spend_gbp'" in message
    assert "dfe_release_columns.csv" in message
    assert "nothing from this file was loaded" in message


def test_release_missing_a_required_column_is_refused(tmp_path: Path) -> None:
    release = _write(tmp_path / "r.csv", "time_period,geographic_level,turnover_rate_fte", "2024,National,13.9")
    with pytest.raises(FileRejected, match="required column"):
        dfe_release.read_release(release)


def test_not_utf8_release_is_refused(tmp_path: Path) -> None:
    release = tmp_path / "r.csv"
    release.write_bytes("time_period,la_name\n2024,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(FileRejected, match="not UTF-8"):
        dfe_release.read_release(release)


def test_ofsted_files_say_whether_they_are_history_or_latest() -> None:
    ofsted = Path(__file__).resolve().parents[2] / "raw" / "ofsted"
    kinds = {
        p.name.split(".")[1]: OFSTED_INSPECTIONS.reader(p).file_kind.unique().tolist() for p in ofsted.glob("*.csv")
    }
    assert kinds == {"ILACS_inspection_history": ["history"], "Inspections_as_at_31_March": ["latest"]}


def test_newest_release_wins_for_a_year_it_revises(tmp_path: Path) -> None:
    header = "time_period,geographic_level,region_code,region_name,old_la_code,new_la_code,la_name,inpost_fte"
    _write(tmp_path / "a_2023.csv", header, "2023,National,,,,,,100", "2022,National,,,,,,90")
    _write(tmp_path / "b_2024.csv", header, "2024,National,,,,,,110", "2023,National,,,,,,101")
    latest = dfe_release.latest_rows(tmp_path).set_index("time_period")["inpost_fte"].to_dict()
    assert latest == {"2022": "90", "2023": "101", "2024": "110"}
