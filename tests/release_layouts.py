"""DfE release files in the layouts DfE has used, written from the real 2017-2024 file (no tests here).

`headline_measures_release` writes what the 2022 "headline measures" release looked like: rates
named with `_%`, agency counts named `agency_worker_...`, a UTF-8 byte-order mark, `:` for not
available, and each joint return's figures on its lead member's row with the other member on a row
of its own without figures (EES data guidance 2020-2021: Kingston and Richmond reported against
Kingston; Northamptonshire from 2021 against North Northamptonshire). `with_councils_as_x` writes
a release whose group totals hold councils that are published as `x` (DfE estimated them).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

CURRENT_RELEASE = (
    Path(__file__).resolve().parents[1] / "raw" / "dfe" / "csww_indicators" / "csww_indicators_2017_to_2024.csv"
)
IDENTIFIERS = ("time_period", "time_identifier", "geographic_level", "country_code", "country_name",
               "region_code", "region_name", "old_la_code", "new_la_code", "la_name")  # fmt: skip
HEADLINE_NAMES = {
    "turnover_rate_fte": "turnover_rate_fte_%",
    "turnover_rate_headcount": "turnover_rate_headcount_%",
    "agency_fte": "agency_worker_fte",
    "agency_headcount": "agency_worker_headcount",
    "agency_rate_fte": "agency_worker_rate_fte_%",
    "agency_rate_headcount": "agency_worker_rate_headcount_%",
    "agency_cover_rate_fte": "agency_cover_rate_fte_%",
    "vacancy_rate_fte": "vacancy_rate_fte_%",
    "vacancy_agency_cover_rate_fte": "vacancy_agency_cover_rate_fte_%",
    "absence_rate_fte": "absence_rate_fte_%",
}
"""The 2022 release's names for the columns it named differently."""
JOINT_MEMBERS = {
    "314 / 318": (("314", "E09000021", "Kingston upon Thames"), ("318", "E09000027", "Richmond upon Thames")),
    "940 / 941": (("940", "E06000061", "North Northamptonshire"), ("941", "E06000062", "West Northamptonshire")),
}


def current_rows() -> list[dict[str, str]]:
    with CURRENT_RELEASE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def measures(row: dict[str, str]) -> list[str]:
    return [name for name in row if name not in IDENTIFIERS]


def write_release(
    path: Path, rows: Iterable[dict[str, str]], names: Callable[[str], str] = str, bom: bool = False
) -> Path:
    rows = list(rows)
    columns = list(rows[0])
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([names(c) for c in columns])
        writer.writerows([row[c] for c in columns] for row in rows)
    return path


def split_joint_rows(row: dict[str, str]) -> list[dict[str, str]]:
    """A joint return's row as the older releases had it: figures on the lead's row, the other's not available."""
    if row["old_la_code"] not in JOINT_MEMBERS:
        return [row]
    (lead, lead_new, lead_name), (other, other_new, other_name) = JOINT_MEMBERS[row["old_la_code"]]
    blank = {name: ":" for name in measures(row)}
    return [
        {**row, "old_la_code": lead, "new_la_code": lead_new, "la_name": lead_name},
        {**row, **blank, "old_la_code": other, "new_la_code": other_new, "la_name": other_name},
    ]


def headline_measures_release(out: Path, last_year: int = 2022) -> Path:
    """The 2022 headline-measures layout, years 2017 to `last_year`, from the current release."""
    rows = []
    for row in current_rows():
        if int(row["time_period"]) <= last_year:
            older = {name: (":" if value == "x" else value) for name, value in row.items()}
            rows += split_joint_rows(older)
    return write_release(
        out / "csww_headline_measures_2017_to_2022.csv", rows, lambda c: HEADLINE_NAMES.get(c, c), bom=True
    )


def with_councils_as_x(out: Path, councils: dict[int, dict[str, tuple[str, ...]]]) -> Path:
    """The current release with some council values published as `x`, the group totals unchanged.

    `councils`: year -> old LA code -> the measures DfE did not publish for it (it estimated them
    for its totals).
    """
    rows = []
    for row in current_rows():
        hidden = councils.get(int(row["time_period"]), {}).get(row["old_la_code"], ())
        rows.append({name: ("x" if name in hidden else value) for name, value in row.items()})
    return write_release(out / "csww_indicators_2017_to_2024_estimated.csv", rows)
