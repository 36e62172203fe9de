"""Which of DfE's group counts are sums of its LA rows, so that the generator fits them.

The warehouse recomputes each region, London sub-region and England from the LA rows. A group
count is fitted (the members' targets made to add up to it within GROUP_COUNT_TOLERANCE, see
`group_fitting`) only where DfE's total is a sum of its LA rows:

- no member's value is one DfE's totals leave out (an `x`, `z` or `u` LA whose value is not in
  the group's residual, so it was estimated from a ratio: see `imputation`), and
- some choice of the members' values inside their rounding intervals reaches it, every fitted
  subgroup staying within its own tolerance.

Headcounts and cases are whole numbers, exact already: for them "fitted" just says they add up.
The others are reconciliation exceptions, listed with their evidence by `group_exceptions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthetic.calibration import Targets
from synthetic.groups import Group, year_groups
from synthetic.imputation import FilledFigures, Imputation
from synthetic.measures import COUNT_UNITS, COUNTS, is_whole
from synthetic.release import Release

GROUP_COUNT_TOLERANCE = 0.049
"""A fitted group count lies this close to DfE's published total (just inside its rounding)."""

Key = tuple[str, int]
Span = tuple[int, int]
"""A closed range of a count, in the count's written unit."""


def published_window(group: Group, measure: str) -> Span | None:
    """Where the members' sum may lie to reproduce DfE's total: exact for whole numbers."""
    value = group.value(measure)
    if value is None:
        return None
    unit = COUNT_UNITS[measure]
    slack = 0 if is_whole(measure) else int(GROUP_COUNT_TOLERANCE * unit)
    return round(value * unit) - slack, round(value * unit) + slack


def member_span(targets: Targets, measure: str) -> Span:
    """The LA-year's own rounding interval of a count (a whole number is exact)."""
    if is_whole(measure):
        return targets.units[measure], targets.units[measure]
    return targets.intervals[measure]


@dataclass(frozen=True)
class CountCheck:
    group: Group
    measure: str
    window: Span | None
    reach: Span
    """Where the members' sum can go inside their intervals, each fitted subgroup inside its window."""
    left_out: tuple[tuple[str, Imputation], ...]
    """Members whose imputed value DfE's total does not hold."""

    @property
    def target(self) -> Span | None:
        """Where the members' sum is fitted to: DfE's window, as far as they reach it; None if not fitted."""
        if self.window is None or self.left_out:
            return None
        low, high = max(self.window[0], self.reach[0]), min(self.window[1], self.reach[1])
        return (low, high) if low <= high else None

    @property
    def allowed(self) -> Span:
        """Where the members' sum will be: inside DfE's window if fitted, else anywhere it can reach."""
        return self.target or self.reach


class YearChecks:
    """Every group count of one collection year, checked against the members' rounding intervals."""

    def __init__(self, release: Release, figures: dict[Key, FilledFigures], targets: dict[Key, Targets], year: int):
        self.figures, self.targets, self.year = figures, targets, year
        self.groups = year_groups(release, year)
        self.by_code = {group.area_code: group for group in self.groups}
        self.counts: dict[tuple[str, str], CountCheck] = {}
        for group in self.groups:  # innermost first, so a subgroup's check is there for its parent
            for measure in COUNTS:
                self.counts[(group.area_code, measure)] = self._check_count(group, measure)

    def fitted_window(self, area_code: str, measure: str) -> Span | None:
        """Where the members' sum must lie if the group's count is fitted; None if it is not."""
        return self.counts[(area_code, measure)].target

    def _check_count(self, group: Group, measure: str) -> CountCheck:
        spans = [member_span(self.targets[(unit, self.year)], measure) for unit in group.direct_members]
        spans += [self.counts[(sub, measure)].allowed for sub in group.subgroups]
        left_out = tuple(
            (unit, imputation)
            for unit in group.members
            for imputation in self.figures[(unit, self.year)].imputations
            if imputation.measure == measure and not imputation.in_dfe_totals and imputation.value != 0
        )
        reach = (sum(low for low, _ in spans), sum(high for _, high in spans))
        return CountCheck(group, measure, published_window(group, measure), reach, left_out)
