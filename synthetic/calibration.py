"""Choose each return's exact totals: inside each published count's rounding, matching each published rate.

DfE computed its rates from unrounded counts, so the rounded counts alone miss ~120 published LA
rates (North Tyneside 2024: cover 5, agency 24, vacancy 7 give 20.8% and 71.4%, not the published
20.6% and 70.7%; cover 4.96 with agency 24.02 and vacancies 7.02 gives both). Per LA-year this
searches a grid of in-post, agency and vacancy FTE inside their intervals; for every grid point the
counts that enter only one or two rates (leavers, working days lost, agency cover) take their best
value in closed form or from their few candidates. The chosen point misses the fewest rates, then has
the least total excess over the 0.05 rounding tolerance and, among points that meet every rate, the
largest margin. A published row that is internally inconsistent keeps that point and reports the rate
it misses.

Targets are whole numbers of each count's written unit (see `measures`), so the values written to
a file add up to them exactly. Each keeps its interval: `group_fitting` then moves targets inside
them so that DfE's regional and England totals are sums of their LAs'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synthetic.imputation import FilledFigures
from synthetic.measures import (
    CENTI,
    COUNT_UNITS,
    COUNTS,
    FTE_WITHIN_HEADCOUNT,
    HEADCOUNT_OF_FTE,
    MICRO,
    RATE_TOLERANCE,
    RATES,
    WHOLE,
    denominator_for,
    numerator_for,
    rate_of_units,
    rounding_interval,
)

GRID_POINTS = 41
UNDEFINED_RATE_DEVIATION = 1e3
"""Deviation charged to a published rate whose denominator came out as zero."""
EXCESS_WEIGHT = 1e3
MISSED_WEIGHT = 1e7


@dataclass(frozen=True)
class RateCheck:
    published: float | None
    achieved: float | None

    @property
    def excess(self) -> float:
        """How far the achieved rate falls outside the published one's rounding (0 when it is inside)."""
        if self.published is None:
            return 0.0
        if self.achieved is None:
            return UNDEFINED_RATE_DEVIATION
        return max(abs(self.achieved - self.published) - RATE_TOLERANCE, 0.0)

    @property
    def met(self) -> bool:
        return self.excess <= 1e-9


def decimal_text(amount: int, unit: int) -> str:
    """The exact decimal of a whole number of 1/unit (unit 1, 100 or 1,000,000)."""
    if unit == WHOLE:
        return str(amount)
    digits = len(str(unit)) - 1
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // unit}.{abs(amount) % unit:0{digits}d}"


@dataclass(frozen=True)
class Targets:
    """A return's exact totals, in each count's written unit, and how the published rates come out."""

    units: dict[str, int]
    rates: dict[str, RateCheck]
    intervals: dict[str, tuple[int, int]]
    """Each FTE or day total's rounding interval (of its published or imputed value), in its unit."""
    moved: dict[str, int] = field(default_factory=dict)
    """How far fitting DfE's group totals moved a total from the LA-year's own calibration."""

    def value(self, measure: str) -> float:
        return self.units[measure] / COUNT_UNITS[measure]

    def text(self, measure: str) -> str:
        """The exact decimal, as a file's values add up to it."""
        return decimal_text(self.units[measure], COUNT_UNITS[measure])

    @property
    def unmet(self) -> list[str]:
        return [name for name, check in self.rates.items() if not check.met]

    @property
    def excess(self) -> float:
        """How far, in total, the rates fall outside their published rounding."""
        return sum(check.excess for check in self.rates.values())


def _deviation(published: float | None, achieved: np.ndarray) -> np.ndarray:
    """|achieved - published|, 0 where nothing was published, UNDEFINED_RATE_DEVIATION where undefined."""
    if published is None:
        return np.zeros_like(achieved, dtype=float)
    return np.where(np.isfinite(achieved), np.abs(achieved - published), UNDEFINED_RATE_DEVIATION)


def _excess(deviation: np.ndarray) -> np.ndarray:
    return np.maximum(deviation - RATE_TOLERANCE, 0.0)


def _score(*deviations: np.ndarray) -> np.ndarray:
    """Fewest rates missed first, then the least total excess, then the smallest worst deviation.

    Counting misses first keeps one impossible rate from dragging a feasible one out of its rounding.
    """
    missed = sum((d > RATE_TOLERANCE).astype(float) for d in deviations)
    excess = sum(_excess(d) for d in deviations)
    worst = np.maximum.reduce(np.broadcast_arrays(*deviations))
    return MISSED_WEIGHT * missed + EXCESS_WEIGHT * excess + worst


