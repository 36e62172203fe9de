"""Every entry of the reconciliation-exceptions register is true by DfE's own arithmetic.

The register (dbt_project/seeds/benchmarks/reconciliation_exceptions.csv) says, per group row, year
and measure, what DfE did: a total that leaves suppressed councils out, a rate that leaves them out
although the counts hold them, and so on. Here each claim is checked against the release file
alone, with exact decimals: a group total against the sum of its published rows, where every
published value (and the total) is within half a rounding unit of the true one. Regions and London
sub-regions add up council rows; London adds up Inner and Outer London; England adds up the regions.
Nothing here comes from the generator: only the registry's precision and rate formulas.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from orchestration.lib import measures as registry
from orchestration.lib import paths
from synthetic.group_exceptions import group_total_exceptions, write_seed

RELEASES = paths.PROJECT_ROOT / "raw" / "dfe" / "csww_indicators"
REGISTER = paths.PROJECT_ROOT / "dbt_project" / "seeds" / "benchmarks" / "reconciliation_exceptions.csv"
ENGLAND, LONDON, LONDON_SUB_REGIONS = "E92000001", "E12000007", ("E13000001", "E13000002")
LOW = "low"


def half(measure: str) -> Decimal:
    return Decimal(5).scaleb(-registry.measures()[measure].decimals - 1)


def number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except ArithmeticError:
        return None


@dataclass(frozen=True)
class Span:
    """Where a true value lies, given DfE's rounded figures."""

    low: Decimal
    high: Decimal

    def __sub__(self, other: Span) -> Span:
        return Span(self.low - other.high, self.high - other.low)

    def meets(self, published: Decimal, measure: str) -> bool:
        """Some value in the span is published as `published` (half-up at the measure's precision)."""
        return self.low < published + half(measure) and published - half(measure) <= self.high


class Release:
    """One DfE release file: council rows by year and innermost group, group rows by year and code."""

    def __init__(self, rows: list[dict[str, str]]):
        self.councils: dict[tuple[int, str], dict[str, str]] = {}
        self.groups: dict[tuple[int, str], dict[str, str]] = {}
        for row in rows:
            year = int(row["time_period"])
            if row["geographic_level"] == "Local authority":
                self.councils[(year, row["old_la_code"].split(" / ")[0])] = row
            elif row["geographic_level"] == "Regional":
                self.groups[(year, row["region_code"])] = row
            else:
                self.groups[(year, ENGLAND)] = row

    def members(self, year: int, code: str) -> list[dict[str, str]]:
        return [row for (y, _), row in self.councils.items() if y == year and row["region_code"] == code]

    def parts(self, year: int, code: str) -> list[dict[str, str]]:
        """The rows a group's total adds up."""
        if code == ENGLAND:
            return [r for (y, c), r in self.groups.items() if y == year and c.startswith("E12")]
        if code == LONDON:
            return [self.groups[(year, sub)] for sub in LONDON_SUB_REGIONS]
        return self.members(year, code)

    def residual(self, year: int, code: str, measure: str) -> tuple[Decimal, Decimal, list[str]]:
        """(total less its published rows, how far rounding alone can take that from 0, suppressed councils)."""
        rows = self.parts(year, code)
        published = [number(r[measure]) for r in rows if number(r[measure]) is not None or r[measure] == LOW]
        suppressed = [
            r["old_la_code"].split(" / ")[0] for r in rows if number(r[measure]) is None and r[measure] != LOW
        ]
        total = number(self.groups[(year, code)][measure])
        assert total is not None, (year, code, measure)
        return total - sum(v or Decimal(0) for v in published), half(measure) * (len(published) + 1), suppressed

    def total(self, year: int, code: str, measure: str) -> Span:
        value = number(self.groups[(year, code)][measure])
        assert value is not None, (year, code, measure)
        return Span(value - half(measure), value + half(measure))

    def councils_value(self, year: int, councils: list[str], measure: str) -> Span | None:
        """The councils' values of a count, each published or, if suppressed, its group's residual
        (when every suppressed council of that group is among them); None when the rows cannot say."""
        low = high = Decimal(0)
        for region in sorted({self.councils[(year, c)]["region_code"] for c in councils}):
            mine = [c for c in councils if self.councils[(year, c)]["region_code"] == region]
            residual, bound, suppressed = self.residual(year, region, measure)
            for council in mine:
                value = self.councils[(year, council)][measure]
                if number(value) is not None:
                    low, high = low + number(value) - half(measure), high + number(value) + half(measure)
                elif value == LOW:
                    high += half(measure)
            if any(c in suppressed for c in mine):
                if not set(suppressed) <= set(mine):
                    return None
                low, high = low + max(residual - bound, Decimal(0)), high + residual + bound
        return Span(low, high)


def rate_span(rate: registry.Rate, counts: dict[str, Span], year: int) -> Span:
    """The rate's range over the counts' spans: it rises with its numerator, falls with the rest."""
    factor = Decimal(str(rate.scale)) / (registry.working_days(year) if rate.per_working_day else 1)

    def at(numerator_end: str) -> Decimal:
        other = "low" if numerator_end == "high" else "high"
        top = getattr(counts[rate.numerator], numerator_end)
        bottom = sum((top if name == rate.numerator else getattr(counts[name], other)) for name in rate.denominator)
        return top / bottom * factor

    return Span(at("low"), at("high"))


