"""DfE's group figures that are not sums (or ratios of sums) of its LA rows: the reconciliation exceptions.

`group_total_exceptions(release_dir)` lists every (time_period, area_code, measure) of a region,
London sub-region or England row that the LA rows cannot reproduce, each with a `claim` saying what
DfE did, the `councils` it concerns and a `reason` giving DfE's own arithmetic:

- `total_leaves_out`: a count whose DfE total is the sum of its published rows without some
  suppressed councils, which the returns include. For a region or London sub-region the total is
  within `residual_bound` of the sum of its published council rows (each published row and the
  total are within half a rounding unit of the true values), once any residual DfE's total holds
  for other suppressed councils is given to them (see `imputation`); for London and England the
  total is within rounding of the sum of its sub-region or region rows, which leave them out.
- `total_out_of_reach`: a count that no choice of its members' values inside their rounding
  reaches, no council being suppressed.
- `rate_not_ratio_of_totals`: a rate that no choice of the group's counts brings to DfE's at its
  rounding: DfE left suppressed councils out of the rate but not out of the counts (West Midlands
  2024 agency rate, 13.9, is 12.5 with Birmingham's agency FTE, which DfE's agency total holds).
- `rate_follows_from_count`: a rate of a count exception that the generated counts miss.

`python -m synthetic.group_exceptions [release_dir] > dbt_project/seeds/benchmarks/reconciliation_exceptions.csv`
(`make exceptions`) writes them as the reconciliation-exceptions seed; the same releases always give
the same file. Tolerances are DfE's rounding: half a unit of the published precision, half-up.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from orchestration.lib import measures as registry
from orchestration.lib import paths
from synthetic.calibration import Targets, calibrate
from synthetic.group_checks import CountCheck, Key, YearChecks
from synthetic.group_fitting import fit_group_totals
from synthetic.groups import ENGLAND, Group
from synthetic.imputation import LOW, fill_suppressed, residual_bound
from synthetic.measures import COUNT_UNITS, COUNTS, RATES, Rate
from synthetic.release import Release, load_release

TOTAL_LEAVES_OUT = "total_leaves_out"
TOTAL_OUT_OF_REACH = "total_out_of_reach"
RATE_NOT_RATIO_OF_TOTALS = "rate_not_ratio_of_totals"
RATE_FOLLOWS_FROM_COUNT = "rate_follows_from_count"
CLAIMS = (TOTAL_LEAVES_OUT, TOTAL_OUT_OF_REACH, RATE_NOT_RATIO_OF_TOTALS, RATE_FOLLOWS_FROM_COUNT)
SEED_COLUMNS = ("time_period", "area_code", "measure", "claim", "councils", "reason")

Entry = dict[str, object]


def published_text(value: float | Decimal, measure: str) -> str:
    """A value as DfE would publish it: half-up at the measure's precision."""
    decimals = registry.measures()[measure].decimals
    return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def rounds_to(value: float | None, published: float, measure: str) -> bool:
    """Whether `value` is published as `published` (DfE's rounding: half-up at its precision)."""
    return value is not None and Decimal(published_text(value, measure)) == Decimal(str(published))


def _rate_text(rate: float | None) -> str:
    return "undefined" if rate is None else f"{rate:.2f}"


def _span_text(lowest: float | None, highest: float | None) -> str:
    low, high = _rate_text(lowest), _rate_text(highest)
    return low if low == high else f"{low} to {high}"


def _reaches(lowest: float | None, highest: float | None, published: float, measure: str) -> bool:
    """Some rate between `lowest` and `highest` is published as DfE's value."""
    if lowest is None or highest is None:
        return False
    half = float(Decimal(5).scaleb(-registry.measures()[measure].decimals - 1))
    return lowest < published + half and published - half <= highest