class _Problem:
    """The intervals and published rates of one LA-year, in written units."""

    def __init__(self, figures: FilledFigures, year: int, scale: float, fte_within_headcount: bool):
        self.year = year
        self.fte_within_headcount = fte_within_headcount
        self.rates = figures.rates
        self.whole = {m: round(figures.counts[m] * scale) for m in COUNTS if COUNT_UNITS[m] == WHOLE}
        self.published = {
            m: round(figures.counts[m] * scale * COUNT_UNITS[m]) for m in COUNTS if COUNT_UNITS[m] != WHOLE
        }
        self.interval = {m: self._interval(m, figures) for m in self.published}

    def _interval(self, measure: str, figures: FilledFigures) -> tuple[int, int]:
        unit, centre = COUNT_UNITS[measure], self.published[measure]
        if measure in figures.low:
            return round(0.01 * unit), round(0.04 * unit)
        low, high = rounding_interval(measure, centre)
        headcount = self.whole.get(HEADCOUNT_OF_FTE.get(measure, ""))
        if centre == 0:
            # A published 0 FTE next to a positive headcount (810 leavers 2017: 5 people) is people
            # with a tiny FTE between them; each needs at least one unit.
            return (headcount, high) if headcount else (0, 0)
        low = max(low, 1)
        if measure in FTE_WITHIN_HEADCOUNT and headcount is not None:
            high = min(high, headcount * unit)
            return min(low, high), high
        if self.fte_within_headcount and headcount is not None and low <= headcount * unit:
            high = min(high, headcount * unit)
        return low, high

    def candidates(self, measure: str) -> np.ndarray:
        low, high = self.interval[measure]
        if COUNT_UNITS[measure] == CENTI:
            return np.arange(low, high + 1, dtype=np.int64)
        return np.unique(np.round(np.linspace(low, high, GRID_POINTS)).astype(np.int64))

    def centre(self, measure: str) -> int:
        """The published value itself, moved into the interval if a headcount cap cut it off."""
        low, high = self.interval[measure]
        return min(max(self.published[measure], low), high)


def _achieved(problem: _Problem, name: str, **units: np.ndarray) -> np.ndarray:
    """How far rate `name` lands from its published value for every combination of these counts."""
    return _deviation(problem.rates[name], rate_of_units(RATES[name], units, problem.year))


