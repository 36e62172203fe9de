"""The DfE counts and rates a synthetic return must reproduce, from the measure registry.

Counts are held as whole numbers of the unit each is written in (the registry's `input_decimals`):
FTE totals in millionths (the worker FTE and FTE30 are written with 6 decimal places), the LA-level
vacancy and agency-cover FTE and the working days lost in hundredths (written with 2), headcounts
and cases as they are. A total of written values is then exact, so the file re-aggregates to
exactly the chosen target.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from orchestration.lib import measures as registry
from orchestration.lib.measures import Rate, working_days

MICRO = 1_000_000
CENTI = 100
WHOLE = 1

BASE_WORKING_DAYS = registry.base_working_days()

COUNT_UNITS: dict[str, int] = {name: measure.count.unit for name, measure in registry.counts().items()}  # type: ignore[union-attr]
COUNTS = tuple(COUNT_UNITS)
RATES: dict[str, Rate] = registry.rates()
# The headcount of the same people as each FTE count, where the registry has one (FTE ≤ heads).
HEADCOUNT_OF_FTE = {
    name: f"{name.removesuffix('_fte')}_headcount"
    for name in COUNTS
    if name.endswith("_fte") and f"{name.removesuffix('_fte')}_headcount" in COUNT_UNITS
}

RECORD_HEADCOUNTS = frozenset(
    name
    for name, measure in registry.counts().items()
    if measure.count.distinct == ("record_number",)  # type: ignore[union-attr]
)
"""Headcounts that count records, not people (agency: DfE does not de-duplicate agency workers)."""
FTE_WITHIN_HEADCOUNT = frozenset(fte for fte, headcount in HEADCOUNT_OF_FTE.items() if headcount in RECORD_HEADCOUNTS)
"""FTE counts that can never exceed their headcount: one record, at most 1 FTE, per head."""

RATE_TOLERANCE = 0.5 * 10.0 ** -max(registry.measures()[name].decimals for name in RATES)
"""A recomputed rate reproduces a published one when it rounds to it (half a unit of its last place)."""

__all__ = ["CENTI", "MICRO", "WHOLE", "Rate", "working_days"]


def rounding_interval(measure: str, value_units: int) -> tuple[int, int]:
    """The amounts, in the count's written unit, that DfE's half-up rounding to its published precision
    turns into `value_units` (a published 5.0 FTE: 4.95 up to 5.049999)."""
    half = COUNT_UNITS[measure] // (2 * 10 ** registry.measures()[measure].decimals)
    return value_units - half, value_units + half - 1


def is_whole(measure: str) -> bool:
    """Headcounts and cases are published as whole numbers, everything else to 1 decimal place."""
    return registry.measures()[measure].is_whole


def rate_of_units(rate: Rate, units: Mapping[str, np.ndarray | int], year: int) -> np.ndarray:
    """The rate from counts in their written units (arrays broadcast together); NaN where undefined.

    Every count is brought to the finest written unit first. The products are exact, so the ratio
    is the correctly rounded ratio of the counts themselves.
    """
    finest = max(COUNT_UNITS[name] for name in rate.counts)
    top = units[rate.numerator] * (finest / COUNT_UNITS[rate.numerator])
    bottom = sum(units[name] * (finest / COUNT_UNITS[name]) for name in rate.denominator)
    if rate.per_working_day:
        bottom = bottom * working_days(year)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1) * rate.scale, np.nan)


def _finest(rate: Rate) -> int:
    return max(COUNT_UNITS[name] for name in rate.counts)


def numerator_for(rate: Rate, published: float, units: Mapping[str, np.ndarray | int], year: int) -> np.ndarray:
    """The numerator, in its written unit, that gives the `published` rate over these denominators."""
    if rate.numerator in rate.denominator:
        raise ValueError(f"{rate.numerator} is on both sides of its rate: no single numerator solves it.")
    finest = _finest(rate)
    bottom = sum(units[name] * (finest / COUNT_UNITS[name]) for name in rate.denominator)
    if rate.per_working_day:
        bottom = bottom * working_days(year)
    return bottom * published / rate.scale / (finest / COUNT_UNITS[rate.numerator])


def denominator_for(rate: Rate, published: float, units: Mapping[str, int], year: int) -> float:
    """The one-count denominator, in its written unit, that gives the `published` rate over this numerator."""
    if len(rate.denominator) != 1 or rate.per_working_day:
        raise ValueError(f"{rate.formula()}: only a single plain count can be solved for.")
    (name,) = rate.denominator
    return units[rate.numerator] / COUNT_UNITS[rate.numerator] / published * rate.scale * COUNT_UNITS[name]
