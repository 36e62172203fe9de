"""Ofsted's local-authority inspection outcomes (ILACS), read through their column map.

Ofsted publishes them as a spreadsheet (ODS): a cover, notes and three tables. The files come as
that spreadsheet (ODS, or saved as XLSX) or as a CSV of one table; every table of inspection
outcomes in it is read, and what else it holds is named in `attrs["not_read"]` (the in-year sheet
lists visits as well as inspections, under other column names, so it is not a table of outcomes).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from orchestration.lib.sources.published_csv import TABLE_READERS, column_map, read_mapped_tables

FILE_TYPES = tuple(TABLE_READERS)
"""CSV, XLSX and ODS: Ofsted's own spreadsheet, as published or saved in another format, or one sheet as CSV."""
HISTORY, LATEST = "history", "latest"


def read_outcomes(path: Path) -> pd.DataFrame:
    """Every outcome row of the file; each table says whether it is the history or the latest judgements."""
    found = read_mapped_tables(path, column_map("ofsted_columns"), FILE_TYPES)
    frames = []
    for frame in found.tables.values():
        # The history table lists every inspection, with its type; the snapshot only each LA's latest.
        frames.append(frame.assign(file_kind=HISTORY if (frame["inspection_type"] != "").any() else LATEST))
    outcomes = pd.concat(frames, ignore_index=True)
    outcomes.attrs["not_read"] = found.not_read
    return outcomes
