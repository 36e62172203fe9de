"""Read a published statistics CSV (DfE, Ofsted) into one standard set of columns.

Publishers rename columns between releases. Each source has a column map, a dbt seed with one row
per column name ever seen (`release_column`) and the standard name it means (`standard_column`),
so the loader and the dbt documentation read the same table. A file with a column its map does
not know is refused whole: loading the recognised columns and dropping the rest would publish a
release half-right.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from orchestration.lib.paths import PROJECT_ROOT, REFERENCE_SEEDS_DIR


class FileRejected(ValueError):
    """A file that cannot be loaded as it stands; the message says what to change."""


@dataclass(frozen=True)
class ColumnMap:
    seed_path: Path
    standard_by_release: dict[str, str]
    identifiers: tuple[str, ...]
    measures: tuple[str, ...]
    required: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.identifiers + self.measures


@cache
def column_map(seed_name: str) -> ColumnMap:
    seed_path = REFERENCE_SEEDS_DIR / f"{seed_name}.csv"
    with seed_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ordered = list(dict.fromkeys(row["standard_column"] for row in rows))
    roles = {row["standard_column"]: row["column_role"] for row in rows}
    return ColumnMap(
        seed_path=seed_path,
        standard_by_release={row["release_column"]: row["standard_column"] for row in rows},
        identifiers=tuple(c for c in ordered if roles[c] == "identifier"),
        measures=tuple(c for c in ordered if roles[c] == "measure"),
        required=tuple(dict.fromkeys(r["standard_column"] for r in rows if r["required"] == "true")),
    )


def read_mapped_csv(path: Path, mapping: ColumnMap) -> pd.DataFrame:
    """Every row of the file as text, columns renamed to the standard set and in its order.

    Standard columns the file lacks come back empty, so every file of a source has one shape.
    Raises FileRejected naming the file and what is wrong with it.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FileRejected(f"{path.name}: not a readable CSV file ({exc}).") from exc

    header = [str(c).strip() for c in frame.columns]
    unknown = [c for c in header if c not in mapping.standard_by_release]
    if unknown:
        raise FileRejected(
            f"{path.name}: column(s) {', '.join(repr(c) for c in unknown)} are not in any known layout of "
            f"this publication, so nothing from this file was loaded. If the publisher renamed or added a "
            f"column, add a row to {mapping.seed_path.relative_to(PROJECT_ROOT)} saying which standard "
            "column it is."
        )
    renamed = [mapping.standard_by_release[c] for c in header]
    duplicated = sorted({c for c in renamed if renamed.count(c) > 1})
    if duplicated:
        raise FileRejected(f"{path.name}: more than one column means {', '.join(duplicated)}; keep one of each.")
    frame.columns = renamed
    missing = [c for c in mapping.required if c not in frame.columns]
    if missing:
        raise FileRejected(f"{path.name}: required column(s) missing: {', '.join(missing)}.")
    for column in mapping.columns:
        if column not in frame.columns:
            frame[column] = ""
    return frame[list(mapping.columns)].apply(lambda column: column.str.strip())
