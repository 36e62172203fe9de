"""The measure registry: every DfE workforce measure, read from its one home.

The registry is `vars: measures:` in `dbt_project/dbt_project.yml` (the comment there lists its
fields): dbt's Jinja can read project vars but no other file, and the dbt macros generate every
count and rate column from it at compile time. Everything in Python reads it through this module:
the synthetic-return generator (exact units, rates, working days), the Great Expectations checks
(ranges and plausibility bands, `suite_expectations`), the DfE release reader and the packs
(DfE's symbols, `vars: dfe_symbols:`), and `docs/measures.md`, which is generated:

    python -m orchestration.lib.measures > docs/measures.md

The packs and analysts read labels and definitions from the published `dim_measures` table, built
from the same entries.
"""

from __future__ import annotations

import calendar
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from types import MappingProxyType
from typing import Any

import yaml

from orchestration.lib import paths

REGISTRY_PATH = paths.DBT_PROJECT_DIR / "dbt_project.yml"
DOC_TEMPLATE_PATH = Path(__file__).with_name("measures_doc_template.md")
DOC_PATH = paths.PROJECT_ROOT / "docs" / "measures.md"

POLARITIES = ("lower_is_better", "higher_is_better", "neutral")
TIMES = "\N{MULTIPLICATION SIGN}"
COUNT, RATE = "count", "rate"


class RegistryError(ValueError):
    """The registry does not say what a measure is; the message names the measure and the field."""


@dataclass(frozen=True)
class Band:
    """A range of values, either end open, and why it matters."""

    min: float | None
    max: float | None
    why: str

    def text(self) -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min:g} to {self.max:g}"
        return f"at least {self.min:g}" if self.min is not None else f"at most {self.max:g}"


@dataclass(frozen=True)
class CountRule:
    """How a count is made from one return: over its flagged worker-roles, or from its LA-level block."""

    where: Mapping[str, bool]
    """Flags of int_worker_roles_flagged a worker-role must have (empty for an LA-level count)."""
    sum: str | None
    distinct: tuple[str, ...]
    la_level: str | None
    input_decimals: int
    null_when_unreported: bool

    @property
    def unit(self) -> int:
        """Its inputs' smallest step as a whole number of parts: 1, 100 or 1,000,000."""
        return 10**self.input_decimals

    def how(self) -> str:
        if self.la_level:
            return f"LA-level block: `{self.la_level}`"
        if self.sum:
            return f"sum of `{self.sum}`"
        return f"distinct `{'`, `'.join(self.distinct)}`"

    def which(self) -> str:
        """The worker-roles counted, as the condition on their flags."""
        return " and ".join(name if wanted else f"not {name}" for name, wanted in self.where.items())


@dataclass(frozen=True)
class Rate:
    """numerator / sum(denominator) * scale, per working day of the year when per_working_day."""

    numerator: str
    denominator: tuple[str, ...]
    scale: float
    per_working_day: bool

    @property
    def counts(self) -> tuple[str, ...]:
        """The counts it is a ratio of, each once (agency FTE is both numerator and part of the denominator)."""
        return tuple(dict.fromkeys((self.numerator, *self.denominator)))

    def factor(self, year: int) -> float:
        return self.scale / working_days(year) if self.per_working_day else self.scale

    def of(self, counts: Mapping[str, float | None], year: int) -> float | None:
        """The rate from counts, or None when a count is missing or the denominator is zero."""
        top = counts.get(self.numerator)
        parts = [counts.get(name) for name in self.denominator]
        if top is None or any(part is None for part in parts):
            return None
        bottom = sum(parts)  # type: ignore[arg-type]
        return None if bottom == 0 else top / bottom * self.factor(year)

    def formula(self) -> str:
        bottom = " + ".join(self.denominator)
        bottom = f"({bottom})" if len(self.denominator) > 1 else bottom
        if self.per_working_day:
            bottom = f"({bottom} {TIMES} working days)"
        return f"{self.numerator} / {bottom}" + (f" {TIMES} {self.scale:g}" if self.scale != 1 else "")


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    unit: str
    decimals: int
    definition: str
    benchmarked: bool
    in_pack_trends: bool
    count: CountRule | None
    rate: Rate | None
    polarity: str | None
    target_band: Band | None
    valid: Band
    plausible: Band | None
    plausible_change: Band | None

    @property
    def kind(self) -> str:
        return COUNT if self.count else RATE

    @property
    def is_whole(self) -> bool:
        """Published as a whole number (headcounts and cases)."""
        return self.decimals == 0

    def rule(self) -> str:
        """How it is computed, in one line."""
        if self.rate:
            return self.rate.formula()
        assert self.count
        return self.count.how() if self.count.la_level else f"{self.count.how()} where {self.count.which()}"


