"""Which of DfE's group counts are sums of its LA rows, so that the generator fits them.

The warehouse recomputes each region, London sub-region and England from the LA rows. A group
count is fitted (the members' targets made to add up to a value DfE's half-up rounding turns into
its published total, see `group_fitting`) only where DfE's total is a sum of its LA rows:

- no member's value is one DfE's totals leave out (a suppressed LA whose value is not in the
  group's residual, so it was estimated from a ratio: see `imputation`), and
- some choice of the members' values inside their rounding intervals reaches it, every fitted
  subgroup staying within its own window.

Where the group publishes a rate, the windows of its counts are narrowed so that the rate of the
fitted sums is published as DfE's, wherever inside their windows the other counts land (North East
2017: 21,790 cases over case holders fitted anywhere in 1187.45-1187.55 FTE give 18.35 or 18.3; DfE
published 18.3). Headcounts and cases are whole numbers, exact already: for them "fitted" just says
they add up. The others are reconciliation exceptions, listed with their evidence by `group_exceptions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from synthetic.calibration import Targets
from synthetic.groups import Group, year_groups
from synthetic.imputation import FilledFigures, Imputation
from synthetic.measures import COUNT_UNITS, COUNTS, RATE_TOLERANCE, RATES, Rate, is_whole, rounding_interval
from synthetic.release import Release

SAFE_RATE_TOLERANCE = RATE_TOLERANCE - 1e-6
"""Rate bounds are found in floating point: keep a hair inside the tolerance."""
BISECTIONS = 50
RATE_PASSES = 2
"""Narrowing one count's window narrows what its partners do to a shared rate: a second pass."""

Key = tuple[str, int]
Span = tuple[int, int]
"""A closed range of a count, in the count's written unit."""


def published_window(group: Group, measure: str) -> Span | None:
    """Where the members' sum may lie to reproduce DfE's total at its rounding: exact for whole numbers."""
    value = group.value(measure)
    if value is None:
        return None
    units = round(value * COUNT_UNITS[measure])
    return (units, units) if is_whole(measure) else rounding_interval(measure, units)


def _share_bound(share: float, rest: float) -> float:
    """The x for which x / (x + rest) is `share` (agency over agency plus in post)."""
    if share <= 0:
        return 0.0
    return math.inf if share >= 1 else share * rest / (1 - share)


def rate_bounds(rate: Rate, measure: str, values: dict[str, float], published: float, year: int) -> tuple[float, float]:
    """Where `measure` keeps `rate` within its tolerance of `published`, the other counts as they are."""
    factor = rate.factor(year)
    low, high = (published - SAFE_RATE_TOLERANCE) / factor, (published + SAFE_RATE_TOLERANCE) / factor
    rest = sum(values[c] for c in rate.denominator if c != measure)
    if measure == rate.numerator and measure in rate.denominator:
        return _share_bound(low, rest), _share_bound(high, rest)
    if measure == rate.numerator:
        return low * rest, high * rest
    numerator = values[rate.numerator]
    return numerator / high - rest, (numerator / low - rest if low > 0 else math.inf)


def _path(spans: dict[str, Span], rate: Rate, share: float) -> dict[str, float]:
    """The counts `share` of the way from the box corner where `rate` is lowest to where it is highest.

    The rate rises with its numerator and falls with the rest of its denominator, so along this
    path it rises, and the counts between two points of the path make a box whose rate runs from
    the first point's to the second's.
    """
    return {
        name: (low + share * (high - low) if name == rate.numerator else high - share * (high - low))
        / COUNT_UNITS[name]
        for name, (low, high) in spans.items()
    }


def _share_where(spans: dict[str, Span], rate: Rate, year: int, bound: float, at_least: bool) -> float | None:
    """How far along the path the rate first reaches `bound` (at_least), or last stays at or below it;
    None if it never does."""

    def meets(share: float) -> bool:
        value = rate.of(_path(spans, rate, share), year)
        return value is not None and (value >= bound if at_least else value <= bound)

    start, end = (1.0, 0.0) if at_least else (0.0, 1.0)
    if not meets(start):
        return None
    if meets(end):
        return end
    failing, passing = end, start
    for _ in range(BISECTIONS):
        middle = (failing + passing) / 2
        failing, passing = (failing, middle) if meets(middle) else (middle, passing)
    return passing


def member_span(targets: Targets, measure: str) -> Span:
    """The LA-year's own rounding interval of a count (a whole number is exact)."""
    if is_whole(measure):
        return targets.units[measure], targets.units[measure]
    return targets.intervals[measure]


def narrowed_for_rate(spans: dict[str, Span], rate: Rate, published: float, year: int) -> dict[str, Span] | None:
    """Sub-spans of the rate's counts whose every combination gives DfE's published rate at its rounding.

    None when no combination inside the spans does (DfE's rate is not a ratio of these totals).
    """
    low = _share_where(spans, rate, year, published - SAFE_RATE_TOLERANCE, at_least=True)
    high = _share_where(spans, rate, year, published + SAFE_RATE_TOLERANCE, at_least=False)
    if low is None or high is None or low > high:
        return None
    bottom, top = _path(spans, rate, low), _path(spans, rate, high)
    narrowed = {}
    for name, (span_low, span_high) in spans.items():
        unit = COUNT_UNITS[name]
        ends = sorted((bottom[name] * unit, top[name] * unit))
        narrowed[name] = (max(span_low, math.ceil(ends[0] - 1e-6)), min(span_high, math.floor(ends[1] + 1e-6)))
    return narrowed


@dataclass(frozen=True)
class CountCheck:
    group: Group
    measure: str
    window: Span | None
    """Where DfE's rounding of the members' sum gives its published total."""
    reach: Span
    """Where the members' sum can go inside their intervals, each fitted subgroup inside its window."""
    left_out: tuple[tuple[str, Imputation], ...]
    """Members whose imputed value DfE's total does not hold."""
    target: Span | None = None
    """Where the members' sum is fitted to: DfE's window as far as they reach it, narrowed so that the
    group's published rates come out as DfE's; None if the count is not fitted."""

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
            checks = {measure: self._check_count(group, measure) for measure in COUNTS}
            for measure, target in self._rate_targets(group, checks).items():
                self.counts[(group.area_code, measure)] = CountCheck(
                    group, measure, checks[measure].window, checks[measure].reach, checks[measure].left_out, target
                )

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

    def _rate_targets(self, group: Group, checks: dict[str, CountCheck]) -> dict[str, Span | None]:
        """Each count's fitting target: DfE's window within reach, narrowed by the group's published rates
        as long as something is left (a rate that cannot be met is then an exception of its own)."""
        targets: dict[str, Span | None] = {}
        for measure, check in checks.items():
            if check.window is None or check.left_out:
                targets[measure] = None
                continue
            low, high = max(check.window[0], check.reach[0]), min(check.window[1], check.reach[1])
            targets[measure] = (low, high) if low <= high else None
        for _ in range(RATE_PASSES):
            for name, rate in RATES.items():
                published = group.value(name)
                spans = {c: targets[c] for c in rate.counts}
                if published is None or any(span is None for span in spans.values()):
                    continue
                narrowed = narrowed_for_rate(spans, rate, published, self.year)  # type: ignore[arg-type]
                if narrowed and all(low <= high for low, high in narrowed.values()):
                    targets.update(narrowed)
        return targets
