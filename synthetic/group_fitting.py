"""Move LA-year targets inside their own rounding so that DfE's group totals are sums of them.

Each LA-year is calibrated on its own, anywhere inside its counts' rounding intervals, so the sums
over a region or England drift from DfE's published totals (DfE summed unrounded LA values):
England 2017 in-post FTE came to 28482.04 against 28482.6. Per collection year and FTE or day
count, each fitted group (see `group_checks`) whose members' sum lies outside its tolerance is
moved to DfE's total, innermost first: London's sub-regions, then the regions, then England. A
group's correction is shared over its members in proportion to their room, where a fitted
subgroup counts as one block whose room also keeps its own sum inside its tolerance. A member's
room is where that count can go with the LA-year's other counts fixed: inside its interval, every
published rate it enters still reproduced, case holders no more than in post plus agency. Where
that room is not enough, members move again carrying the counts that share a rate with the one
fitted (agency cover at 100% of agency FTE moves only with it); their own groups are put right on
the next pass. Rates couple the counts (turnover = leavers / in post), so the counts are fitted in
turn, a few passes, until nothing moves. Headcounts and cases are exact already and are left alone.
"""

from __future__ import annotations

import math

import numpy as np

from synthetic.allocation import allocate
from synthetic.calibration import Targets, agency_records_only, with_units
from synthetic.group_checks import SAFE_RATE_TOLERANCE, Span, YearChecks, rate_bounds
from synthetic.groups import Group
from synthetic.imputation import FilledFigures
from synthetic.measures import COUNT_UNITS, COUNTS, RATES, is_whole
from synthetic.release import Release

FITTED = tuple(m for m in COUNTS if not is_whole(m))
IN_POST_FTE = ("inpost_fte", "agency_fte", "case_holders_fte")
MAX_PASSES = 5

Key = tuple[str, int]


def _room(targets: Targets, units: dict[str, int], measure: str, year: int) -> Span:
    """Where one count of an LA-year may go with its other counts fixed (empty when low > high)."""
    if measure in IN_POST_FTE and agency_records_only(units):
        return units[measure], units[measure]  # its case holders must stay the FTE of whole records
    unit = COUNT_UNITS[measure]
    low, high = targets.intervals[measure]
    values = {m: amount / COUNT_UNITS[m] for m, amount in units.items()}
    for name, rate in RATES.items():
        published = targets.rates[name].published
        if published is not None and measure in rate.counts:
            lowest, highest = rate_bounds(rate, measure, values, published, year)
            low = max(low, math.ceil(lowest * unit))
            high = high if math.isinf(highest) else min(high, math.floor(highest * unit))
    # Case holders are people in post, agency included (the roster needs it).
    if measure == "case_holders_fte":
        high = min(high, units["inpost_fte"] + units["agency_fte"])
    elif measure in ("inpost_fte", "agency_fte"):
        other = "agency_fte" if measure == "inpost_fte" else "inpost_fte"
        low = max(low, units["case_holders_fte"] - units[other])
    return low, high


def count_room(targets: Targets, units: dict[str, int], measure: str, year: int) -> Span:
    """Where one count may go with the others fixed; just where it is if that is outside (a rate DfE's row misses)."""
    low, high = _room(targets, units, measure, year)
    current = units[measure]
    return (low, high) if low <= current <= high else (current, current)


def _partners(measure: str) -> tuple[str, ...]:
    """The other FTE and day counts that share a rate with `measure`."""
    shared = {count for rate in RATES.values() if measure in rate.counts for count in rate.counts}
    return tuple(sorted(shared & set(FITTED) - {measure}))


PARTNERS = {measure: _partners(measure) for measure in FITTED}


def _within(targets: Targets, units: dict[str, int], year: int) -> bool:
    """Every count inside its interval, every published rate reproduced, case holders within those in post."""
    values = {m: amount / COUNT_UNITS[m] for m, amount in units.items()}
    for name, rate in RATES.items():
        published, achieved = targets.rates[name].published, rate.of(values, year)
        if published is not None and (achieved is None or abs(achieved - published) > SAFE_RATE_TOLERANCE):
            return False
    inside = all(low <= units[m] <= high for m, (low, high) in targets.intervals.items())
    return inside and units["case_holders_fte"] <= units["inpost_fte"] + units["agency_fte"]


def carried(targets: Targets, units: dict[str, int], measure: str, value: int, year: int) -> dict[str, int] | None:
    """The LA-year's counts with `measure` at `value` and the counts sharing a rate with it moved as little as
    their rates then need (cover 2.40 of 2.40 agency FTE at 100% goes to 2.41 only with the agency FTE); None
    if they cannot follow."""
    trial = {**units, measure: value}
    for partner in PARTNERS[measure]:
        low, high = _room(targets, trial, partner, year)
        if low > high:
            return None
        trial[partner] = min(max(trial[partner], low), high)
    return trial if _within(targets, trial, year) else None


def carry_room(targets: Targets, units: dict[str, int], measure: str, year: int, up: bool) -> int:
    """How far `measure` can move one way with its partners carried along (the largest step found by halving)."""
    low, high = targets.intervals[measure]
    sign = 1 if up else -1
    reachable, beyond = 0, (high - units[measure] if up else units[measure] - low) + 1
    while beyond - reachable > 1:
        step = (reachable + beyond) // 2
        if carried(targets, units, measure, units[measure] + sign * step, year) is None:
            beyond = step
        else:
            reachable = step
    return reachable


