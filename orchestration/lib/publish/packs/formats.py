"""The pack formats: each one's name, what it gives, and the function that writes it.

`workforce extract --format` offers exactly these, and `write_pack` refuses any other. Adding a
format: a module in this package with a function `(pack, target) -> Path | list[Path]`, one entry
in PACK_FORMATS, and nothing else (tests/integration/test_packs.py runs every format).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestration.lib.publish.packs.model import Pack


@dataclass(frozen=True)
class PackFormat:
    name: str
    description: str
    writer: str
    """`module:function`, imported when used (openpyxl and matplotlib take a while to import)."""

    def write(self, pack: Pack, target: Path) -> list[Path]:
        """Write the pack to `target`; returns every file written."""
        module, function = self.writer.split(":")
        written = getattr(importlib.import_module(module), function)(pack, target)
        return written if isinstance(written, list) else [written]


PACK_FORMATS: dict[str, PackFormat] = {
    pack_format.name: pack_format
    for pack_format in (
        PackFormat(
            "xlsx",
            "Excel workbook: summary, comparison table, native line charts, their data, notes",
            "orchestration.lib.publish.packs.xlsx:write_xlsx",
        ),
        PackFormat(
            "html",
            "one self-contained HTML page (inline CSS and SVG), printable on A4 landscape",
            "orchestration.lib.publish.packs.html:write_html",
        ),
        PackFormat(
            "csv",
            "tidy CSV, one row per year, role and measure, with the notes in <name>_notes.csv",
            "orchestration.lib.publish.packs.csv:write_csv",
        ),
    )
}
DEFAULT_FORMAT = "xlsx"
