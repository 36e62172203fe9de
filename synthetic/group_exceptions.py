"""DfE's group figures that are not sums (or ratios of sums) of its LA rows: the reconciliation exceptions.

`group_total_exceptions(release_dir)` lists every (time_period, area_code, measure) of a region,
London sub-region or England row that the LA rows cannot reproduce, with the reason and evidence:

- a count whose DfE total leaves out a suppressed LA's value, or that no choice of its members'
  values inside their rounding reaches (see `group_checks`);
- a rate that no choice of the group's counts brings within GROUP_RATE_TOLERANCE: DfE left a
  suppressed LA out of the rate but not out of the counts (West Midlands 2024 agency rate, 13.9,
  is 12.5 with Birmingham's agency FTE, which DfE's agency total holds);
- a rate of a count exception that the generated counts miss (where they match, it is by chance).

`python -m synthetic.group_exceptions [release_dir]` prints them as CSV rows
(time_period, area_code, measure, reason), the columns of the reconciliation-exceptions seed.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from pathlib import Path

from orchestration.lib import paths
from synthetic.calibration import Targets, calibrate
from synthetic.group_checks import CountCheck, Key, YearChecks
from synthetic.group_fitting import fit_group_totals
from synthetic.groups import Group
from synthetic.imputation import LOW, fill_suppressed
from synthetic.measures import COUNT_UNITS, COUNTS, RATES, Rate, is_whole
from synthetic.release import load_release

GROUP_RATE_TOLERANCE = 0.1
"""A recomputed group rate must lie this close to DfE's (the warehouse's reconciliation tolerance)."""

Entry = dict[str, object]


def _shown(value: float, measure: str) -> str:
    return f"{value:.0f}" if is_whole(measure) else f"{value:.1f}"


def _rate_text(rate: float | None) -> str:
    return "undefined" if rate is None else f"{rate:.2f}"


def _listed(members: Iterable[str]) -> str:
    named = ", ".join(members)
    return f"; suppressed: {named}" if named else ""


def _misses(rate: float | None, published: float) -> bool:
    return rate is None or abs(rate - published) > GROUP_RATE_TOLERANCE


def _out_of_reach(lowest: float | None, highest: float | None, published: float) -> bool:
    """No choice of the group's counts gives a rate close enough to DfE's."""
    if lowest is None or highest is None:
        return True
    return not lowest - GROUP_RATE_TOLERANCE <= published <= highest + GROUP_RATE_TOLERANCE


class _YearExceptions:
    """One collection year's exceptions, judged on the LA-years' rounding and on the fitted targets."""

    def __init__(self, checks: YearChecks, fitted: dict[Key, Targets]):
        self.checks, self.fitted, self.year = checks, fitted, checks.year

    def entries(self) -> list[Entry]:
        found = []
        for group in self.checks.groups:
            checks = [self.checks.counts[(group.area_code, measure)] for measure in COUNTS]
            found += [self.count_entry(c) for c in checks if c.window is not None and c.target is None]
            found += [entry for name, rate in RATES.items() if (entry := self.rate_entry(group, name, rate))]
        return found

    def entry(self, group: Group, measure: str, reason: str, **evidence: object) -> Entry:
        return {
            "time_period": self.year,
            "area_code": group.area_code,
            "measure": measure,
            "reason": reason,
            "published": group.value(measure),
            **evidence,
        }

    def suppressed(self, group: Group, measures: tuple[str, ...]) -> list[dict[str, object]]:
        """Every member's imputed value of these counts, with its symbol and whether DfE's totals hold it."""
        return [
            {
                "old_la_code": unit,
                "measure": i.measure,
                "symbol": i.symbol,
                "value": i.value,
                "in_dfe_totals": i.in_dfe_totals,
            }
            for unit in group.members
            for i in self.checks.figures[(unit, self.year)].imputations
            if i.measure in measures
        ]

    def count_entry(self, check: CountCheck) -> Entry:
        group, measure = check.group, check.measure
        published = group.value(measure) or 0.0
        total = sum(self.checks.figures[(unit, self.year)].counts[measure] for unit in group.members)
        gap = f"{_shown(abs(total - published), measure)} {'above' if total > published else 'below'}"
        sums = f"the LA rows, estimates included, add up to {_shown(total, measure)}, {gap} DfE's"
        sums += f" {_shown(published, measure)}"
        suppressed = self.suppressed(group, (measure,))
        if check.left_out:
            named = ", ".join(f"{unit} ({i.symbol}, estimated {i.value:g})" for unit, i in check.left_out)
            reason = f"DfE's total leaves out {named}: {sums}"
        else:
            room = (check.reach[1] - check.reach[0]) / 2 / COUNT_UNITS[measure]
            reason = f"{sums}, more than the members' rounding moves them ({room:g})"
            reason += _listed(f"{s['old_la_code']} ({s['symbol']}, {s['value']:g})" for s in suppressed)
        evidence = {"members_value": round(total, 6), "gap": round(published - total, 6), "suppressed": suppressed}
        return self.entry(group, measure, reason, **evidence)

    def rate_entry(self, group: Group, name: str, rate: Rate) -> Entry | None:
        """A group rate the LA rows miss: out of reach of any choice of counts, or off a count exception."""
        published = group.value(name)
        if published is None:
            return None
        exceptions = [c for c in rate.counts if self.checks.fitted_window(group.area_code, c) is None]
        generated = rate.of(self.generated_sums(group, rate.counts), self.year)
        lowest, highest = self.rate_reach(group, rate)
        if not (_out_of_reach(lowest, highest, published) or (exceptions and _misses(generated, published))):
            return None
        if exceptions:
            reason = f"follows from its count exception(s) ({', '.join(exceptions)}):"
            reason += f" the LA rows give {_rate_text(generated)}"
        else:
            reason = "DfE's rate is not the ratio of its own totals,"
            reason += f" which gives {_rate_text(lowest)} to {_rate_text(highest)}"
        reason += f", not DfE's {published:.1f}"
        suppressed = self.suppressed(group, rate.counts)
        reason += _listed(f"{s['old_la_code']} ({s['measure']} {s['symbol']})" for s in suppressed)
        lacking = tuple(sorted({str(s["old_la_code"]) for s in suppressed if s["symbol"] != LOW}))
        without = rate.of(self.generated_sums(group, rate.counts, lacking), self.year) if lacking else None
        if lacking:
            reason += f"; without {', '.join(lacking)} the LA rows give {_rate_text(without)}"
        evidence = {"reachable": [lowest, highest], "generated": generated, "without_suppressed": without}
        return self.entry(group, name, reason, **evidence, suppressed=suppressed)

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
    """Every (time_period, area_code, measure) of the releases' group rows that the LA rows cannot reproduce.

    Each entry says why in `reason`, with the evidence: DfE's `published` value; for a count the
    members' sum (`members_value`, imputed values included) and the `gap`; for a rate the
    `reachable` range and the `generated` value; and the members whose value was `suppressed`
    (symbol, imputed value, whether DfE's totals hold it).
    """
    release = load_release(release_dir)
    figures = fill_suppressed(release)
    targets = {key: calibrate(filled, key[1]) for key, filled in figures.items()}
    fitted = fit_group_totals(release, figures, targets)
    found = []
    for year in release.years:
        found += _YearExceptions(YearChecks(release, figures, targets, year), fitted).entries()
    return found


def main(argv: list[str]) -> None:
    release_dir = Path(argv[0]) if argv else paths.dfe_releases_dir()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["time_period", "area_code", "measure", "reason"])
    for entry in group_total_exceptions(release_dir):
        writer.writerow([entry["time_period"], entry["area_code"], entry["measure"], entry["reason"]])


if __name__ == "__main__":
    main(sys.argv[1:])
