"""The DfE counts and rates a synthetic return must reproduce, as docs/measures.md defines them.

Counts are held as whole numbers of the unit each is written in: FTE totals in millionths (the
worker FTE and FTE30 are written with 6 decimal places), the LA-level vacancy and agency-cover FTE
and the working days lost in hundredths (written with 2), headcounts and cases as they are. A
total of written values is then exact, so the file re-aggregates to exactly the chosen target.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

MICRO = 1_000_000
CENTI = 100
WHOLE = 1

BASE_WORKING_DAYS = 253


def working_days(year: int) -> int:
    """Working days in collection year `year`, the divisor of the published absence rate.

    253, and 254 in a year holding 29 February (2020, 2024): that reproduces every published
    absence rate of 2017-2024, where 253 alone misses 27 LA rates of 2020 and 2024.
    """
    return BASE_WORKING_DAYS + calendar.isleap(year)


RATE_TOLERANCE = 0.05
"""A recomputed rate reproduces a published one when it rounds to it (1 decimal place)."""

COUNT_UNITS: dict[str, int] = {
    "inpost_fte": MICRO,
    "inpost_headcount": WHOLE,
    "starters_fte": MICRO,
    "starters_headcount": WHOLE,
    "leavers_fte": MICRO,
    "leavers_headcount": WHOLE,
    "agency_fte": MICRO,
    "agency_headcount": WHOLE,
    "agency_cover_fte": CENTI,
    "vacancy_fte": CENTI,
    "case_holders_fte": MICRO,
    "cases": WHOLE,
    "working_days_lost_fte": CENTI,
}
COUNTS = tuple(COUNT_UNITS)
HEADCOUNT_OF_FTE = {
    "inpost_fte": "inpost_headcount",
    "starters_fte": "starters_headcount",
    "leavers_fte": "leavers_headcount",
    "agency_fte": "agency_headcount",
}


def is_whole(measure: str) -> bool:
    """Headcounts and cases are published as whole numbers, everything else to 1 decimal place."""
    return COUNT_UNITS[measure] == WHOLE


@dataclass(frozen=True)
class Rate:
    numerator: str
    denominator: tuple[str, ...]
    factor: float
    per_working_day: bool = False

    @property
    def counts(self) -> tuple[str, ...]:
        """The counts it is a ratio of, each once (agency FTE is both numerator and part of the denominator)."""
        return tuple(dict.fromkeys((self.numerator, *self.denominator)))

    def of(self, counts: dict[str, float | None], year: int) -> float | None:
        """The rate from counts, or None when a count is missing or the denominator is zero."""
        factor = self.factor / working_days(year) if self.per_working_day else self.factor
        top = counts.get(self.numerator)
        parts = [counts.get(name) for name in self.denominator]
        if top is None or any(part is None for part in parts):
            return None
        bottom = sum(parts)  # type: ignore[arg-type]
        return None if bottom == 0 else top / bottom * factor


RATES: dict[str, Rate] = {
    "turnover_rate_fte": Rate("leavers_fte", ("inpost_fte",), 100),
    "turnover_rate_headcount": Rate("leavers_headcount", ("inpost_headcount",), 100),
    "agency_rate_fte": Rate("agency_fte", ("agency_fte", "inpost_fte"), 100),
    "agency_rate_headcount": Rate("agency_headcount", ("agency_headcount", "inpost_headcount"), 100),
    "agency_cover_rate_fte": Rate("agency_cover_fte", ("agency_fte",), 100),
    "vacancy_rate_fte": Rate("vacancy_fte", ("vacancy_fte", "inpost_fte"), 100),
    "vacancy_agency_cover_rate_fte": Rate("agency_cover_fte", ("vacancy_fte",), 100),
    "caseload_fte": Rate("cases", ("case_holders_fte",), 1),
    "absence_rate_fte": Rate("working_days_lost_fte", ("inpost_fte",), 100, per_working_day=True),
}
