"""Values for the counts DfE did not publish (`c`, `x`, `z`, `u`, `low`), and how each was found.

Whether DfE's group total holds a suppressed LA's value is a matter of arithmetic on DfE's own rows:
the total of the LA's region (or London sub-region) less the sum of its published LA rows is the
residual. Each published row is within half a rounding unit of its true value and so is the total,
so with the suppressed LAs left out the residual lies within `residual_bound` of zero; beyond it,
the total holds them. Then the residual is theirs, shared in proportion to an estimate of each (LAs
published as `c` or `u`, whose value exists, before `x` or `z` ones), however odd the value (2024
North East: Sunderland's leavers are 2.0 FTE for 28 people, which DfE marked `u`). Otherwise DfE
left them out, and each is estimated from a ratio to a count that was published, taken from the
LA's own nearest years, else its region that year, else England. `low` means the true value rounds
to zero, and DfE's totals hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from orchestration.lib import measures as registry
from orchestration.lib.sources.dfe_release import as_number
from synthetic.measures import COUNTS, RATES, is_whole
from synthetic.release import Release

VALUE_EXISTS = ("c", "u")
"""Symbols of a value DfE has but did not publish: a residual is theirs before an `x` or `z` LA's."""
LOW = "low"
LOW_VALUE = 0.02

# Each count is estimated as a ratio to the first of these bases (a sum of counts) that is known,
# in this order of imputation, so a basis is filled before a count that leans on it.
BASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "inpost_fte": (("inpost_headcount",),),
    "inpost_headcount": (("inpost_fte",),),
    "agency_fte": (("agency_headcount",), ("inpost_fte",)),
    "agency_headcount": (("agency_fte",), ("inpost_headcount",)),
    "agency_cover_fte": (("agency_fte",),),
    "vacancy_fte": (("inpost_fte",),),
    "starters_fte": (("starters_headcount",), ("inpost_fte",)),
    "starters_headcount": (("starters_fte",), ("inpost_headcount",)),
    "leavers_fte": (("leavers_headcount",), ("inpost_fte",)),
    "leavers_headcount": (("leavers_fte",), ("inpost_headcount",)),
    "case_holders_fte": (("inpost_fte", "agency_fte"),),
    "cases": (("case_holders_fte",),),
    "working_days_lost_fte": (("inpost_fte",),),
}
TYPICAL_RATIO = {
    "inpost_headcount": 0.94,
    "inpost_fte": 1 / 0.94,
    "agency_headcount": 0.97,
    "agency_fte": 1 / 0.97,
    "starters_headcount": 0.96,
    "starters_fte": 1 / 0.96,
    "leavers_headcount": 0.94,
    "leavers_fte": 1 / 0.94,
    "case_holders_fte": 16.5,
}
"""Last resort when no release carries a count at all: England 2017-2024 ratios, by basis."""


@dataclass(frozen=True)
class Imputation:
    measure: str
    symbol: str
    value: float
    method: str
    in_dfe_totals: bool
    """Whether DfE's group totals hold the true value (a residual share, or `low`) or leave it out."""


@dataclass
class FilledFigures:
    """One LA-year's counts with every gap filled, and the rates DfE published for it."""

    counts: dict[str, float]
    rates: dict[str, float | None]
    low: frozenset[str] = frozenset()
    imputations: list[Imputation] = field(default_factory=list)


Key = tuple[str, int]


def residual_bound(measure: str, rounded_values: int) -> Decimal:
    """How far a total can be from the sum of `rounded_values` published values while holding nothing
    else: half a rounding unit for each of them and for the total (0 for whole numbers, published exactly)."""
    decimals = registry.measures()[measure].decimals
    return Decimal(0) if decimals == 0 else Decimal(rounded_values + 1) * Decimal(5).scaleb(-decimals - 1)


def _round(measure: str, value: float) -> float:
    """To DfE's publication precision: whole numbers for headcounts and cases, else 1 decimal place."""
    return round(value) if is_whole(measure) else round(value, 1)