class _YearFit:
    """The targets of one collection year, moved count by count towards DfE's group totals."""

    def __init__(self, checks: YearChecks, targets: dict[str, Targets], year: int):
        self.checks, self.targets, self.year = checks, targets, year
        self.units = {unit: dict(t.units) for unit, t in targets.items()}
        self.measure = FITTED[0]
        self.room: dict[str, Span] = {}
        self.carrying = False
        self.carry_rooms: dict[tuple[str, bool], int] = {}

    def run(self) -> None:
        for _ in range(MAX_PASSES):
            moved = [self.fit(measure) for measure in FITTED]  # every count on every pass
            if not any(moved):
                return

    def fit(self, measure: str) -> bool:
        """Fit every group's total of one count; whether anything moved.

        Each member first moves alone; where that is not enough, members move carrying the counts
        that share a rate with it, whose own group totals the next pass puts right.
        """
        self.measure = measure
        self.room = {unit: count_room(self.targets[unit], u, measure, self.year) for unit, u in self.units.items()}
        moved = False
        for group in self.checks.groups:
            for carrying in (False, True):
                self.carrying, self.carry_rooms = carrying, {}
                gap = self.gap(group)
                moved |= gap != 0 and self.shift(group, gap) != 0
        return moved

    def gap(self, group: Group) -> int:
        """How far a fitted group's sum is to be moved to DfE's total; 0 if within tolerance or not fitted."""
        window = self.checks.fitted_window(group.area_code, self.measure)
        total = self.total(group)
        if window is None or window[0] <= total <= window[1]:
            return 0
        return (window[0] + window[1]) // 2 - total

    def total(self, group: Group) -> int:
        return sum(self.units[unit][self.measure] for unit in group.members)

    def blocks(self, group: Group) -> list[Group | str]:
        """What moves as one: each fitted subgroup, and the members of the others and of the group itself."""
        found: list[Group | str] = list(group.direct_members)
        for code in group.subgroups:
            sub = self.checks.by_code[code]
            found += self.blocks(sub) if self.checks.fitted_window(code, self.measure) is None else [sub]
        return found

    def member_room(self, unit: str, up: bool) -> int:
        """How far a member's count can move one way, alone or carrying its partners."""
        if self.carrying:
            if (unit, up) not in self.carry_rooms:
                room = carry_room(self.targets[unit], self.units[unit], self.measure, self.year, up)
                self.carry_rooms[(unit, up)] = room
            return self.carry_rooms[(unit, up)]
        low, high = self.room[unit]
        current = self.units[unit][self.measure]
        return high - current if up else current - low

    def block_room(self, block: Group | str, up: bool) -> int:
        """How far a block can move one way: a subgroup no further than its own tolerance allows."""
        if isinstance(block, str):
            return self.member_room(block, up)
        low, high = self.checks.fitted_window(block.area_code, self.measure)  # type: ignore[misc]
        total = self.total(block)
        inside = high - total if up else total - low
        return max(0, min(inside, sum(self.block_room(b, up) for b in self.blocks(block))))

    def move(self, unit: str, step: int) -> int:
        """Move one member's count by `step` (carrying its partners if carrying); how far it moved."""
        units = self.units[unit]
        if not self.carrying:
            units[self.measure] += step
            return step
        trial = carried(self.targets[unit], units, self.measure, units[self.measure] + step, self.year)
        if trial is None:
            return 0
        self.units[unit] = trial
        self.room[unit] = count_room(self.targets[unit], trial, self.measure, self.year)
        return step

    def shift(self, group: Group, amount: int) -> int:
        """Move the group's sum by up to `amount`, shared by its blocks' room; how far it moved."""
        up = amount > 0
        blocks = self.blocks(group)
        rooms = np.array([self.block_room(block, up) for block in blocks], dtype=np.int64)
        wanted = min(abs(amount), int(rooms.sum()))
        moved = 0
        for block, part in zip(blocks, allocate(wanted, rooms.astype(float), 0, rooms).tolist(), strict=True):
            if part:
                moved += self.step(block, part if up else -part)
        # Carrying partners, a member that can move 0.04 may not move 0.01 (its rates round differently):
        # what the shares did not move is tried member by member, whole and then a unit at a time.
        for block in blocks if self.carrying else []:
            left = wanted - abs(moved)
            for step in dict.fromkeys((left, 1)) if left > 0 else ():
                done = self.step(block, step if up else -step)
                moved += done
                if done:
                    break
        return moved

    def step(self, block: Group | str, amount: int) -> int:
        return self.move(block, amount) if isinstance(block, str) else self.shift(block, amount)


def fit_group_totals(
    release: Release, figures: dict[Key, FilledFigures], targets: dict[Key, Targets]
) -> dict[Key, Targets]:
    """The targets with each year's fitted group totals reproduced; an LA-year moved records by how much."""
    fitted = dict(targets)
    for year in sorted({year for _, year in targets}):
        mine = {unit: t for (unit, y), t in targets.items() if y == year}
        fit = _YearFit(YearChecks(release, figures, targets, year), mine, year)
        fit.run()
        for unit, units in fit.units.items():
            if units != mine[unit].units:
                fitted[(unit, year)] = with_units(mine[unit], units, year)
    return fitted
