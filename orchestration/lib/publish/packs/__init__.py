"""Peer-comparison packs: one council's workforce against its neighbours, region and England.

`content` reads the published tables into one model (`model.Pack`); each format in `formats`
(`xlsx`, `html`, `csv`) renders it. Nothing here reads the working warehouse or raw data.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.lib import paths
from orchestration.lib.publish.packs.formats import DEFAULT_FORMAT, PACK_FORMATS
from orchestration.lib.publish.packs.lookup import PackError

if TYPE_CHECKING:  # `workforce --help` imports this package and must stay instant
    from orchestration.lib.publish.packs.source import ViewOpener

__all__ = ["DEFAULT_FORMAT", "PACK_FORMATS", "PackError", "default_path", "write_pack"]


def packs_dir() -> Path:
    return paths.data_dir() / "packs"


def default_path(code: str, year: int, fmt: str) -> Path:
    """data/packs/<code>_<year>.<ext>; a joint code '940 / 941' becomes '940-941'."""
    safe = re.sub(r"\s*/\s*", "-", code)
    return packs_dir() / f"{safe}_{year}.{fmt}"


def write_pack(asked: str, year: int | None, fmt: str, views: ViewOpener, out: Path | None = None) -> list[Path]:
    """Build the pack from the published version `views` opens (source.py) and write it; returns
    the files written (the CSV has a notes file beside it)."""
    from orchestration.lib.publish.packs import content

    if fmt not in PACK_FORMATS:
        raise PackError(f"Unknown format '{fmt}': choose one of {', '.join(PACK_FORMATS)}.")
    pack = content.build_pack(asked, year, views)
    target = out or default_path(pack.unit.code, pack.year, fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    return PACK_FORMATS[fmt].write(pack, target)
