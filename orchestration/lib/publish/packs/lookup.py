"""Which reporting unit and year a pack is for, from what a person types.

People ask for a council by its 3-digit DfE code, its ONS code or its name. A council that makes
a joint return (Kingston and Richmond, North and West Northamptonshire) has no figures of its
own, so asking for either member gives the joint unit's pack. Anything that does not match
exactly fails with the closest names, never a guess.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `workforce --help` imports this package and must stay instant
    from orchestration.lib.publish.packs.source import PublishedView

SUGGESTIONS = 6


class PackError(Exception):
    """A request the published tables cannot answer; `exit_code` is what the CLI returns."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Council:
    """One row of dim_local_authorities, the columns a pack uses."""

    code: str
    name: str
    new_la_code: str
    status: str
    region_name: str
    is_joint: bool
    members: tuple[str, ...]
    joint_units: tuple[str, ...]
    predecessors: tuple[str, ...]
    successors: tuple[str, ...]
    neighbours: dict[int, tuple[str, ...]]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class Request:
    """The unit a pack is about and, when different, the council the person asked for."""

    unit: Council
    asked_for: Council


def councils(view: PublishedView) -> dict[str, Council]:
    rows = view.execute(
        """
        select old_la_code, la_name, new_la_code, la_status, region_name,
            is_joint_reporting_unit, member_old_la_codes, joint_reporting_unit_codes,
            predecessor_old_la_codes, successor_old_la_codes,
            statistical_neighbours_2021, statistical_neighbours_2025
        from dim_local_authorities
        order by old_la_code
        """
    ).fetchall()
    found = {}
    for row in rows:
        found[row[0]] = Council(
            code=row[0],
            name=row[1],
            new_la_code=row[2],
            status=row[3],
            region_name=row[4],
            is_joint=row[5],
            members=tuple(row[6]),
            joint_units=tuple(row[7]),
            predecessors=tuple(row[8]),
            successors=tuple(row[9]),
            neighbours={2021: tuple(row[10]), 2025: tuple(row[11])},
        )
    return found


def _normalise(text: str) -> str:
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"[^0-9a-z/]+", " ", text)
    return " ".join(text.split())


def _code_key(text: str) -> str:
    # '940/941', '940 / 941' and ' 940 ' all name the same code.
    return re.sub(r"\s*/\s*", " / ", text.strip())


def resolve(every: dict[str, Council], asked: str) -> Request:
    """The reporting unit for `asked`; PackError (exit 2) naming the closest councils otherwise."""
    key = _code_key(asked)
    match = every.get(key) or _by_ons_code(every, key) or _by_name(every, asked)
    if match is None:
        raise PackError(_unknown_message(every, asked))
    if match.joint_units:
        return Request(unit=every[match.joint_units[0]], asked_for=match)
    return Request(unit=match, asked_for=match)


def _by_ons_code(every: dict[str, Council], key: str) -> Council | None:
    hits = [c for c in every.values() if not c.is_joint and c.new_la_code.casefold() == key.casefold()]
    return hits[0] if len(hits) == 1 else None


def _by_name(every: dict[str, Council], asked: str) -> Council | None:
    wanted = _normalise(asked)
    hits = [c for c in every.values() if _normalise(c.name) == wanted]
    if len(hits) > 1:
        # Two councils can share a name across a reorganisation (Dorset 835 and 838): the live one
        # is almost always meant, and the other is still reachable by its code.
        live = [c for c in hits if c.status == "live"]
        if len(live) == 1:
            return live[0]
        listed = ", ".join(c.label for c in hits)
        raise PackError(f"'{asked}' names more than one council: {listed}. Ask for one by its code.")
    return hits[0] if hits else None


def close_matches(every: dict[str, Council], asked: str) -> list[Council]:
    """Councils nearest to `asked`: names containing it first, then difflib's closest names, or for
    a number the numerically nearest codes."""
    wanted = _normalise(asked)
    if wanted.isdigit():
        coded = sorted((c for c in every.values() if c.code.isdigit()), key=lambda c: abs(int(c.code) - int(wanted)))
        return coded[:SUGGESTIONS]
    by_name: dict[str, list[Council]] = {}
    for council in every.values():
        by_name.setdefault(_normalise(council.name), []).append(council)
    names = [name for name in by_name if wanted and wanted in name]
    names += [n for n in difflib.get_close_matches(wanted, list(by_name), n=SUGGESTIONS, cutoff=0.5) if n not in names]
    return [council for name in names[:SUGGESTIONS] for council in by_name[name]]


def _unknown_message(every: dict[str, Council], asked: str) -> str:
    matches = close_matches(every, asked)
    message = f"No council in the published tables matches '{asked}'."
    if matches:
        message += " Closest:\n" + "\n".join(f"  {c.code:>9}  {c.name}" for c in matches)
    return message + "\nAsk by 3-digit DfE code (e.g. 330), ONS code or full name."


def unit_years(view: PublishedView, code: str) -> list[int]:
    rows = view.execute(
        """
        select distinct time_period from fct_workforce_indicators
        where geographic_level = 'Local authority' and area_code = ?
        order by time_period
        """,
        [code],
    ).fetchall()
    return [row[0] for row in rows]


def published_years(view: PublishedView) -> list[int]:
    rows = view.execute("select distinct time_period from fct_workforce_indicators order by 1").fetchall()
    return [row[0] for row in rows]


def predecessors(every: dict[str, Council], unit: Council) -> tuple[str, ...]:
    """Councils the unit replaced; a joint unit's are its members' (940 / 941 replaced 928)."""
    codes = {code for member in (unit.code, *unit.members) for code in every[member].predecessors}
    return tuple(sorted(codes))


def choose_year(view: PublishedView, unit: Council, year: int | None, replaced: tuple[str, ...]) -> int:
    """`year`, or the latest year with figures for the unit; PackError listing the years otherwise."""
    available = unit_years(view, unit.code)
    if not available:
        raise PackError(f"{unit.label} has no workforce figures in the published tables.")
    if year is None:
        return available[-1]
    if year in available:
        return year
    message = f"{unit.label} has no figures for {year}. Years available: {year_span(available)}."
    if year < available[0] and replaced:
        message += f" Before {available[0]} ask for the council it replaced: {', '.join(replaced)}."
    elif year > available[-1] and unit.successors:
        message += f" From {available[-1] + 1} ask for the councils that replaced it: {', '.join(unit.successors)}."
    everywhere = published_years(view)
    if everywhere != available:
        message += f" The published tables cover {year_span(everywhere)}."
    raise PackError(message)


EN_DASH = "\N{EN DASH}"


def year_span(years: list[int]) -> str:
    """'2021-2024' (with an en dash, as DfE writes ranges), '2020' or '2017, 2019'."""
    years = sorted(years)
    if len(years) > 1 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}{EN_DASH}{years[-1]}"
    return ", ".join(str(year) for year in years)
