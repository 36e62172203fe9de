"""DfE CSWW 'Indicators' release files: read them, and pick the newest figure for each year and area.

Every layout DfE has used since 2017 is read into the current one, or refused with a message naming
what is wrong; both the loader and `workforce generate` read releases here:

- Column names are mapped to the standard EES names by the seed `dfe_release_columns.csv` (the
  2022 "headline measures" release said `agency_worker_rate_fte_%` where the current one says
  `agency_rate_fte`); see `published_csv`.
- Older symbols are translated to today's by the seed `dfe_release_symbols.csv` (to 2021 DfE wrote
  `:` where it now writes `x`, not available).
- A joint return's figures are on one row, "314 / 318" (Kingston upon Thames and Richmond upon
  Thames), as in the current release; older releases put them on one member's row and gave the
  other member a row of its own without figures. Such member rows are folded into the joint unit
  (the seed `reporting_units.csv`), with the unit's codes and name from `las.csv`; a file where two
  members of one unit both carry figures is refused, since which of them is the unit's is unknown.
- Every measure cell must be a number, blank or one of DfE's symbols (the registry's
  `vars: dfe_symbols:`), and every row must say its year.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from orchestration.lib import measures
from orchestration.lib.paths import REFERENCE_SEEDS_DIR
from orchestration.lib.sources.published_csv import ColumnMap, FileRejected, column_map, read_mapped_tables

AREA_KEY = ["time_period", "geographic_level", "region_code", "old_la_code"]
FILE_TYPES = (".csv",)
"""DfE publishes its releases as CSV."""
LOCAL_AUTHORITY = "Local authority"
YEAR = re.compile(r"^\d{4}$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
MAX_LISTED = 5


def release_columns() -> ColumnMap:
    return column_map("dfe_release_columns")


def _seed(name: str) -> list[dict[str, str]]:
    with (REFERENCE_SEEDS_DIR / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def older_symbols() -> dict[str, str]:
    """Symbols of earlier releases and today's symbol for each (`:` was `x`)."""
    return {row["release_symbol"]: row["standard_symbol"] for row in _seed("dfe_release_symbols")}


@dataclass(frozen=True)
class JointUnit:
    code: str
    members: tuple[str, ...]
    """Lead first."""
    first_year: int
    last_year: int | None
    new_la_code: str
    la_name: str

    def in_year(self, year: int) -> bool:
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)


@cache
def joint_units() -> tuple[JointUnit, ...]:
    names = {row["old_la_code"]: (row["new_la_code"], row["la_name"]) for row in _seed("las")}
    rows: dict[str, list[dict[str, str]]] = {}
    for row in _seed("reporting_units"):
        rows.setdefault(row["reporting_unit_code"], []).append(row)
    units = []
    for code, members in rows.items():
        lead = members[0]["lead_old_la_code"]
        last = members[0]["last_year"]
        units.append(
            JointUnit(
                code=code,
                members=tuple(sorted((r["member_old_la_code"] for r in members), key=lambda m: m != lead)),
                first_year=int(members[0]["first_year"]),
                last_year=int(last) if last else None,
                new_la_code=names[code][0],
                la_name=names[code][1],
            )
        )
    return tuple(units)


def _has_figures(row: pd.Series, columns: tuple[str, ...]) -> bool:
    return any(as_number(row[c]) is not None for c in columns)


