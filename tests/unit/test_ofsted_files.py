"""Ofsted's outcomes are read as published (ODS), saved as XLSX, or as CSV: the same rows, or a clear refusal."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from orchestration.lib.checks.expectations import Validator
from orchestration.lib.landing import decide
from orchestration.lib.load.published import OFSTED_INSPECTIONS, load_published
from orchestration.lib.sources import ofsted
from orchestration.lib.sources.published_csv import FileRejected

ROOT = Path(__file__).resolve().parents[2]
ODS = ROOT / "tests" / "fixtures" / "ofsted" / "LA_Inspection_Outcomes_as_at_31_March_2025.ods"
CSVS = sorted((ROOT / "raw" / "ofsted").glob("*.csv"))
HISTORY_CSV = next(p for p in CSVS if "history" in p.name)
DATES = ("Inspection date", "Publication date")


def _outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a fixed order, without the web link (the CSVs hold the link's target, the sheets its text)."""
    return (
        frame.drop(columns="web_link")
        .sort_values(["file_kind", "new_la_code", "inspection_date"])
        .reset_index(drop=True)
    )


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _history_as_published() -> list[list[object]]:
    """The history CSV as Ofsted lays out its sheet: a title, a note, the header, dates as dates."""
    with HISTORY_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    dated = [header.index(name) for name in DATES]
    cells = [[dt.date.fromisoformat(v) if i in dated else v for i, v in enumerate(row)] for row in body]
    return [["ILACS inspection history from 2018-2025"], ["This worksheet contains one table."], header, *cells]


def test_the_published_spreadsheet_reads_as_the_csvs_of_its_sheets():
    from_ods = ofsted.read_outcomes(ODS)
    from_csvs = pd.concat([ofsted.read_outcomes(p) for p in CSVS], ignore_index=True)
    assert len(from_ods) == 424
    assert _outcomes(from_ods).equals(_outcomes(from_csvs))
    assert [sheet.split(" ")[0] for sheet in from_ods.attrs["not_read"]] == [
        "Cover", "Contents", "Notes", "In-year_inspections"
    ]  # fmt: skip
    assert "In-year_inspections (no table with the column(s) 'Inspection date')" in from_ods.attrs["not_read"]


def test_an_xlsx_with_title_rows_and_date_cells_reads_as_the_csv(tmp_path):
    book = _workbook(tmp_path / "outcomes.xlsx", {"Notes": [["About these data"]], "History": _history_as_published()})
    from_xlsx = ofsted.read_outcomes(book)
    assert _outcomes(from_xlsx).equals(_outcomes(ofsted.read_outcomes(HISTORY_CSV)))
    assert from_xlsx.attrs["not_read"] == [
        "Notes (no table with the column(s) 'Local authority area code', 'Local authority name', "
        "'Inspection date', 'Publication date', 'Overall effectiveness')"
    ]


def test_a_spreadsheet_without_an_outcomes_table_is_refused_naming_its_sheets(tmp_path):
    book = _workbook(tmp_path / "visits.xlsx", {"Cover": [["Visits"]], "Visits": [["Local authority name", "Visit"]]})
    with pytest.raises(FileRejected) as refused:
        ofsted.read_outcomes(book)
    message = str(refused.value)
    assert "visits.xlsx: no sheet holds a table of this publication" in message
    assert "Cover (no table" in message and "Visits (no table" in message and "ofsted_columns.csv" in message


def test_an_outcomes_table_with_an_unknown_column_is_refused_naming_sheet_and_column(tmp_path):
    rows = _history_as_published()
    rows[2] = [*rows[2], "Lead inspector"]
    book = _workbook(tmp_path / "outcomes.xlsx", {"History": rows})
    with pytest.raises(FileRejected, match=r"outcomes.xlsx, sheet History: column\(s\) 'Lead inspector' are not in"):
        ofsted.read_outcomes(book)


def test_a_file_of_another_type_is_refused_saying_which_types_are_read(tmp_path):
    other = tmp_path / "outcomes.xls"
    other.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(FileRejected, match=r"outcomes.xls: a .xls file; this source is read from CSV, XLSX, ODS files"):
        ofsted.read_outcomes(other)
    damaged = tmp_path / "outcomes.ods"
    damaged.write_text("not a spreadsheet")
    with pytest.raises(FileRejected, match=r"outcomes.ods: not a readable ODS spreadsheet"):
        ofsted.read_outcomes(damaged)


@pytest.mark.usefixtures("workspace")
def test_the_loader_loads_spreadsheets_it_finds_and_says_which_sheets_it_did_not_read():
    folder = OFSTED_INSPECTIONS.landing_source.directory()
    for path in folder.glob("*.csv"):
        path.unlink()
    shutil.copy(ODS, folder / ODS.name)
    _workbook(folder / "history_saved_as.xlsx", {"History": _history_as_published()})
    assert [p.name for p in files()] == [ODS.name, "history_saved_as.xlsx"]
    with duckdb.connect() as con:
        summary = load_published(
            con,
            OFSTED_INSPECTIONS,
            files=decide().files_to_load(OFSTED_INSPECTIONS.landing_source),
            validator=Validator(),
            run_id="t",
        )
        outcomes = {o.path.name: o for o in summary.outcomes}
        assert {name: (o.status, o.rows) for name, o in outcomes.items()} == {
            ODS.name: ("loaded", 424),
            "history_saved_as.xlsx": ("loaded", 271),
        }
        assert outcomes[ODS.name].message.startswith("sheets not read: Cover (")
        kinds = con.execute(
            "select source_file, file_kind, count(*) from raw_ofsted.ilacs_inspections group by all order by all"
        ).fetchall()
    assert kinds == [
        (ODS.name, "history", 271),
        (ODS.name, "latest", 153),
        ("history_saved_as.xlsx", "history", 271),
    ]


def files() -> list[Path]:
    """The files the landing zone's door lets in for this source, as its asset loads them."""
    return decide().files_to_load(OFSTED_INSPECTIONS.landing_source)
