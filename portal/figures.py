"""What a signed-in person may see of the published benchmarks, shaped for the pages and the API.

Everything comes from the published version (read-only): the DuckDB copy, or on the shared
deployment the server's tables, whose row policies also apply the sharing rule below (the SQL
here is read by both). A figure is *provisional* when it was
computed from a council's return for a year DfE has not published. A council's own figures are
always shown; another council's provisional figures only as the data-sharing agreement allows,
and otherwise as DfE's `x` with the reason; published figures of any council are shown, except
those about 1 to 4 people, withheld as `c` exactly as the packs do.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from portal import adapter
from portal.agreement import Agreement
from portal.settings import Settings

WITHHELD_BY_AGREEMENT = adapter.WITHHELD_BY_AGREEMENT
NOT_PUBLISHED = "not available"


@dataclass(frozen=True)
class Council:
    code: str
    name: str
    region_name: str
    neighbours: dict[int, tuple[str, ...]]
    """Statistical neighbours by DfE model (2021, 2025); each year's benchmarks name the model they use."""
    members: tuple[str, ...]
    joint_units: tuple[str, ...]


@dataclass
class Cell:
    """One figure as shown: the rounded value, or DfE's symbol with its meaning."""

    value: float | None
    decimals: int
    symbol: str | None = None
    meaning: str | None = None
    provisional: bool = False

    @property
    def text(self) -> str:
        if self.symbol:
            return self.symbol
        if self.value is None:
            return "x"
        return f"{self.value:,.{self.decimals}f}"

    def as_json(self) -> dict[str, Any]:
        return {
            "value": None if self.symbol or self.value is None else round(self.value, self.decimals),
            "symbol": self.symbol or (None if self.value is not None else "x"),
            "symbol_meaning": self.meaning or (None if self.value is not None else NOT_PUBLISHED),
            "provisional": self.provisional,
        }


@dataclass
class MeasureRow:
    measure: str
    label: str
    unit: str
    polarity: str
    council: Cell
    neighbours: Cell
    neighbour_count: int | None
    region: Cell
    england: Cell
    rank: int | None
    ranked_units: int | None
    band: str | None
    change: Cell


@dataclass
class NeighbourRow:
    code: str
    name: str
    value: Cell
    rank: int | None
    band: str | None
    is_self: bool = False


@dataclass
class MeasureDetail:
    row: MeasureRow
    neighbours: list[NeighbourRow]
    trend: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Facts:
    """What every request needs from one published version, read once per version."""

    councils: dict[str, Council]
    dfe_years: set[int]
    region_units: dict[tuple[int, str, str], int]
    """(year, region code, measure) -> how many councils have a value: how many a regional figure pools."""
    england_units: dict[tuple[int, str], int]
    years: dict[str, list[int]]
    """Reporting unit -> the years it has a published figure for, newest first."""


def facts(cur: duckdb.DuckDBPyConnection) -> Facts:
    region_units, england_units = {}, {}
    for year, region, measure, units in cur.execute(
        "select time_period, region_code, measure, count(la_value) from fct_workforce_benchmarks "
        "group by time_period, region_code, measure"
    ).fetchall():
        region_units[(year, region, measure)] = units
        england_units[(year, measure)] = england_units.get((year, measure), 0) + units
    return Facts(councils(cur), dfe_years(cur), region_units, england_units, years_with_figures(cur))


class Viewer:
    """Who is looking: a council (sees its own detail) or an analyst (sees every published figure)."""

    def __init__(self, agreement: Agreement, old_la_code: str | None, published: Facts) -> None:
        self.agreement = agreement
        self.old_la_code = old_la_code
        self.facts = published
        self.councils = published.councils

    def own(self, code: str) -> bool:
        if self.old_la_code is None:
            return False
        unit = self.councils.get(code)
        return code == self.old_la_code or (unit is not None and self.old_la_code in unit.members)

    def may_see_provisional(self, code: str) -> bool:
        if self.old_la_code is None or self.own(code):
            return True
        owner = self.councils.get(code)
        members = owner.members if owner and owner.members else (code,)
        # A joint unit's figures are both members'; both must share them.
        return all(
            self.agreement.shares_provisional(m, self.old_la_code, frozenset(self._neighbours_of(m))) for m in members
        )

    def _neighbours_of(self, code: str) -> tuple[str, ...]:
        council = self.councils.get(code)
        units = [council] if council else []
        units += [self.councils[u] for u in (council.joint_units if council else ()) if u in self.councils]
        found = {n for unit in units for listed in unit.neighbours.values() for n in listed}
        for member in list(found):
            found.update(self.councils[member].members if member in self.councils else ())
        return tuple(found)


def provisional_viewers(agreement: Agreement, facts: Facts, day: dt.date | None = None) -> set[tuple[str, str]]:
    """(owner, viewer) pairs: the viewer council may see the owner unit's provisional figures.

    Every council sees its own (a pack an engineer makes for a council outside the agreement is
    still that council's); a council taking part on `day` (default today) also sees what the
    others share with it."""
    pairs = set()
    for viewer_code in facts.councils:
        viewer = Viewer(agreement, viewer_code, facts)
        sees = viewer.own if agreement.participant(viewer_code, day) is None else viewer.may_see_provisional
        pairs.update((owner, viewer_code) for owner in facts.councils if sees(owner))
    return pairs