class _YearExceptions:
    """One collection year's exceptions, judged on the LA-years' rounding and on the fitted targets."""

    def __init__(self, release: Release, checks: YearChecks, fitted: dict[Key, Targets]):
        self.release, self.checks, self.fitted, self.year = release, checks, fitted, checks.year

    def entries(self) -> list[Entry]:
        found: list[Entry] = []
        for group in self.checks.groups:
            counts = [self.checks.counts[(group.area_code, measure)] for measure in COUNTS]
            found += [self.count_entry(c) for c in counts if c.window is not None and c.target is None]
            found += [entry for name, rate in RATES.items() if (entry := self.rate_entry(group, name, rate))]
        return found

    # -- naming -------------------------------------------------------------------------------
    def area_name(self, group: Group) -> str:
        if group.area_code == ENGLAND:
            return "England"
        return self.release.region_names.get(group.area_code, group.area_code)

    def council(self, unit: str, measure: str) -> str:
        row = self.release.rows[(unit, self.year)]
        return f"{row.la_name} ({row.area_code}, '{row.text.get(measure, '')}')"

    def entry(self, group: Group, measure: str, claim: str, councils: Iterable[str], reason: str) -> Entry:
        return {
            "time_period": self.year,
            "area_code": group.area_code,
            "measure": measure,
            "claim": claim,
            "councils": " ".join(sorted(set(councils))),
            "reason": reason,
            "published": group.value(measure),
        }

    # -- counts -------------------------------------------------------------------------------
    def parts(self, group: Group, measure: str) -> tuple[list[str], Decimal, int]:
        """What DfE's total adds up: its council rows, or its sub-region or region rows (names, sum, how many)."""
        if group.subgroups:
            subgroups = [self.checks.by_code[code] for code in group.subgroups]
            values = [Decimal(sub.published[measure]) for sub in subgroups if sub.value(measure) is not None]
            return [self.area_name(sub) for sub in subgroups], sum(values, Decimal(0)), len(values)
        values = [
            Decimal(text)
            for unit in group.direct_members
            if self.release.rows[(unit, self.year)].number(measure) is not None
            for text in [self.release.rows[(unit, self.year)].text[measure]]
        ]
        return ["council rows"], sum(values, Decimal(0)), len(values)

    def count_entry(self, check: CountCheck) -> Entry:
        group, measure = check.group, check.measure
        published = Decimal(group.published[measure])
        names, summed, many = self.parts(group, measure)
        bound = residual_bound(measure, many)
        what = (
            f"its {many} published council rows"
            if names == ["council rows"]
            else f"its {' and '.join(names) if len(names) <= 2 else f'{many} region'} rows"
        )
        arithmetic = f"DfE's {self.area_name(group)} {measure}, {published}, against {what}, {summed}"
        arithmetic += f" (their rounding: ±{bound})" if bound else " (whole numbers: exact)"
        figures = self.checks.figures
        if not check.left_out:
            reason = f"{arithmetic}: no choice of the council values inside their rounding reaches it"
            return self.entry(group, measure, TOTAL_OUT_OF_REACH, [], reason)
        held = [
            (unit, i)
            for unit in group.members
            for i in figures[(unit, self.year)].imputations
            if i.measure == measure and i.in_dfe_totals and i.symbol != LOW
        ]
        reason = arithmetic
        if held:
            shares = " and ".join(f"{self.council(unit, measure)}, {i.value:g}" for unit, i in held)
            reason += f"; the {published - summed} beyond that is DfE's figure for {shares}"
        # Every council the total leaves out, those whose estimate is 0 (an `x` or `z` with nothing in post) too.
        left_out = [
            (unit, i)
            for unit in group.members
            for i in figures[(unit, self.year)].imputations
            if i.measure == measure and not i.in_dfe_totals
        ]
        named = ", ".join(f"{self.council(unit, measure)}, whose return adds {i.value:g}" for unit, i in left_out)
        reason += f"; it leaves out {named}"
        return self.entry(group, measure, TOTAL_LEAVES_OUT, [unit for unit, _ in left_out], reason)

    # -- rates --------------------------------------------------------------------------------
    def rate_entry(self, group: Group, name: str, rate: Rate) -> Entry | None:
        """A group rate the LA rows miss: out of reach of any choice of counts, or off a count exception."""
        published = group.value(name)
        if published is None:
            return None
        exceptions = [c for c in rate.counts if self.checks.fitted_window(group.area_code, c) is None]
        exceptions = [c for c in exceptions if self.checks.counts[(group.area_code, c)].window is not None]
        generated = rate.of(self.generated_sums(group, rate.counts), self.year)
        lowest, highest = self.rate_reach(group, rate)
        reachable = _reaches(lowest, highest, published, name)
        if reachable and (not exceptions or rounds_to(generated, published, name)):
            return None
        if exceptions:
            left_out = sorted(
                {unit for c in exceptions for unit, _ in self.checks.counts[(group.area_code, c)].left_out}
            )
            reason = (
                f"Follows from the {', '.join(exceptions)} exception(s): the returns give {_rate_text(generated)}, "
                f"DfE {published}"
            )
            return self.entry(group, name, RATE_FOLLOWS_FROM_COUNT, left_out, reason)
        lacking = self.suppressed(group, rate)
        without = rate.of(self.generated_sums(group, rate.counts, tuple(lacking)), self.year) if lacking else None
        reason = (
            f"DfE's {self.area_name(group)} {name}, {published}, is not the ratio of its own totals "
            f"({rate.formula()}), which gives {_span_text(lowest, highest)}"
        )
        if lacking:
            named = ", ".join(self.council(unit, name) for unit in lacking)
            reason += f"; without {named} the council rows give {_rate_text(without)}: DfE's rate leaves them out"
        return self.entry(group, name, RATE_NOT_RATIO_OF_TOTALS, lacking, reason)

    def suppressed(self, group: Group, rate: Rate) -> list[str]:
        """Members with a count of the rate, or the rate itself, not published (a `low` value is published as 0)."""
        return [
            unit
            for unit in group.members
            if any(
                self.release.rows[(unit, self.year)].number(m) is None
                and self.release.rows[(unit, self.year)].text.get(m) != LOW
                for m in rate.counts
            )
        ]

    def rate_reach(self, group: Group, rate: Rate) -> tuple[float | None, float | None]:
        """The lowest and highest rate the group's counts allow: it rises with its numerator only."""
        spans = {m: self.checks.counts[(group.area_code, m)].allowed for m in rate.counts}
        lowest = {m: (low if m == rate.numerator else high) / COUNT_UNITS[m] for m, (low, high) in spans.items()}
        highest = {m: (high if m == rate.numerator else low) / COUNT_UNITS[m] for m, (low, high) in spans.items()}
        return rate.of(lowest, self.year), rate.of(highest, self.year)  # type: ignore[arg-type]

    def generated_sums(
        self, group: Group, counts: tuple[str, ...], leaving_out: tuple[str, ...] = ()
    ) -> dict[str, float | None]:
        """The group's counts from the fitted targets (what the generated returns add up to)."""
        members = [unit for unit in group.members if unit not in leaving_out]
        return {m: sum(self.fitted[(unit, self.year)].value(m) for unit in members) for m in counts}


def group_total_exceptions(release_dir: Path) -> list[Entry]:
    """Every (time_period, area_code, measure) of the releases' group rows that the LA rows cannot reproduce."""
    release = load_release(release_dir)
    figures = fill_suppressed(release)
    targets = {key: calibrate(filled, key[1]) for key, filled in figures.items()}
    fitted = fit_group_totals(release, figures, targets)
    found = []
    for year in release.years:
        found += _YearExceptions(release, YearChecks(release, figures, targets, year), fitted).entries()
    return found


def write_seed(entries: list[Entry], out: object) -> None:
    writer = csv.writer(out, lineterminator="\n")  # type: ignore[arg-type]
    writer.writerow(SEED_COLUMNS)
    for entry in entries:
        writer.writerow([entry[column] for column in SEED_COLUMNS])


def main(argv: list[str]) -> None:
    release_dir = Path(argv[0]) if argv else paths.dfe_releases_dir()
    write_seed(group_total_exceptions(release_dir), sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
