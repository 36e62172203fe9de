"""Ofsted's local-authority inspection outcomes (ILACS), read through their column map."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from orchestration.lib.sources.published_csv import column_map, read_mapped_csv


def read_outcomes(path: Path) -> pd.DataFrame:
    frame = read_mapped_csv(path, column_map("ofsted_columns"))
    # The history sheet lists every inspection; the snapshot sheet only each LA's latest judgement.
    frame["file_kind"] = "history" if (frame["inspection_type"] != "").any() else "latest"
    return frame
