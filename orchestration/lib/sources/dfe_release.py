"""DfE CSWW 'Indicators' release files: read them, and pick the newest figure for each year and area.

A release's column names are mapped to the standard EES names by the seed
`dfe_release_columns.csv` (the 2022 release said `agency_worker_rate_fte_perc` where the current one
says `agency_rate_fte`); see `published_csv`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from orchestration.lib import landing, measures
from orchestration.lib.sources.published_csv import ColumnMap, FileRejected, column_map, read_mapped_csv

AREA_KEY = ["time_period", "geographic_level", "region_code", "old_la_code"]


def release_columns() -> ColumnMap:
    return column_map("dfe_release_columns")


def read_release(path: Path) -> pd.DataFrame:
    """Every row of one release as text with the standard columns; raises FileRejected."""
    return read_mapped_csv(path, release_columns())


def release_files(directory: Path) -> list[Path]:
    """The release files in `directory` that the landing zone's door would load."""
    return landing.source_files(landing.DFE_INDICATORS, directory)


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