def _published_rates(texts: dict[str, str]) -> dict[str, float | None]:
    """Published rates; `low` rounds to zero, so it is a published 0.0."""
    return {name: 0.0 if texts.get(name) == LOW else as_number(texts.get(name)) for name in RATES}


class _Filler:
    def __init__(self, release: Release):
        self.release = release
        self.values: dict[Key, dict[str, float | None]] = {
            key: {m: row.number(m) for m in COUNTS} for key, row in release.rows.items()
        }
        self.imputations: dict[Key, list[Imputation]] = {key: [] for key in release.rows}
        self.low: dict[Key, set[str]] = {key: set() for key in release.rows}
        self.groups: dict[tuple[str, int], list[Key]] = {}
        for key, row in sorted(release.rows.items()):
            self.groups.setdefault((row.group, key[1]), []).append(key)

    def symbol(self, key: Key, measure: str) -> str:
        return self.release.rows[key].text.get(measure, "")

    def record(self, key: Key, measure: str, value: float, method: str, in_dfe_totals: bool) -> None:
        value = _round(measure, value)
        self.values[key][measure] = value
        symbol = self.symbol(key, measure) or "blank"
        self.imputations[key].append(Imputation(measure, symbol, value, method, in_dfe_totals))

    def fill(self) -> dict[Key, FilledFigures]:
        for measure in BASES:
            self.fill_low(measure)
            self.fill_from_residuals(measure)
            for key in sorted(self.values):
                if self.values[key][measure] is None:
                    self.fill_from_ratio(key, measure)
        return {
            key: FilledFigures(
                counts=dict(self.values[key]),  # type: ignore[arg-type]
                rates=_published_rates(self.release.rows[key].text),
                low=frozenset(self.low[key]),
                imputations=self.imputations[key],
            )
            for key in self.values
        }

    def fill_low(self, measure: str) -> None:
        for key in self.values:
            if self.values[key][measure] is None and self.symbol(key, measure) == LOW:
                self.low[key].add(measure)
                self.values[key][measure] = LOW_VALUE
                self.imputations[key].append(
                    Imputation(measure, LOW, LOW_VALUE, "published as rounding to zero: a value below 0.05", True)
                )

    # -- residual of a published group total -------------------------------------------------
    def group_total(self, group: str, year: int, measure: str) -> tuple[float | None, list[Key], str]:
        """The tightest published total: the LA's region (London sub-region), else England."""
        total = as_number(self.release.group_totals.get((group, year), {}).get(measure))
        if total is not None:
            return total, self.groups[(group, year)], group
        members = [key for key in self.values if key[1] == year]
        return as_number(self.release.england.get(year, {}).get(measure)), sorted(members), "England"

    def fill_from_residuals(self, measure: str) -> None:
        for (group, year), members in self.groups.items():
            missing = [k for k in members if self.values[k][measure] is None]
            if missing:
                self.share_residual(group, year, measure, missing)

    def share_residual(self, group: str, year: int, measure: str, missing: list[Key]) -> None:
        """Give the residual of DfE's total to the suppressed LAs when the arithmetic says the total holds them."""
        total, pool, area = self.group_total(group, year, measure)
        if total is None:
            return
        published = [v for k in pool if (v := self.values[k][measure]) is not None]
        residual = Decimal(str(total)) - sum(Decimal(str(v)) for v in published)
        bound = residual_bound(measure, len(published))
        if residual <= bound:
            return
        sharing = [k for k in missing if self.symbol(k, measure) in VALUE_EXISTS] or missing
        estimates = [max(self.ratio_estimate(k, measure)[0] or 0.0, 1e-9) for k in sharing]
        method = (
            f"{area} published total {total:g} less its {len(published)} published LA rows: residual {residual}, "
            f"beyond their rounding ({bound}), so DfE's total holds it"
        )
        if len(sharing) > 1:
            method += f"; shared in proportion to estimates with {len(sharing) - 1} other suppressed LA(s)"
        for key, estimate in zip(sharing, estimates, strict=True):
            share = float(residual) * estimate / sum(estimates)
            self.record(key, measure, share, method, in_dfe_totals=True)

    def basis_value(self, key: Key, basis: tuple[str, ...]) -> float | None:
        parts = [self.values[key][name] for name in basis]
        return None if any(part is None for part in parts) else sum(parts)  # type: ignore[arg-type]

    # -- ratio to a published count ----------------------------------------------------------
    def published_ratio(self, keys: list[Key], measure: str, basis: tuple[str, ...]) -> float | None:
        pairs = [(self.release.rows[k].number(measure), self.published_sum(k, basis)) for k in keys]
        pairs = [(m, b) for m, b in pairs if m is not None and b is not None]
        bottom = sum(b for _, b in pairs)
        return sum(m for m, _ in pairs) / bottom if pairs and bottom > 0 else None

    def published_sum(self, key: Key, basis: tuple[str, ...]) -> float | None:
        parts = [self.release.rows[key].number(name) for name in basis]
        return None if any(part is None for part in parts) else sum(parts)  # type: ignore[arg-type]

    def own_ratio(self, key: Key, measure: str, basis: tuple[str, ...]) -> tuple[float | None, str]:
        unit, year = key
        years = [y for y in self.release.unit_years(unit) if y != year]
        usable = [y for y in years if self.published_ratio([(unit, y)], measure, basis) is not None]
        nearest = [
            y
            for y in (
                max((y for y in usable if y < year), default=None),
                min((y for y in usable if y > year), default=None),
            )
            if y is not None
        ]
        if not nearest:
            return None, ""
        ratios = [self.published_ratio([(unit, y)], measure, basis) for y in nearest]
        label = " and ".join(str(y) for y in nearest)
        return sum(ratios) / len(ratios), f"its own {label} ratio"  # type: ignore[arg-type]

    def ratio(self, key: Key, measure: str, basis: tuple[str, ...]) -> tuple[float | None, str]:
        ratio, source = self.own_ratio(key, measure, basis)
        if ratio is not None:
            return ratio, source
        year = key[1]
        group = self.release.rows[key].group
        ratio = self.published_ratio(self.groups[(group, year)], measure, basis)
        if ratio is not None:
            return ratio, f"its region's {year} ratio"
        ratio = self.published_ratio([k for k in self.values if k[1] == year], measure, basis)
        if ratio is not None:
            return ratio, f"England's {year} ratio"
        ratio = self.published_ratio(list(self.values), measure, basis)
        if ratio is not None:
            return ratio, "England's ratio over all years"
        return TYPICAL_RATIO.get(basis[0]), "a typical England ratio"

    def ratio_estimate(self, key: Key, measure: str) -> tuple[float | None, str]:
        for basis in BASES[measure]:
            base = self.basis_value(key, basis)
            name = " + ".join(basis) if len(basis) == 1 else f"({' + '.join(basis)})"
            if base == 0:
                return 0.0, f"{name} is 0, so none"
            ratio, source = self.ratio(key, measure, basis) if base is not None else (None, "")
            if base is not None and ratio is not None:
                return base * ratio, f"{name} {base:g} x {measure}/{name} = {ratio:.4g} ({source})"
        return None, ""

    def fill_from_ratio(self, key: Key, measure: str) -> None:
        value, method = self.ratio_estimate(key, measure)
        if value is None:
            value, method = 0.0, "nothing published to estimate it from: taken as 0"
        self.record(key, measure, self.consistent(key, measure, value), method, in_dfe_totals=False)

    def consistent(self, key: Key, measure: str, value: float) -> float:
        """Keep an estimate inside what the LA's other counts allow (FTE within headcount, and so on)."""
        counts = self.values[key]
        if measure.endswith("_headcount"):
            fte = counts.get(measure.replace("_headcount", "_fte"))
            return max(value, 1.0) if fte else value
        headcount = counts.get(measure.replace("_fte", "_headcount"))
        if measure.endswith("_fte") and headcount is not None:
            return min(value, headcount)
        if measure == "agency_cover_fte" and counts["agency_fte"] is not None:
            return min(value, counts["agency_fte"])
        return value


def fill_suppressed(release: Release) -> dict[Key, FilledFigures]:
    """Every LA-year of the release with all counts filled, imputed ones recorded with their method."""
    return _Filler(release).fill()
