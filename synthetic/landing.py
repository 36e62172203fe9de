"""Putting returns into the landing zone without ever overwriting a file this generator did not write.

Each return gets a sidecar `csww_<year>.generated.json` recording the SHA-256 of the XML written. An
existing XML is ours only if its sidecar is there and its bytes still hash to the recorded value:
anything else (a council's real return, a hand-edited file) is left alone and reported. An
identical file of ours is not rewritten, so its modification time keeps meaning something. Files
are written to a temporary name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from orchestration.lib import landing

WRITTEN, UNCHANGED, NOT_OURS = "written", "unchanged", "not ours"


def return_path(out_dir: Path, unit: str, year: int) -> Path:
    return landing.return_path(unit, year, out_dir)


def sidecar_path(xml_path: Path) -> Path:
    return xml_path.with_suffix(landing.SIDECAR_SUFFIX)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _recorded_sha(sidecar: Path) -> str | None:
    try:
        recorded = json.loads(sidecar.read_text(encoding="utf-8")).get("xml_sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return recorded if isinstance(recorded, str) else None


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def sidecar_bytes(sidecar: dict[str, object]) -> bytes:
    return (json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def place_return(xml_path: Path, xml: bytes, sidecar: dict[str, object]) -> str:
    """Write the return and its sidecar unless the file there is not ours; says which happened.

    `sidecar` must already carry the XML's sha256 as `xml_sha256`.
    """
    side = sidecar_path(xml_path)
    side_bytes = sidecar_bytes(sidecar)
    if xml_path.exists():
        if _recorded_sha(side) != sha256(xml_path.read_bytes()):
            return NOT_OURS
        if sidecar["xml_sha256"] == _recorded_sha(side):
            if side.read_bytes() != side_bytes:
                _atomic_write(side, side_bytes)
            return UNCHANGED
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    # XML first: a crash between the two leaves a file whose sidecar disowns it, which is then
    # left alone rather than overwritten.
    _atomic_write(xml_path, xml)
    _atomic_write(side, side_bytes)
    return WRITTEN