def _fold_joint_members(frame: pd.DataFrame, file_name: str) -> pd.DataFrame:
    """Member rows of a joint return folded into the joint unit's one row (see the module's docstring)."""
    figures = release_columns().measures
    dropped: list[int] = []
    for unit in joint_units():
        at_la = frame["geographic_level"] == LOCAL_AUTHORITY
        for year in sorted(frame.loc[at_la, "time_period"].unique()):
            if not unit.in_year(int(year)):
                continue
            here = at_la & (frame["time_period"] == year)
            members = frame.index[here & frame["old_la_code"].isin(unit.members)].tolist()
            if not members:
                continue
            carrying = [i for i in members if _has_figures(frame.loc[i], figures)]
            joint = frame.index[here & (frame["old_la_code"] == unit.code)].tolist()
            if len(carrying) > 1 or (joint and carrying):
                named = ", ".join(f"{frame.at[i, 'la_name']} ({frame.at[i, 'old_la_code']})" for i in carrying)
                raise FileRejected(
                    f"{file_name}: {year} has figures for {named}{' and for ' + unit.code if joint else ''}, but "
                    f"they make one joint return, {unit.code} ({unit.la_name}): DfE publishes its figures once. "
                    "Nothing from this file was loaded; check which row is the joint return's."
                )
            if joint:
                dropped += members
                continue
            by_lead = sorted(members, key=lambda i: unit.members.index(frame.at[i, "old_la_code"]))
            keep = carrying[0] if carrying else by_lead[0]
            frame.loc[keep, ["old_la_code", "new_la_code", "la_name"]] = [unit.code, unit.new_la_code, unit.la_name]
            dropped += [i for i in members if i != keep]
    return frame.drop(index=dropped).reset_index(drop=True)


def _checked(frame: pd.DataFrame, file_name: str) -> pd.DataFrame:
    """Older symbols translated; every year a year and every measure cell a number, blank or a symbol."""
    columns = release_columns().measures
    frame[list(columns)] = frame[list(columns)].replace(older_symbols())
    bad_years = [i for i, year in frame["time_period"].items() if not YEAR.match(year)]
    if bad_years:
        rows = ", ".join(f"line {i + 2} ({frame.at[i, 'time_period']!r})" for i in bad_years[:MAX_LISTED])
        raise FileRejected(f"{file_name}: time_period must be a year (e.g. 2024): {rows}. Nothing was loaded.")
    bad = [
        f"line {i + 2}, {column} = {value!r}"
        for column in columns
        for i, value in frame[column].items()
        if value != "" and value not in measures.dfe_symbols() and not NUMBER.match(value)
    ]
    if bad:
        symbols = ", ".join(measures.dfe_symbols())
        more = f" and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
        raise FileRejected(
            f"{file_name}: a published value must be a number, blank or one of DfE's symbols ({symbols}): "
            f"{'; '.join(bad[:MAX_LISTED])}{more}. Nothing from this file was loaded."
        )
    return frame


def read_release(path: Path) -> pd.DataFrame:
    """Every row of one release as text in today's layout (see the module's docstring); raises FileRejected."""
    frame = read_mapped_tables(path, release_columns(), FILE_TYPES).tables[None]
    return _fold_joint_members(_checked(frame, path.name), path.name)


def release_files(directory: Path) -> list[Path]:
    """The release files in `directory` that the landing zone's door would load."""
    # Imported here: the landing zone reads this module's FILE_TYPES.
    from orchestration.lib import landing

    return landing.source_files(landing.DFE_INDICATORS, directory)


def latest_rows(directory: Path) -> pd.DataFrame:
    """One row per (time_period, area) across all releases: the newest release that carries it wins.

    Releases are ordered by the latest time_period they contain, then by file name, so a release
    that revises earlier years replaces what older releases said about them.
    """
    frames = []
    for path in release_files(directory) if directory.is_dir() else []:
        frame = read_release(path)
        frame["release_file"] = path.name
        frame["release_latest_year"] = pd.to_numeric(frame["time_period"]).max()
        frames.append(frame)
    if not frames:
        raise FileRejected(f"No DfE release files (*.csv) in {directory}.")
    combined = pd.concat(frames, ignore_index=True).sort_values(["release_latest_year", "release_file"])
    return combined.drop_duplicates(AREA_KEY, keep="last").reset_index(drop=True)


def as_number(value: object) -> float | None:
    """A published cell as a number, or None for one of DfE's symbols (the measure registry's) or blank."""
    if value is None or value is pd.NA:
        return None
    text = str(value).strip()
    if text == "" or text in measures.dfe_symbols():
        return None
    return float(text)