# ---- reading and checking the registry -------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice (a second entry for a measure would silently win)."""


def _no_duplicate_keys(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise RegistryError(f"Line {key_node.start_mark.line + 1}: '{key}' appears twice.")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


def load_yaml(text: str) -> Any:
    """YAML as dbt reads it, but a key given twice is an error, not a silent overwrite."""
    return yaml.load(text, Loader=_StrictLoader)


@cache
def project_vars() -> dict[str, Any]:
    try:
        return load_yaml(REGISTRY_PATH.read_text(encoding="utf-8"))["vars"]
    except RegistryError as error:
        raise RegistryError(f"{REGISTRY_PATH}: {error}") from None


_MEASURE_FIELDS = {
    "label",
    "unit",
    "decimals",
    "definition",
    "benchmarked",
    "in_pack_trends",
    "count",
    "rate",
    "polarity",
    "target_band",
    "valid",
    "plausible",
    "plausible_change",
}
_COUNT_FIELDS = {"where", "sum", "distinct", "la_level", "input_decimals", "null_when_unreported"}
_RATE_FIELDS = {"numerator", "denominator", "scale", "per_working_day"}
_BAND_FIELDS = {"min", "max", "why"}


def _fields(name: str, where: str, entry: Any, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise RegistryError(f"Measure {name}: {where} must be a mapping of fields, not {entry!r}.")
    unknown = set(entry) - allowed
    if unknown:
        raise RegistryError(
            f"Measure {name}: unknown field(s) {sorted(unknown)} in {where}; allowed: {sorted(allowed)}."
        )
    missing = required - set(entry)
    if missing:
        raise RegistryError(f"Measure {name}: {where} lacks {sorted(missing)}.")
    return entry


def _band(name: str, field: str, entry: Any, default_why: str | None = None) -> Band | None:
    if entry is None:
        return None
    entry = _fields(name, field, entry, _BAND_FIELDS, set() if default_why else {"why"})
    low, high = entry.get("min"), entry.get("max")
    if low is None and high is None:
        raise RegistryError(f"Measure {name}: {field} needs a min, a max or both.")
    if low is not None and high is not None and low > high:
        raise RegistryError(f"Measure {name}: {field} min {low} is above its max {high}.")
    return Band(low, high, " ".join(str(entry.get("why") or default_why).split()))


def _valid_why(name: str, kind: str, low: float | None, high: float | None) -> str | None:
    """The reason a valid range exists, when it is the obvious one; otherwise the registry says it."""
    if kind == COUNT and low == 0 and high is None:
        return f"{name} is a count: a negative value means a broken return or join."
    if kind == RATE and low == 0 and high == 100:
        return f"{name} is a percentage of a whole: outside 0-100 is arithmetically impossible."
    if kind == RATE and low == 0 and high is None:
        return f"{name} cannot be negative."
    return None


def _count_rule(name: str, entry: Any) -> CountRule:
    entry = _fields(name, "count", entry, _COUNT_FIELDS, {"input_decimals"})
    how = [key for key in ("sum", "distinct", "la_level") if key in entry]
    if len(how) != 1:
        raise RegistryError(f"Measure {name}: a count needs exactly one of sum, distinct or la_level (has {how}).")
    if "la_level" in entry and "where" in entry:
        raise RegistryError(f"Measure {name}: an LA-level count has no worker-role filter ('where').")
    if "la_level" not in entry and not entry.get("where"):
        raise RegistryError(
            f"Measure {name}: say which worker-roles count ('where', flags of int_worker_roles_flagged)."
        )
    return CountRule(
        where=dict(entry.get("where") or {}),
        sum=entry.get("sum"),
        distinct=tuple(entry.get("distinct") or ()),
        la_level=entry.get("la_level"),
        input_decimals=int(entry["input_decimals"]),
        null_when_unreported=bool(entry.get("null_when_unreported", False)),
    )


def _rate(name: str, entry: Any) -> Rate:
    entry = _fields(name, "rate", entry, _RATE_FIELDS, {"numerator", "denominator", "scale"})
    return Rate(
        numerator=entry["numerator"],
        denominator=tuple(entry["denominator"]),
        scale=entry["scale"],
        per_working_day=bool(entry.get("per_working_day", False)),
    )


def _measure(name: str, entry: Any) -> Measure:
    entry = _fields(name, "its entry", entry, _MEASURE_FIELDS, {"label", "unit", "decimals", "definition", "valid"})
    if ("count" in entry) == ("rate" in entry):
        raise RegistryError(
            f"Measure {name}: give either 'count' or 'rate', not {'both' if 'count' in entry else 'neither'}."
        )
    kind = COUNT if "count" in entry else RATE
    polarity = entry.get("polarity")
    if kind == RATE and polarity not in POLARITIES:
        raise RegistryError(
            f"Measure {name}: a rate's polarity must be one of {', '.join(POLARITIES)}, not {polarity!r}."
        )
    if kind == COUNT and (polarity or "target_band" in entry):
        raise RegistryError(f"Measure {name}: a count has no polarity or target band (only rates are ranked).")
    valid = entry["valid"] if isinstance(entry["valid"], dict) else {}
    return Measure(
        name=name,
        label=entry["label"],
        unit=entry["unit"],
        decimals=int(entry["decimals"]),
        definition=str(entry["definition"]).strip(),
        benchmarked=bool(entry.get("benchmarked", False)),
        in_pack_trends=bool(entry.get("in_pack_trends", False)),
        count=_count_rule(name, entry["count"]) if kind == COUNT else None,
        rate=_rate(name, entry["rate"]) if kind == RATE else None,
        polarity=polarity,
        target_band=_band(name, "target_band", entry.get("target_band"), default_why="the band to aim for"),
        valid=_band(name, "valid", entry["valid"], _valid_why(name, kind, valid.get("min"), valid.get("max"))),  # type: ignore[arg-type]
        plausible=_band(name, "plausible", entry.get("plausible")),
        plausible_change=_band(name, "plausible_change", entry.get("plausible_change")),
    )


def _check_references(found: dict[str, Measure]) -> None:
    for measure in found.values():
        if measure.rate:
            for count in measure.rate.counts:
                if count not in found or found[count].kind != COUNT:
                    raise RegistryError(
                        f"Measure {measure.name}: '{count}' in its rate is not a count of the registry."
                    )
        if measure.benchmarked and measure.kind != RATE:
            raise RegistryError(f"Measure {measure.name}: only rates are benchmarked.")
        if measure.in_pack_trends and not measure.benchmarked:
            raise RegistryError(f"Measure {measure.name}: the packs chart benchmarked measures only.")


def parse_measures(entries: Any) -> dict[str, Measure]:
    """The registry's entries checked and read; RegistryError names the measure and field at fault."""
    if not isinstance(entries, dict) or not entries:
        raise RegistryError(f"{REGISTRY_PATH}: 'vars: measures:' is missing or empty.")
    found = {name: _measure(name, entry) for name, entry in entries.items()}
    _check_references(found)
    return found


@cache
def measures() -> dict[str, Measure]:
    """Every measure by name, in EES order."""
    return parse_measures(project_vars().get("measures"))


def counts() -> dict[str, Measure]:
    return {name: m for name, m in measures().items() if m.kind == COUNT}


def rates() -> dict[str, Rate]:
    return {name: m.rate for name, m in measures().items() if m.rate}


_SYMBOL_FIELDS = {"meaning", "ranked"}


@cache
def _symbol_entries() -> Mapping[str, Mapping[str, Any]]:
    entries = project_vars()["dfe_symbols"]
    for symbol, entry in entries.items():
        if not isinstance(entry, dict) or set(entry) != _SYMBOL_FIELDS:
            raise RegistryError(
                f"{REGISTRY_PATH}: DfE symbol '{symbol}' needs exactly {sorted(_SYMBOL_FIELDS)}, not {entry!r}."
            )
    return MappingProxyType(entries)


def dfe_symbols() -> Mapping[str, str]:
    """DfE's symbols for a value it did not publish, and what each means."""
    return MappingProxyType({symbol: str(entry["meaning"]) for symbol, entry in _symbol_entries().items()})


def ranked_symbols() -> frozenset[str]:
    """The symbols under which a council's recomputed value is still ranked (`ranked: true`)."""
    return frozenset(symbol for symbol, entry in _symbol_entries().items() if entry["ranked"])


def small_base_denominator() -> float:
    """Below this denominator (FTE, or people for a headcount rate) a council's rate is a small base."""
    return float(project_vars()["small_base_denominator"])


def synthetic_software_code_prefix() -> str:
    """The Header SoftwareCode prefix that marks a return as written by the synthetic generator."""
    return str(project_vars()["synthetic_software_code_prefix"])


def base_working_days() -> int:
    return int(project_vars()["absence_working_days"])


def working_days(year: int) -> int:
    """Working days in collection year `year`, the divisor of the published absence rate.

    253, and 254 in a year holding 29 February (2020, 2024): that reproduces every published
    absence rate of 2017-2024, where 253 alone misses 27 LA rates of 2020 and 2024.
    """
    return base_working_days() + calendar.isleap(year)


# ---- Great Expectations -------------------------------------------------------------------------

SUITE_EXTENSION_KEY = "measure_expectations"
"""Key in a suite's `meta` naming the registry-driven expectations the suite adds (see below)."""


def _between(column: str, band: Band, severity: str, row_measure: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"column": column}
    if band.min is not None:
        kwargs["min_value"] = band.min
    if band.max is not None:
        kwargs["max_value"] = band.max
    if row_measure:
        condition = {"type": "comparison", "column": {"name": "measure"}, "operator": "==", "parameter": row_measure}
        kwargs["row_condition"] = condition
    return {
        "type": "expect_column_values_to_be_between",
        "kwargs": kwargs,
        "meta": {"why": band.why, "from": "measure registry"},
        "severity": severity,
    }


def _value_ranges() -> list[dict[str, Any]]:
    """Each measure column within its valid range (blocking) and its plausible band (a warning)."""
    found = [_between(m.name, m.valid, "critical") for m in measures().values()]
    found += [_between(m.name, m.plausible, "warning") for m in measures().values() if m.plausible]
    return found


def _year_on_year_changes() -> list[dict[str, Any]]:
    """A council's change on the previous year within the measure's plausible change (a warning)."""
    return [
        _between("change_from_previous_year", Band(-band.max, band.max, band.why), "warning", row_measure=m.name)
        for m in measures().values()
        if (band := m.plausible_change) and band.max is not None
    ]


def published_text_pattern() -> str:
    """A release cell: a number, one of DfE's symbols, or empty."""
    return r"^(?:-?\d+(?:\.\d+)?|" + "|".join(dfe_symbols()) + r")?$"


def _published_texts() -> list[dict[str, Any]]:
    """Each measure column of a DfE release holds a number or one of DfE's symbols."""
    symbols = ", ".join(dfe_symbols())
    return [
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": name, "regex": published_text_pattern()},
            "meta": {
                "why": f"{name} must be a number or one of DfE's symbols ({symbols}).",
                "from": "measure registry",
            },
            "severity": "critical",
        }
        for name in measures()
    ]


SUITE_EXTENSIONS = {
    "value_ranges": _value_ranges,
    "year_on_year_changes": _year_on_year_changes,
    "published_texts": _published_texts,
}


def suite_expectations(suite: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The expectations a suite asks the registry for in `meta.measure_expectations`.

    A suite holds its table-level rules as JSON; the per-measure ranges come from here, so a
    measure's range is written once, next to its definition.
    """
    wanted = suite.get("meta", {}).get(SUITE_EXTENSION_KEY, [])
    unknown = sorted(set(wanted) - set(SUITE_EXTENSIONS))
    if unknown:
        raise RegistryError(f"Suite {suite.get('name')}: unknown {SUITE_EXTENSION_KEY} {unknown}.")
    return [expectation for name in wanted for expectation in SUITE_EXTENSIONS[name]()]


# ---- docs/measures.md ---------------------------------------------------------------------------


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _precision(measure: Measure) -> str:
    return "whole" if measure.is_whole else f"{measure.decimals} dp"


def _inputs(measure: Measure) -> str:
    assert measure.count
    places = measure.count.input_decimals
    return "whole" if places == 0 else f"{places} dp"


DOC_HEADER = """<!--
  Generated from the measure registry (`vars: measures:` in dbt_project/dbt_project.yml) and the
  template orchestration/lib/measures_doc_template.md by
  `python -m orchestration.lib.measures > docs/measures.md`. Edit those two, not this file: a test
  fails when this file differs from what they generate.
-->
"""


def render_docs() -> str:
    """docs/measures.md: the template's prose around tables generated from the registry."""
    every = measures().values()
    counts_table = _table(
        ("measure", "worker-roles counted", "how", "inputs", "published to"),
        [
            (
                f"`{m.name}`",
                f"`{m.count.which()}`" if m.count.where else "—",
                m.count.how() + (" (NULL when none reported)" if m.count.null_when_unreported else ""),
                _inputs(m),
                _precision(m),
            )
            for m in every
            if m.count
        ],
    )
    rates_table = _table(
        ("measure", "formula", "polarity", "benchmarked", "published to"),
        [
            (f"`{m.name}`", f"`{m.rule()}`", m.polarity or "", "yes" if m.benchmarked else "no", _precision(m))
            for m in every
            if m.rate
        ],
    )
    definitions = "\n".join(f"- **{m.label}** (`{m.name}`, {m.unit}): {m.definition}" for m in every)
    checks = _table(
        ("measure", "valid (blocks publishing)", "plausible (warns)", "year-on-year change (warns)"),
        [
            (
                f"`{m.name}`",
                m.valid.text(),
                m.plausible.text() if m.plausible else "",
                f"at most ±{m.plausible_change.max:g}" if m.plausible_change and m.plausible_change.max else "",
            )
            for m in every
        ],
    )
    ranked = ranked_symbols()
    symbols = "\n".join(
        f"- `{symbol}`: {meaning} ({'still ranked' if symbol in ranked else 'not ranked'})"
        for symbol, meaning in dfe_symbols().items()
    )
    template = Template(DOC_TEMPLATE_PATH.read_text(encoding="utf-8"))
    return DOC_HEADER + template.substitute(
        counts_table=counts_table,
        rates_table=rates_table,
        definitions=definitions,
        checks_table=checks,
        symbols=symbols,
        working_days=base_working_days(),
        leap_working_days=base_working_days() + 1,
        small_base=f"{small_base_denominator():g}",
    )


def main(argv: list[str]) -> int:
    if argv:
        print("usage: python -m orchestration.lib.measures > docs/measures.md", file=sys.stderr)
        return 2
    sys.stdout.write(render_docs())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