def sharing(agreement: Agreement) -> Callable[[duckdb.DuckDBPyConnection], tuple[set[tuple[str, str]], set[int]]]:
    """Who may see whose provisional figures in a published version, and the years DfE has published:
    what the server's row policies and a pack's views read (orchestration/lib/server/access.py)."""

    def answer(cur: duckdb.DuckDBPyConnection) -> tuple[set[tuple[str, str]], set[int]]:
        published = facts(cur)
        return provisional_viewers(agreement, published), published.dfe_years

    return answer


def pack_views(settings: Settings, terms: Agreement) -> adapter.PackViews:
    """Where packs read the published tables, as the council each pack is for may see them: the
    server through the portal's login (its row policies), the server through the warehouse's login
    taking the portal's role (`workforce extract` on the shared deployment), or the DuckDB copy
    through views applying the same rule to the agreement's sharing."""
    if settings.database_url:
        return functools.partial(adapter.pack_server_view, settings.database_url)
    server = adapter.server_url()
    if server:
        return functools.partial(adapter.pack_server_view, server, as_portal=True)
    return functools.partial(adapter.pack_duckdb_view, None, sharing(terms))


def configured_pack_views() -> adapter.PackViews:
    """`pack_views` for this environment's settings and agreement (`workforce extract`)."""
    from portal.agreement import load
    from portal.settings import load_settings

    settings = load_settings()
    return pack_views(settings, load(settings.agreement_path))


def councils(cur: duckdb.DuckDBPyConnection) -> dict[str, Council]:
    rows = cur.execute(
        """
        select old_la_code, la_name, region_name,
            statistical_neighbours_2021, statistical_neighbours_2025, member_old_la_codes, joint_reporting_unit_codes
        from dim_local_authorities order by old_la_code
        """
    ).fetchall()
    return {
        r[0]: Council(
            r[0], r[1], r[2] or "", {2021: tuple(r[3] or ()), 2025: tuple(r[4] or ())}, tuple(r[5]), tuple(r[6])
        )
        for r in rows
    }


def reporting_unit(councils_by_code: dict[str, Council], code: str) -> str:
    """The unit whose figures stand for a council: its joint return's unit when it makes one."""
    council = councils_by_code.get(code)
    if council and council.joint_units:
        return council.joint_units[0]
    return code


def dfe_years(cur: duckdb.DuckDBPyConnection) -> set[int]:
    """Years DfE has published: some figure in them comes from DfE or was reconciled with DfE's."""
    rows = cur.execute(
        """
        select distinct time_period from fct_workforce_indicators where source in ('dfe_published', 'mixed')
        union
        select distinct time_period from fct_published_reconciliation where published_value is not null
        """
    ).fetchall()
    return {int(r[0]) for r in rows}


def years_with_figures(cur: duckdb.DuckDBPyConnection) -> dict[str, list[int]]:
    rows = cur.execute(
        "select old_la_code, array_agg(distinct time_period order by time_period desc) from fct_workforce_benchmarks "
        "where la_value is not null group by old_la_code"
    ).fetchall()
    return {code: [int(y) for y in found] for code, found in rows}


