"""Read DfE CSWW 'Indicators' release files into one standard set of columns.

Releases have renamed columns over the years (the 2022 release said `agency_worker_rate_fte_perc`
where the current one says `agency_rate_fte`). The mapping from every known release column to the
standard name lives in the dbt seed `dfe_release_columns.csv`, so the loader and the dbt docs read
the same table. A release with a column the mapping does not know is refused whole: loading the
columns we recognise and dropping the rest would publish a release half-right.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from orchestration.lib.paths import DBT_PROJECT_DIR

COLUMN_MAP_PATH = DBT_PROJECT_DIR / "seeds" / "reference" / "dfe_release_columns.csv"
SUPPRESSION_SYMBOLS = {
    "c": "suppressed to protect confidentiality",
    "x": "not available",
    "z": "not applicable",
    "u": "low reliability",
    "low": "rounds to zero",
}


class ReleaseRejected(ValueError):
    """A release file that cannot be loaded as it stands; the message says what to change."""


@dataclass(frozen=True)
class ColumnMap:
    standard_by_release: dict[str, str]
    identifiers: tuple[str, ...]
    measures: tuple[str, ...]
    required: tuple[str, ...]


@cache
def column_map() -> ColumnMap:
    with COLUMN_MAP_PATH.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    standard = {row["release_column"]: row["standard_column"] for row in rows}
    ordered = list(dict.fromkeys(row["standard_column"] for row in rows))
    roles = {row["standard_column"]: row["column_role"] for row in rows}
    return ColumnMap(
        standard_by_release=standard,
        identifiers=tuple(c for c in ordered if roles[c] == "identifier"),
        measures=tuple(c for c in ordered if roles[c] == "measure"),
        required=tuple(dict.fromkeys(r["standard_column"] for r in rows if r["required"] == "true")),
    )


def read_release(path: Path) -> pd.DataFrame:
    """Every row of one release, all values as text, columns renamed to the standard set.

    Measures absent from the release come back as empty (NA) columns so every release has the
    same shape. Raises ReleaseRejected naming the file and the offending columns.
    """
    mapping = column_map()
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReleaseRejected(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReleaseRejected(f"{path.name}: not a readable CSV file ({exc}).") from exc

    header = [c.strip() for c in frame.columns]
    unknown = [c for c in header if c not in mapping.standard_by_release]
    if unknown:
        raise ReleaseRejected(
            f"{path.name}: column(s) {', '.join(repr(c) for c in unknown)} are not in the known DfE release "
            f"layouts. Nothing from this file was loaded. If DfE renamed or added a measure, add a row to "
            f"{COLUMN_MAP_PATH.relative_to(DBT_PROJECT_DIR.parent)} saying which standard column it is."
        )
    renamed = [mapping.standard_by_release[c] for c in header]
    duplicated = sorted({c for c in renamed if renamed.count(c) > 1})
    if duplicated:
        raise ReleaseRejected(
            f"{path.name}: more than one column maps to {', '.join(duplicated)}; keep one of each."
        )
    frame.columns = renamed
    missing = [c for c in mapping.required if c not in frame.columns]
    if missing:
        raise ReleaseRejected(f"{path.name}: required column(s) missing: {', '.join(missing)}.")
    for column in mapping.identifiers + mapping.measures:
        if column not in frame.columns:
            frame[column] = pd.NA
    frame = frame[list(mapping.identifiers + mapping.measures)]
    return frame.apply(lambda col: col.str.strip() if col.dtype == object or col.dtype == "string" else col)


def release_files(directory: Path) -> list[Path]:
    """Release files in the landing zone, oldest name first (a later file supersedes earlier years)."""
    return sorted(directory.glob("*.csv"))


def latest_rows(directory: Path) -> pd.DataFrame:
    """One row per (time_period, area) across all releases: the newest release that carries it wins.

    Releases are ordered by the latest time_period they contain, then by file name, so a release
    that revises earlier years replaces what older releases said about them.
    """
    frames = []
    for path in release_files(directory):
        frame = read_release(path)
        frame["release_file"] = path.name
        frame["release_latest_year"] = pd.to_numeric(frame["time_period"], errors="coerce").max()
        frames.append(frame)
    if not frames:
        raise ReleaseRejected(f"No DfE release files (*.csv) in {directory}.")
    combined = pd.concat(frames, ignore_index=True).sort_values(["release_latest_year", "release_file"])
    keys = ["time_period", "geographic_level", "region_code", "old_la_code"]
    return combined.drop_duplicates(keys, keep="last").reset_index(drop=True)


def as_number(value: object) -> float | None:
    """A published cell as a number, or None for a suppression symbol or blank."""
    if value is None or value is pd.NA:
        return None
    text = str(value).strip()
    if text == "" or text in SUPPRESSION_SYMBOLS:
        return None
    return float(text)
