"""Read a published statistics file (DfE, Ofsted) into one standard set of columns.

Publishers rename columns between releases. Each source has a column map, a dbt seed with one row
per column name ever seen (`release_column`) and the standard name it means (`standard_column`),
so the loader and the dbt documentation read the same table. A file with a column its map does
not know is refused whole: loading the recognised columns and dropping the rest would publish a
release half-right.

Files come as CSV, or as a spreadsheet (`.xlsx` read with openpyxl, `.ods` with odfpy through
pandas), whichever `TABLE_READERS` lists: each source says which of them it takes. In a
spreadsheet every sheet holding a table of the source is read (its header is the first row that
names every required column, as Ofsted's title rows come first); the other sheets (a cover, notes,
a table of something else) are named in the result's `not_read`, with the reason, never skipped
silently. A spreadsheet with no such table is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from orchestration.lib.paths import PROJECT_ROOT, REFERENCE_SEEDS_DIR

HEADER_SEARCH_ROWS = 20
"""A spreadsheet's table header is looked for in its first rows (Ofsted's is on the third)."""


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

    @property
    def seed(self) -> str:
        return str(self.seed_path.relative_to(PROJECT_ROOT))

    def names_of(self, standard: str) -> list[str]:
        """Every name a release has used for a standard column."""
        return [name for name, meant in self.standard_by_release.items() if meant == standard]


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


@dataclass
class MappedTables:
    """The tables of one file in the standard columns: one for a CSV, one per table sheet of a spreadsheet."""

    tables: dict[str | None, pd.DataFrame]
    """By sheet name (None for a CSV)."""
    not_read: list[str] = field(default_factory=list)
    """Each sheet of a spreadsheet that holds no table of the source, with why."""


# -- reading the raw grid ------------------------------------------------------------------------------


def _csv_table(path: Path) -> dict[str | None, pd.DataFrame]:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FileRejected(f"{path.name}: not a readable CSV file ({exc}).") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return {None: frame}


def _sheets(path: Path, engine: str) -> dict[str, pd.DataFrame]:
    try:
        return pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine=engine)
    except Exception as exc:  # openpyxl and odfpy raise many kinds for a damaged or mislabelled file
        kind = path.suffix.lstrip(".").upper()
        raise FileRejected(f"{path.name}: not a readable {kind} spreadsheet ({type(exc).__name__}: {exc}).") from exc


def _xlsx_tables(path: Path) -> dict[str | None, pd.DataFrame]:
    return dict(_sheets(path, "openpyxl"))


def _ods_tables(path: Path) -> dict[str | None, pd.DataFrame]:
    return dict(_sheets(path, "odf"))


TABLE_READERS: dict[str, Callable[[Path], dict[str | None, pd.DataFrame]]] = {
    ".csv": _csv_table,
    ".xlsx": _xlsx_tables,
    ".ods": _ods_tables,
}
"""Every file type a published source can come in, by suffix, and how its tables are read."""
SPREADSHEETS = (".xlsx", ".ods")


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV of it would hold: dates as YYYY-MM-DD, 12.0 as 12."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet_table(grid: pd.DataFrame, mapping: ColumnMap) -> tuple[pd.DataFrame | None, str]:
    """The sheet's table of the source (header found among its first rows), or None and why not."""
    wanted = {standard: set(mapping.names_of(standard)) for standard in mapping.required}
    rows = [[_cell_text(value) for value in row] for row in grid.head(HEADER_SEARCH_ROWS).itertuples(index=False)]
    for number, cells in enumerate(rows):
        if all(names & set(cells) for names in wanted.values()):
            width = max(i for i, cell in enumerate(cells) if cell) + 1
            body = [[_cell_text(v) for v in row[:width]] for row in grid.iloc[number + 1 :].itertuples(index=False)]
            frame = pd.DataFrame([row for row in body if any(row)], columns=cells[:width], dtype=str)
            return frame, ""
    if not any(any(cells) for cells in rows):
        return None, "empty"
    seen = {cell for cells in rows for cell in cells}
    missing = [mapping.names_of(standard)[0] for standard, names in wanted.items() if not names & seen]
    return None, f"no table with the column(s) {', '.join(repr(m) for m in missing)}"


# -- mapping to the standard columns ------------------------------------------------------------------


def _mapped(frame: pd.DataFrame, mapping: ColumnMap, where: str) -> pd.DataFrame:
    header = [str(c).strip() for c in frame.columns]
    unknown = [c for c in header if c not in mapping.standard_by_release]
    if unknown:
        raise FileRejected(
            f"{where}: column(s) {', '.join(repr(c) for c in unknown)} are not in any known layout of "
            f"this publication, so nothing from this file was loaded. If the publisher renamed or added a "
            f"column, add a row to {mapping.seed} saying which standard column it is."
        )
    renamed = [mapping.standard_by_release[c] for c in header]
    duplicated = sorted({c for c in renamed if renamed.count(c) > 1})
    if duplicated:
        raise FileRejected(f"{where}: more than one column means {', '.join(duplicated)}; keep one of each.")
    frame = frame.set_axis(renamed, axis=1)
    missing = [c for c in mapping.required if c not in frame.columns]
    if missing:
        names = "; ".join(f"{c} (named {' or '.join(repr(n) for n in mapping.names_of(c))})" for c in missing)
        raise FileRejected(f"{where}: required column(s) missing: {names}. Nothing from this file was loaded.")
    for column in mapping.columns:
        if column not in frame.columns:
            frame[column] = ""
    return frame[list(mapping.columns)].apply(lambda column: column.astype(str).str.strip())


def read_mapped_tables(path: Path, mapping: ColumnMap, file_types: tuple[str, ...]) -> MappedTables:
    """Every table of the file in the standard columns, in their order; raises FileRejected saying why not.

    Standard columns a table lacks come back empty, so every file of a source has one shape.
    """
    suffix = path.suffix.lower()
    if suffix not in file_types:
        kinds = ", ".join(t.lstrip(".").upper() for t in file_types)
        raise FileRejected(f"{path.name}: a {suffix or 'typeless'} file; this source is read from {kinds} files.")
    tables = TABLE_READERS[suffix](path)
    if suffix not in SPREADSHEETS:
        return MappedTables({name: _mapped(frame, mapping, path.name) for name, frame in tables.items()})
    found = MappedTables({})
    for name, grid in tables.items():
        table, why = _sheet_table(grid, mapping)
        if table is None:
            found.not_read.append(f"{name} ({why})")
        else:
            found.tables[name] = _mapped(table, mapping, f"{path.name}, sheet {name}")
    if not found.tables:
        raise FileRejected(
            f"{path.name}: no sheet holds a table of this publication, so nothing was loaded. Sheets: "
            f"{'; '.join(found.not_read)}. The known column names are in {mapping.seed}."
        )
    return found


def read_mapped_csv(path: Path, mapping: ColumnMap) -> pd.DataFrame:
    """Every row of a CSV file as text, columns renamed to the standard set and in its order."""
    return read_mapped_tables(path, mapping, (".csv",)).tables[None]
