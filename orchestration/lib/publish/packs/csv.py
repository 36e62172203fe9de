"""The pack as tidy CSV: the figures, each listed neighbour's value and the all-council ranking,
one row per observation, and the notes in a file beside them.

Each file has a plain header and nothing else, so any tool reads it. A withheld value is an empty
`value` with its symbol in `symbol` and the reason in `symbol_meaning`; a flag beside a shown
value (DfE's u, a small base) is in `flag` and `flag_meaning`; `is_synthetic` says, row by row,
whether a figure comes from synthetic returns. Numbers are written to the measure's published
decimals. `<name>_neighbours.csv` holds each listed neighbour's value, `<name>_ranking.csv` every
ranked council's; the notes file (`<name>_notes.csv`: section, term, note) carries what the other
formats print around the figures: the synthetic-data warning, the pack's identity, the Ofsted
judgements, the flags, the returns used, sources and definitions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from orchestration.lib.publish.packs.format import is_missing
from orchestration.lib.publish.packs.model import FIGURE_COLUMNS, NEIGHBOUR_COLUMNS, RANKING_COLUMNS, Pack
from orchestration.lib.publish.packs.notes import ofsted_lines

# Written with the measure's decimals; the other numeric columns are whole numbers.
MEASURED_COLUMNS = (
    "value",
    "recomputed_value",
    "difference",
    "change_from_previous_year",
    "sn_mean_value",
    "sn_median_value",
)
WHOLE_COLUMNS = ("time_period", "rank", "ranked_units", "sn_neighbour_count", "sn_model", "neighbour_rank")
NOTES_COLUMNS = ("section", "term", "note")


def notes_path(target: Path) -> Path:
    return target.with_name(f"{target.stem}_notes.csv")


def neighbours_path(target: Path) -> Path:
    return target.with_name(f"{target.stem}_neighbours.csv")


def ranking_path(target: Path) -> Path:
    return target.with_name(f"{target.stem}_ranking.csv")


def write_csv(pack: Pack, target: Path) -> list[Path]:
    _write_table(target, pack.figures, FIGURE_COLUMNS, pack)
    _write_table(neighbours_path(target), pack.neighbours_table, NEIGHBOUR_COLUMNS, pack)
    _write_table(ranking_path(target), pack.ranking, RANKING_COLUMNS, pack)
    notes = notes_path(target)
    with notes.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(NOTES_COLUMNS)
        writer.writerows(note_rows(pack))
    return [target, neighbours_path(target), ranking_path(target), notes]


def _write_table(path: Path, frame: pd.DataFrame, columns: tuple[str, ...], pack: Pack) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for record in frame.to_dict("records"):
            decimals = pack.measures[record["measure"]].decimals
            writer.writerow(_cell(column, record[column], decimals) for column in columns)


def _cell(column: str, value: object, decimals: int) -> str:
    if is_missing(value):
        return ""
    if column in MEASURED_COLUMNS:
        return f"{value:.{decimals}f}"
    if column in WHOLE_COLUMNS:
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def note_rows(pack: Pack) -> list[tuple[str, str, str]]:
    identity = [
        ("Pack", "council", pack.unit.name),
        ("Pack", "old_la_code", pack.unit.code),
        ("Pack", "asked_for", pack.asked_for.label),
        ("Pack", "region", pack.region_name),
        ("Pack", "year", str(pack.year)),
        ("Pack", "previous_year", str(pack.previous_year or "")),
        ("Pack", "trend_years", " ".join(str(year) for year in pack.trend_years)),
        ("Pack", "published_version", pack.published_version or ""),
        ("Pack", "synthetic_demonstration_data", "true" if pack.is_synthetic else "false"),
    ]
    ofsted = [("Ofsted", label, text) for label, text in ofsted_lines(pack)]
    return identity + ofsted + [(note.section, note.term, note.text) for note in pack.notes]
