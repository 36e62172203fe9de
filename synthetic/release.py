"""What DfE published, arranged by reporting unit and year, with the identity rules of the reference seeds.

A reporting unit is what makes one return: an LA, or a joint return such as Kingston and Richmond
("314 / 318"), which is keyed by its lead code. Reorganisations say whose people a new unit
inherits. Both come from the dbt seeds, so the generator and the warehouse agree on them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from orchestration.lib import paths
from orchestration.lib.sources import dfe_release
from synthetic.measures import COUNTS, RATES

LOCAL_AUTHORITY, REGIONAL, NATIONAL = "Local authority", "Regional", "National"
MEASURES = COUNTS + tuple(RATES)


def _seed_path(name: str) -> Path:
    return paths.REFERENCE_SEEDS_DIR / f"{name}.csv"


def _read_seed(name: str) -> list[dict[str, str]]:
    with _seed_path(name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class PublishedRow:
    """One LA-year as published: every measure as the text of its cell."""

    unit: str
    year: int
    la_name: str
    area_code: str
    group: str
    text: dict[str, str]
    release_file: str

    def number(self, measure: str) -> float | None:
        return dfe_release.as_number(self.text.get(measure))


@dataclass(frozen=True)
class Release:
    rows: dict[tuple[str, int], PublishedRow]
    group_totals: dict[tuple[str, int], dict[str, str]]
    england: dict[int, dict[str, str]]
    years: tuple[int, ...]
    unit_of_code: dict[str, str]
    successors: dict[tuple[str, int], tuple[str, ...]]
    """(predecessor unit, first year of its successors) -> successor units."""
    region_of_sub_region: dict[str, str]
    """DfE files London's LAs under Inner or Outer London; both make up London (E12000007)."""
    region_names: dict[str, str]
    """Region and London sub-region names by code, as the releases give them."""
    without_figures: tuple[tuple[str, int], ...] = ()
    """LA-years whose row has no figure at all (every cell a symbol): nothing to make a return from."""

    def units(self, year: int) -> list[str]:
        return sorted(unit for unit, row_year in self.rows if row_year == year)

    def unit_years(self, unit: str) -> list[int]:
        return sorted(year for row_unit, year in self.rows if row_unit == unit)


def _cell_texts(record: dict[str, object]) -> dict[str, str]:
    return {m: "" if pd.isna(record.get(m)) else str(record[m]).strip() for m in MEASURES}


def _joint_unit_leads() -> tuple[dict[str, str], dict[str, tuple[str, int, int | None]]]:
    """Area code -> lead code for joint returns, and member code -> (lead, first, last year)."""
    by_area, by_member = {}, {}
    for row in _read_seed("reporting_units"):
        by_area[row["reporting_unit_code"]] = row["lead_old_la_code"]
        last = int(row["last_year"]) if row["last_year"] else None
        by_member[row["member_old_la_code"]] = (row["lead_old_la_code"], int(row["first_year"]), last)
    return by_area, by_member


def _unit_in_year(code: str, year: int, by_member: dict[str, tuple[str, int, int | None]]) -> str:
    if code not in by_member:
        return code
    lead, first, last = by_member[code]
    return lead if first <= year and (last is None or year <= last) else code


def _successors(by_member: dict[str, tuple[str, int, int | None]]) -> dict[tuple[str, int], tuple[str, ...]]:
    found: dict[tuple[str, int], list[str]] = {}
    for row in _read_seed("la_reorganisations"):
        year = int(row["first_year_of_successor"])
        predecessor = _unit_in_year(row["predecessor_old_la_code"], year - 1, by_member)
        successor = _unit_in_year(row["successor_old_la_code"], year, by_member)
        units = found.setdefault((predecessor, year), [])
        if successor not in units:
            units.append(successor)
    return {key: tuple(units) for key, units in found.items()}


def _region_of_sub_region() -> dict[str, str]:
    region_of_la = {row["old_la_code"]: row["parent_geography_code"] for row in _read_seed("las")}
    return {row["sub_region_code"]: region_of_la[row["old_la_code"]] for row in _read_seed("london_sub_regions")}


def load_release(directory: Path) -> Release:
    """The newest published figure for every area and year in the landing zone's DfE releases."""
    frame = dfe_release.latest_rows(directory)
    by_area, by_member = _joint_unit_leads()
    rows: dict[tuple[str, int], PublishedRow] = {}
    group_totals: dict[tuple[str, int], dict[str, str]] = {}
    england: dict[int, dict[str, str]] = {}
    unit_of_code: dict[str, str] = {}
    region_names: dict[str, str] = {}
    without_figures: list[tuple[str, int]] = []
    for record in frame.to_dict("records"):
        year = int(record["time_period"])
        level = record["geographic_level"]
        if level == REGIONAL:
            group_totals[(record["region_code"], year)] = _cell_texts(record)
            region_names[record["region_code"]] = str(record["region_name"])
        elif level == NATIONAL:
            england[year] = _cell_texts(record)
        elif level == LOCAL_AUTHORITY:
            area = str(record["old_la_code"]).strip()
            unit = by_area.get(area, area)
            for code in [area, *(c.strip() for c in area.split("/"))]:
                unit_of_code[code] = unit
            texts = _cell_texts(record)
            if all(dfe_release.as_number(text) is None for text in texts.values()):
                without_figures.append((unit, year))
                continue
            rows[(unit, year)] = PublishedRow(
                unit=unit,
                year=year,
                la_name=str(record["la_name"]),
                area_code=area,
                group=str(record["region_code"]),
                text=texts,
                release_file=str(record["release_file"]),
            )
    return Release(
        rows=rows,
        group_totals=group_totals,
        england=england,
        years=tuple(sorted({year for _, year in rows})),
        unit_of_code=unit_of_code,
        successors=_successors(by_member),
        region_of_sub_region=_region_of_sub_region(),
        region_names=region_names,
        without_figures=tuple(sorted(without_figures)),
    )