def left_out(release: Release, year: int, code: str, measure: str, councils: list[str]) -> list[str]:
    """What contradicts "the region's (or sub-region's) total leaves out these councils": one of them is
    published, or the total is beyond rounding of its published rows although it is said to hold none of
    the suppressed ones, or within it although it is said to hold some."""
    residual, bound, suppressed = release.residual(year, code, measure)
    listed = {c for c in councils if release.councils[(year, c)]["region_code"] == code}
    problems = [f"DfE published a value for {c}" for c in sorted(listed - set(suppressed))]
    held = set(suppressed) - listed
    if not held and abs(residual) > bound:
        problems.append(f"{code}'s total is {residual} above its published rows (±{bound}): it holds them")
    if held and residual <= bound:
        problems.append(f"{code}'s total holds nothing beyond rounding ({residual}) for {sorted(held)}")
    return problems


def contradictions(register: list[dict[str, str]], release: Release) -> list[str]:
    """Every register entry whose claim DfE's own rows contradict, with what the rows say."""
    found = []
    entries = {(int(e["time_period"]), e["area_code"], e["measure"]): e for e in register}
    for (year, code, measure), entry in entries.items():
        claim, councils = entry["claim"], entry["councils"].split()
        where = f"{year} {code} {measure} ({claim} {' '.join(councils)})"
        if claim == "total_leaves_out":
            if code in (ENGLAND, LONDON):
                residual, bound, _ = release.residual(year, code, measure)
                if abs(residual) > bound:
                    found.append(f"{where}: the total is {residual} off the sum of its parts, beyond ±{bound}")
                inner = {release.councils[(year, c)]["region_code"] for c in councils}
                found += [
                    f"{where}: {problem}"
                    for g in sorted(inner)
                    for problem in left_out(release, year, g, measure, councils)
                ]
            else:
                found += [f"{where}: {problem}" for problem in left_out(release, year, code, measure, councils)]
        elif claim == "total_out_of_reach":
            residual, bound, suppressed = release.residual(year, code, measure)
            if suppressed or abs(residual) <= bound:
                found.append(f"{where}: residual {residual} within ±{bound} or councils suppressed {suppressed}")
        elif claim == "rate_not_ratio_of_totals":
            rate, published = registry.rates()[measure], number(release.groups[(year, code)][measure])
            totals = {name: release.total(year, code, name) for name in rate.counts}
            if rate_span(rate, totals, year).meets(published, measure):
                found.append(f"{where}: DfE's totals give its rate {published}")
            removed = {name: release.councils_value(year, councils, name) for name in rate.counts}
            if any(span is None for span in removed.values()):
                found.append(f"{where}: DfE's rows do not say what {councils} add")
            elif not rate_span(rate, {n: totals[n] - removed[n] for n in rate.counts}, year).meets(published, measure):
                found.append(f"{where}: without {councils} DfE's totals still do not give {published}")
        elif claim == "rate_follows_from_count":
            counts = registry.rates()[measure].counts
            if not any(entries.get((year, code, name), {}).get("claim", "").startswith("total_") for name in counts):
                found.append(f"{where}: none of {counts} is a count exception")
        else:
            found.append(f"{where}: unknown claim")
    return found


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def release() -> Release:
    return Release([row for path in sorted(RELEASES.glob("*.csv")) for row in _rows(path)])


@pytest.fixture(scope="module")
def register() -> list[dict[str, str]]:
    return _rows(REGISTER)


def test_every_registered_reason_agrees_with_dfe_arithmetic(register, release):
    assert len(register) > 50
    assert contradictions(register, release) == []


def test_a_reason_dfe_arithmetic_contradicts_is_caught(register, release):
    """The register once said DfE's 2024 North East leavers total leaves out Sunderland: it is 271.5,
    its published councils add up to 269.5, so Sunderland's 2.0 FTE is in it."""
    false_reason = {"time_period": "2024", "area_code": "E12000001", "measure": "leavers_fte",
                    "claim": "total_leaves_out", "councils": "394", "reason": "DfE leaves Sunderland out"}  # fmt: skip
    kensington = {"time_period": "2024", "area_code": "E13000001", "measure": "agency_fte",
                  "claim": "total_leaves_out", "councils": "207 213", "reason": ""}  # fmt: skip
    found = sorted(contradictions([*register, false_reason, kensington], release))
    assert len(found) == 2
    assert found[0].startswith("2024 E12000001 leavers_fte") and "total is 2.0 above" in found[0]
    assert found[1].startswith("2024 E13000001 agency_fte") and "total is 4.9 above" in found[1]


def test_register_is_what_make_exceptions_writes():
    """The seed is generated (`make exceptions`), never edited by hand, and the same releases give the same file."""
    written = io.StringIO()
    write_seed(group_total_exceptions(RELEASES), written)
    assert REGISTER.read_text(encoding="utf-8") == written.getvalue()