def _benchmark_rows(cur: duckdb.DuckDBPyConnection, where: str, args: list[Any]) -> list[dict[str, Any]]:
    """Benchmark rows with what the display rules need: the council's headcounts and DfE's notes."""
    headcounts = ", ".join(f"i.{column}" for column in adapter.HEADCOUNT_COLUMNS)
    cursor = cur.execute(
        f"""
        select b.*, i.suppression_notes, {headcounts}
        from fct_workforce_benchmarks as b
        left join fct_workforce_indicators as i
            on i.time_period = b.time_period and i.area_code = b.old_la_code and i.geographic_level = 'Local authority'
        where {where}
        """,
        args,
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Shaper:
    """Turns published rows into cells, applying the viewer's rules."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.measures = {m.name: m for m in adapter.benchmarked_measures()}
        self.published_years = viewer.facts.dfe_years

    def provisional(self, row: dict[str, Any]) -> bool:
        return row["time_period"] not in self.published_years and row["source"] != "dfe_published"

    def council_cell(self, row: dict[str, Any], value_column: str = "la_value") -> Cell:
        measure = self.measures[row["measure"]]
        cell = Cell(_number(row[value_column]), measure.decimals, provisional=self.provisional(row))
        code = row["old_la_code"]
        notes = adapter.dfe_symbols(row.get("suppression_notes"))
        if measure.name in notes:
            cell.symbol, cell.meaning = notes[measure.name]
        elif cell.provisional and not self.viewer.may_see_provisional(code):
            cell.symbol, cell.meaning = "x", WITHHELD_BY_AGREEMENT
        elif not self.viewer.own(code) and self.viewer.old_la_code is not None:
            headcounts = {k: row.get(k) for k in adapter.HEADCOUNT_COLUMNS}
            if adapter.is_small(measure.name, headcounts, {m: s for m, (s, _) in notes.items()}):
                cell.symbol, cell.meaning = adapter.SMALL_COUNT_SYMBOL, adapter.SMALL_COUNT_REASON
        return cell

    def group_cell(self, row: dict[str, Any], column: str, pooled: int | None) -> Cell:
        measure = self.measures[row["measure"]]
        cell = Cell(_number(row[column]), measure.decimals, provisional=self.provisional(row))
        others = (pooled or 0) - (1 if column != "sn_pooled_value" and row["la_value"] is not None else 0)
        thin = others < adapter.PROVISIONAL_GROUP_MINIMUM
        if cell.provisional and self.viewer.old_la_code is not None and cell.value is not None and thin:
            cell.symbol, cell.meaning = "x", adapter.THIN_PROVISIONAL_GROUP
        return cell

    def measure_row(self, row: dict[str, Any]) -> MeasureRow:
        measure = self.measures[row["measure"]]
        council = self.council_cell(row)
        change = Cell(_number(row["change_from_previous_year"]), measure.decimals, provisional=council.provisional)
        hidden = council.symbol is not None
        group_key = (row["time_period"], row["region_code"], row["measure"])
        if hidden:
            change.symbol, change.meaning = council.symbol, council.meaning
        return MeasureRow(
            measure=measure.name,
            label=measure.label,
            unit=measure.unit,
            polarity=measure.polarity,
            council=council,
            neighbours=self.group_cell(row, "sn_pooled_value", row["sn_neighbour_count"]),
            neighbour_count=row["sn_neighbour_count"],
            region=self.group_cell(row, "region_value", self.viewer.facts.region_units.get(group_key[:3])),
            england=self.group_cell(row, "england_value", self.viewer.facts.england_units.get(group_key[::2])),
            rank=None if hidden else row["la_rank"],
            ranked_units=row["ranked_units"],
            band=None if hidden else row["quartile_band"],
            change=change,
        )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def overview(cur: duckdb.DuckDBPyConnection, viewer: Viewer, code: str, year: int) -> list[MeasureRow]:
    shaper = Shaper(viewer)
    rows = _benchmark_rows(cur, "b.old_la_code = ? and b.time_period = ?", [code, year])
    order = list(shaper.measures)
    rows = [r for r in rows if r["measure"] in shaper.measures]
    return [shaper.measure_row(r) for r in sorted(rows, key=lambda r: order.index(r["measure"]))]


def measure_detail(
    cur: duckdb.DuckDBPyConnection, viewer: Viewer, code: str, measure: str, year: int
) -> MeasureDetail | None:
    shaper = Shaper(viewer)
    if measure not in shaper.measures:
        return None
    own = _benchmark_rows(cur, "b.measure = ? and b.time_period = ? and b.old_la_code = ?", [measure, year, code])
    if not own:
        return None
    council = viewer.councils[code]
    # The neighbours the year's benchmarks pooled (a joint unit takes its lead member's).
    lead = viewer.councils.get(council.members[0], council) if council.members else council
    named = [n for n in lead.neighbours.get(own[0]["sn_model"], ()) if n not in council.members and n != code]
    wanted = [code, *named, *{reporting_unit(viewer.councils, n) for n in named}]
    marks = ", ".join("?" for _ in wanted)
    rows = {
        r["old_la_code"]: r
        for r in _benchmark_rows(
            cur, f"b.measure = ? and b.time_period = ? and b.old_la_code in ({marks})", [measure, year, *wanted]
        )
    }
    neighbours = []
    for neighbour in [code, *named]:
        unit = reporting_unit(viewer.councils, neighbour)
        row = rows.get(neighbour) or rows.get(unit)
        name = viewer.councils[neighbour].name if neighbour in viewer.councils else neighbour
        if row is None:
            # On the server a row the council may not see is not returned at all: said as the
            # DuckDB copy's rule says it.
            withheld = year not in shaper.published_years and not viewer.may_see_provisional(neighbour)
            meaning = WITHHELD_BY_AGREEMENT if withheld else NOT_PUBLISHED
            cell = Cell(None, shaper.measures[measure].decimals, symbol="x", meaning=meaning, provisional=withheld)
            neighbours.append(NeighbourRow(neighbour, name, cell, None, None, neighbour == code))
            continue
        cell = shaper.council_cell(row)
        hidden = cell.symbol is not None
        neighbours.append(
            NeighbourRow(
                neighbour,
                name,
                cell,
                None if hidden else row["la_rank"],
                None if hidden else row["quartile_band"],
                neighbour == code,
            )
        )
    trend = []
    for row in sorted(
        _benchmark_rows(cur, "b.measure = ? and b.old_la_code = ?", [measure, code]), key=lambda r: r["time_period"]
    ):
        shaped = shaper.measure_row(row)
        trend.append(
            {
                "year": row["time_period"],
                "council": shaped.council,
                "neighbours": shaped.neighbours,
                "region": shaped.region,
                "england": shaped.england,
            }
        )
    return MeasureDetail(shaper.measure_row(rows[code]), neighbours, trend)
