"""DfE's local-authority codes over time: which 3-digit old LA codes a council could report under.

Read from the reference seed `las.csv` (ONS/DfE lookup: code, name, date of operation and of
termination). An authority exists on a reference date when it was operating by then and not yet
terminated, so Cumbria (909, terminated 31 March 2023) cannot send a 2023 return, while its
successors Cumberland (942) and Westmorland and Furness (943) can. Joint reporting units such as
'940 / 941' are not codes a return is sent under: each return carries one member's code.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
from dataclasses import dataclass
from functools import cache

from orchestration.lib.paths import REFERENCE_SEEDS_DIR

LAS_SEED = REFERENCE_SEEDS_DIR / "las.csv"
REORGANISATIONS_SEED = REFERENCE_SEEDS_DIR / "la_reorganisations.csv"


Period = tuple[dt.date, dt.date | None]
"""First and last day of operation under one ONS code (None: still operating)."""


@dataclass(frozen=True)
class LocalAuthority:
    """One old LA code. Its ONS code may have changed (Barnsley, Northumberland) while it stays."""

    old_la_code: str
    name: str
    new_la_code: str
    """The latest ONS code."""
    periods: tuple[Period, ...]

    def exists_on(self, day: dt.date) -> bool:
        return any(start <= day and (end is None or day <= end) for start, end in self.periods)

    def describe(self) -> str:
        return f"{self.old_la_code} {self.name}"


def _date(text: str) -> dt.date | None:
    return dt.datetime.strptime(text, "%d/%m/%Y").date() if text else None


@cache
def local_authorities() -> tuple[LocalAuthority, ...]:
    """Every single authority in the seed (joint units left out), in code order."""
    rows: dict[str, list[dict[str, str]]] = {}
    with LAS_SEED.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["old_la_code"].isdigit():
                rows.setdefault(row["old_la_code"], []).append(row)
    authorities = []
    for code, versions in sorted(rows.items()):
        versions.sort(key=lambda row: _date(row["date_of_operation"]) or dt.date.min)
        latest = versions[-1]
        periods = tuple(
            (_date(row["date_of_operation"]) or dt.date.min, _date(row["date_of_termination"])) for row in versions
        )
        authorities.append(LocalAuthority(code, latest["la_name"], latest["new_la_code"], periods))
    return tuple(authorities)


def codes() -> list[str]:
    """Every 3-digit old LA code that has ever existed."""
    return [la.old_la_code for la in local_authorities()]


def lookup(old_la_code: str) -> LocalAuthority | None:
    return next((la for la in local_authorities() if la.old_la_code == old_la_code), None)


def in_existence(old_la_code: str, day: dt.date) -> bool:
    authority = lookup(old_la_code)
    return authority is not None and authority.exists_on(day)


def closest(text: str, day: dt.date, limit: int = 3) -> list[LocalAuthority]:
    """The authorities existing on `day` whose code or name is nearest to `text`, best first."""
    current = [la for la in local_authorities() if la.exists_on(day)]
    by_key = {la.old_la_code: la for la in current} | {la.name.lower(): la for la in current}
    matches = difflib.get_close_matches(text.strip().lower(), list(by_key), n=limit * 2, cutoff=0.3)
    chosen = list(dict.fromkeys(by_key[key] for key in matches))
    # A code that existed once points first to what replaced it, whatever the spelling distance.
    successors = [la for code in successor_codes(text.strip()) if (la := lookup(code)) and la.exists_on(day)]
    return list(dict.fromkeys(successors + chosen))[:limit]


@cache
def _reorganisations() -> tuple[tuple[str, str], ...]:
    with REORGANISATIONS_SEED.open(newline="", encoding="utf-8") as handle:
        return tuple((row["predecessor_old_la_code"], row["successor_old_la_code"]) for row in csv.DictReader(handle))


def successor_codes(old_la_code: str) -> list[str]:
    """The codes that replaced an authority in a reorganisation (none for one still operating)."""
    return [successor for predecessor, successor in _reorganisations() if predecessor == old_la_code]
