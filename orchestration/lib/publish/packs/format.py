"""How a figure is written, shared by the formats so a value reads the same in each.

`published` rounds a value to the measure's published decimals, half up as DfE rounds; the other
functions only add the thousands separator, the unit and the sign, or show the symbol that stands
in for a value.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from orchestration.lib.publish.packs.model import Measure

# Quartile bands, A best: fills that stay distinct in greyscale print and for colour-blind readers
# (the letter is always printed too).
BAND_FILLS = {"A": "B7E1CD", "B": "E2F0D9", "C": "FCE4C4", "D": "F4C7C3"}

# Chart series: colour-blind-safe (Okabe-Ito) and told apart by line style as well as colour.
SERIES_STYLE = {
    "council": {"colour": "0072B2", "dash": "solid", "width": 2.75},
    "statistical_neighbours": {"colour": "E69F00", "dash": "solid", "width": 1.75},
    "region": {"colour": "009E73", "dash": "dash", "width": 1.75},
    "england": {"colour": "4D4D4D", "dash": "sysDot", "width": 1.75},
}


def is_missing(value: object) -> bool:
    """None, NaN or pandas' NA: a figure that is not there."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def published(value: float | None, decimals: int) -> float | None:
    """`value` rounded half up to `decimals` places, as DfE rounds: 28.75 is 28.8.

    The warehouse publishes each rate as the double nearest its exact value, so the double's
    shortest decimal form is the exact value wherever that has few places (28.75, 28.65) and
    rounding that decimal rounds the exact value; Python's own round() and format() would round
    the binary double (28.65 is 28.6499999..., shown 28.6) and round ties to even.
    """
    if is_missing(value):
        return None
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP))


def value_text(measure: Measure, value: float | None, symbol: str = "") -> str:
    """'12.5%', '1,234', '15.4' or the symbol in place of a withheld value."""
    if symbol or is_missing(value):
        return symbol or "x"
    text = f"{value:,.{measure.decimals}f}"
    return f"{text}%" if measure.unit == "%" else text


def change_text(measure: Measure, change: float | None) -> str:
    """'+0.6 pp' for a rate (percentage points), '-0.9' for a caseload; '' when there is none."""
    if is_missing(change):
        return ""
    # No sign on no change: "+0.0" reads as a rise.
    text = f"{change:+.{measure.decimals}f}" if change else f"{0:.{measure.decimals}f}"
    return f"{text} pp" if measure.unit == "%" else text


def excel_number_format(measure: Measure) -> str:
    """The cell holds the published (rounded) value; the format only adds the unit."""
    if measure.unit == "%":
        return '0.0"%"'
    return "#,##0" if measure.decimals == 0 else "#,##0.0"


def excel_change_format(measure: Measure) -> str:
    suffix = '" pp"' if measure.unit == "%" else ""
    return f"+0.0{suffix};-0.0{suffix};0.0{suffix}"


def long_date(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""
