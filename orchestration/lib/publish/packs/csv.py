"""The pack as tidy CSV: one row per year, role and measure, and the notes in a file beside it.

The figures file has a plain header and nothing else, so any tool reads it. A withheld value is
an empty `value` with its symbol in `symbol` and the reason in `symbol_meaning`. Numbers are
written to the measure's published decimals. The notes file (`<name>_notes.csv`: section, term,
note) carries what the other formats print around the figures: the pack's identity, the Ofsted
judgements, the flags, sources and definitions.
"""

from __future__ import annotations

import csv
from pathlib import Path

from orchestration.lib.publish.packs.format import is_missing
from orchestration.lib.publish.packs.model import FIGURE_COLUMNS, Pack
from orchestration.lib.publish.packs.notes import ofsted_lines

# Written with the measure's decimals; the other numeric columns are whole numbers.
MEASURED_COLUMNS = ("value", "change_from_previous_year", "sn_mean_value", "sn_median_value")
WHOLE_COLUMNS = ("time_period", "rank", "ranked_units", "sn_neighbour_count", "sn_model")
NOTES_COLUMNS = ("section", "term", "note")


def notes_path(target: Path) -> Path:
    return target.with_name(f"{target.stem}_notes.csv")


def write_csv(pack: Pack, target: Path) -> list[Path]:
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FIGURE_COLUMNS)
        for record in pack.figures.to_dict("records"):
            decimals = pack.measures[record["measure"]].decimals
            writer.writerow(_cell(column, record[column], decimals) for column in FIGURE_COLUMNS)
    notes = notes_path(target)
    with notes.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(NOTES_COLUMNS)
        writer.writerows(note_rows(pack))
    return [target, notes]


def _cell(column: str, value: object, decimals: int) -> str:
    if is_missing(value):
        return ""
    if column in MEASURED_COLUMNS:
        return f"{value:.{decimals}f}"
    if column in WHOLE_COLUMNS:
        return str(int(value))
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
    ]
    ofsted = [("Ofsted", label, text) for label, text in ofsted_lines(pack)]
    return identity + ofsted + [(note.section, note.term, note.text) for note in pack.notes]