def _best_leavers(problem: _Problem, inpost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leavers FTE for each in-post candidate: the published turnover point, clipped to its interval."""
    low, high = problem.interval["leavers_fte"]
    published = problem.rates["turnover_rate_fte"]
    if published is None:
        wanted = np.full(inpost.shape, problem.centre("leavers_fte"))
    else:
        wanted = numerator_for(RATES["turnover_rate_fte"], published, {"inpost_fte": inpost}, problem.year)
    leavers = np.clip(np.round(wanted), low, high).astype(np.int64)
    return leavers, _achieved(problem, "turnover_rate_fte", leavers_fte=leavers, inpost_fte=inpost)


def _best_absence(problem: _Problem, inpost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    days = problem.candidates("working_days_lost_fte")
    deviation = _achieved(problem, "absence_rate_fte", working_days_lost_fte=days[None, :], inpost_fte=inpost[:, None])
    best = np.argmin(_score(deviation), axis=1)
    rows = np.arange(len(inpost))
    return days[best], deviation[rows, best]


def _best_cover(problem: _Problem, agency: np.ndarray, vacancy: np.ndarray) -> tuple[np.ndarray, ...]:
    """Agency cover for each (agency, vacancy) pair: it alone enters the two cover rates."""
    cover = problem.candidates("agency_cover_fte")[None, :]
    over_agency = _achieved(problem, "agency_cover_rate_fte", agency_cover_fte=cover, agency_fte=agency[:, None])
    over_vacancy = _achieved(
        problem, "vacancy_agency_cover_rate_fte", agency_cover_fte=cover, vacancy_fte=vacancy[:, None]
    )
    over_agency, over_vacancy = np.broadcast_arrays(over_agency[:, None, :], over_vacancy[None, :, :])
    best = np.argmin(_score(over_agency, over_vacancy), axis=2)
    pick = (*np.ix_(np.arange(len(agency)), np.arange(len(vacancy))), best)
    return cover[0][best], over_agency[pick], over_vacancy[pick]


def _best_case_holders(problem: _Problem, ceiling: np.ndarray) -> np.ndarray:
    """Case holders' FTE for each ceiling (in-post plus agency FTE: case holders are among them)."""
    low, high = problem.interval["case_holders_fte"]
    caseload = problem.rates["caseload_fte"]
    if caseload:
        wanted = denominator_for(RATES["caseload_fte"], caseload, {"cases": problem.whole["cases"]}, problem.year)
    else:
        wanted = problem.centre("case_holders_fte")
    if agency_records_only(problem.whole) and problem.whole["cases"]:
        records = problem.whole["agency_headcount"]
        choices = [_whole_records_holding(low, high, int(agency), records, wanted) for agency in np.ravel(ceiling)]
        return np.array(choices, dtype=np.int64).reshape(np.shape(ceiling))
    high = np.maximum(low, np.minimum(high, ceiling))
    return np.clip(round(wanted), low, high).astype(np.int64)


def agency_records_only(units: dict[str, int]) -> bool:
    """No LA-employed worker in post: the records in post are agency records, one per head, which cannot
    take a second post, so the case holders' FTE is that of some whole records."""
    return units["inpost_headcount"] == 0


def _whole_records_holding(low: int, high: int, agency: int, records: int, wanted: float) -> int:
    """The case holders' FTE nearest `wanted` that `holders` of the agency records can hold while the others,
    at most 1 FTE each, hold the rest (Isles of Scilly 2024: 3 agency workers, 3.0 FTE, 1.0 FTE of case holders)."""
    best = min(high, agency)
    for holders in range(1, records + 1):
        least, most = max(low, agency - (records - holders) * MICRO), min(high, holders * MICRO, agency)
        if least <= most:
            choice = int(min(max(round(wanted), least), most))
            if abs(choice - wanted) < abs(best - wanted) or not low <= best <= min(high, agency):
                best = choice
    return best


def _case_holders_deviation(problem: _Problem, in_post: np.ndarray) -> np.ndarray:
    """How far the caseload lands for each in-post plus agency FTE, which bounds the case holders; a
    miss where it cannot hold even the fewest case holders the interval allows."""
    ceiling = in_post * COUNT_UNITS["case_holders_fte"] // MICRO
    holders = _best_case_holders(problem, ceiling)
    achieved = _achieved(problem, "caseload_fte", cases=np.asarray(problem.whole["cases"]), case_holders_fte=holders)
    return np.where(ceiling >= problem.interval["case_holders_fte"][0], achieved, UNDEFINED_RATE_DEVIATION)


def _search(problem: _Problem) -> dict[str, int]:
    inpost = problem.candidates("inpost_fte")
    agency = problem.candidates("agency_fte")
    vacancy = problem.candidates("vacancy_fte")
    leavers, dev_turnover = _best_leavers(problem, inpost)
    days, dev_absence = _best_absence(problem, inpost)
    cover, dev_cover, dev_vacancy_cover = _best_cover(problem, agency, vacancy)
    i, a, v = inpost[:, None, None], agency[None, :, None], vacancy[None, None, :]
    score = _score(
        dev_turnover[:, None, None],
        dev_absence[:, None, None],
        _achieved(problem, "agency_rate_fte", agency_fte=a, inpost_fte=i),
        _achieved(problem, "vacancy_rate_fte", vacancy_fte=v, inpost_fte=i),
        dev_cover[None, :, :],
        dev_vacancy_cover[None, :, :],
        _case_holders_deviation(problem, i + a),
    )
    best_i, best_a, best_v = np.unravel_index(int(np.argmin(score)), score.shape)
    return {
        "inpost_fte": int(inpost[best_i]),
        "agency_fte": int(agency[best_a]),
        "vacancy_fte": int(vacancy[best_v]),
        "leavers_fte": int(leavers[best_i]),
        "working_days_lost_fte": int(days[best_i]),
        "agency_cover_fte": int(cover[best_a, best_v]),
    }


def _rate_checks(published: dict[str, float | None], units: dict[str, int], year: int) -> dict[str, RateCheck]:
    values = {m: units[m] / COUNT_UNITS[m] for m in units}
    return {name: RateCheck(published.get(name), rate.of(values, year)) for name, rate in RATES.items()}


def with_units(targets: Targets, units: dict[str, int], year: int) -> Targets:
    """The return with some totals moved inside their intervals, its rates checked again."""
    published = {name: check.published for name, check in targets.rates.items()}
    moved = {m: units[m] - targets.units[m] + targets.moved.get(m, 0) for m in COUNTS}
    return Targets(
        units=units,
        rates=_rate_checks(published, units, year),
        intervals=targets.intervals,
        moved={m: amount for m, amount in moved.items() if amount},
    )


def calibrate(figures: FilledFigures, year: int, scale: float = 1.0) -> Targets:
    """Exact totals for one return; `scale` multiplies every count (rates are kept).

    FTE totals are first kept within their headcounts (one post each); only where a published
    rate needs it may someone hold two posts. Agency FTE always stays within the agency headcount,
    which counts records (North Tyneside 2024: 24 agency records, 24.0 FTE, agency cover 4.95).
    """
    targets = _solve(_Problem(figures, year, scale, fte_within_headcount=True))
    if targets.unmet:
        uncapped = _solve(_Problem(figures, year, scale, fte_within_headcount=False))
        if uncapped.excess < targets.excess:
            return uncapped
    return targets


def _solve(problem: _Problem) -> Targets:
    units = dict(problem.whole)
    units.update(_search(problem))
    units["starters_fte"] = problem.centre("starters_fte")
    ceiling = units["inpost_fte"] + units["agency_fte"]
    units["case_holders_fte"] = int(_best_case_holders(problem, np.asarray(ceiling)))
    return Targets(units=units, rates=_rate_checks(problem.rates, units, problem.year), intervals=problem.interval)
