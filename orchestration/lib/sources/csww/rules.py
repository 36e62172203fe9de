"""The rules a CSWW return must meet, and the checks that apply them.

Each rule is described once, in the catalogue `rules.yml` beside this file: its stable id, its
severity (`error`: the file is not loaded; `query`: it loads, and the query goes back to the
council), the level it works at, the collection years it applies to, whether it is stricter than
DfE's schema, a summary, what to fix and the thresholds it uses. The code names a rule only by its
id (`RuleId`); a test keeps the ids here and in the catalogue the same, both ways. Messages are
written for the council analyst who prepares the return: they say what is wrong and what to change.

Element names, their order, the years they apply to and every code list come from `spec`; what is
here is the business logic the specification does not express (ranges, date logic, consistency
between elements and across workers). Year-on-year checks are in `continuity`.

Rules by level:
- file: the bytes are not a readable, safe XML document (fatal: parsing stops);
- message: the Header, the LA-level block and the CSWWWorker records are missing, misplaced or
  do not make a return of one existing council for one year;
- element: an element is unknown, out of order, repeated or badly formatted;
- value: a well-formed value is out of range;
- worker: the values of one worker contradict each other or leave a measure without an input;
- return: the same worker-role appears twice;
- continuity: the return disagrees with the council's previous one (continuity.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml

from orchestration.lib.sources import la_codes
from orchestration.lib.sources.csww import spec

# -- the catalogue ----------------------------------------------------------------------------

CATALOGUE_PATH = Path(__file__).with_name("rules.yml")

Severity = Literal["error", "query"]
ERROR: Severity = "error"
QUERY: Severity = "query"
SEVERITIES: tuple[Severity, ...] = (ERROR, QUERY)
LEVELS = ("file", "message", "element", "value", "worker", "return", "continuity")


class RuleId(StrEnum):
    """Every rule the code raises, by its catalogue id."""

    FILE_UNREADABLE = "file-unreadable"
    FILE_EMPTY = "file-empty"
    XML_MALFORMED = "xml-malformed"
    XML_ENCODING = "xml-encoding"
    XML_DOCTYPE = "xml-doctype"
    WRONG_ROOT = "wrong-root"
    MESSAGE_ORDER = "message-order"
    HEADER_MISSING = "header-missing"
    HEADER_COLLECTION = "header-collection"
    HEADER_YEAR = "header-year"
    HEADER_REFERENCE_DATE = "header-reference-date"
    HEADER_LEA = "header-lea"
    HEADER_REPEATED = "header-repeated"
    HEADER_LEA_CONFLICT = "header-lea-conflict"
    LEA_NOT_IN_EXISTENCE = "lea-not-in-existence"
    LEA_MISMATCH = "lea-mismatch"
    YEAR_MISMATCH = "year-mismatch"
    HEADER_DATETIME = "header-datetime"
    LA_LEVEL_BLOCK = "la-level-block"
    NO_WORKERS = "no-workers"
    UNKNOWN_ELEMENT = "unknown-element"
    ELEMENT_NOT_IN_YEAR = "element-not-in-year"
    ELEMENT_ORDER = "element-order"
    ELEMENT_REPEATED = "element-repeated"
    MISSING_REQUIRED = "missing-required"
    EMPTY_VALUE = "empty-value"
    UNKNOWN_CODE = "unknown-code"
    NUMBER_FORMAT = "number-format"
    DATE_FORMAT = "date-format"
    SWE_FORMAT = "swe-format"
    FTE_RANGE = "fte-range"
    FTE_ZERO = "fte-zero"
    FTE_PRECISION = "fte-precision"
    NEGATIVE_VALUE = "negative-value"
    DAYS_LOST_RANGE = "days-lost-range"
    CONTRACT_WEEKS_RANGE = "contract-weeks-range"
    CASES_HIGH = "cases-high"
    DATE_FUTURE = "date-future"
    DATE_TOO_EARLY = "date-too-early"
    AGE_IMPOSSIBLE = "age-impossible"
    AGE_RANGE = "age-range"
    ROLE_START_AFTER_REFERENCE = "role-start-after-reference"
    ROLE_END_AFTER_REFERENCE = "role-end-after-reference"
    ROLE_END_BEFORE_START = "role-end-before-start"
    ROLE_END_BEFORE_YEAR = "role-end-before-year"
    LEAVER_IN_POST = "leaver-in-post"
    FTE30_MISSING = "fte30-missing"
    FTE30_ZERO = "fte30-zero"
    ROLE_START_MISSING = "role-start-missing"
    FTE_MISSING = "fte-missing"
    QUAL_INST_MISSING = "qual-inst-missing"
    DUPLICATE_ROLE = "duplicate-role"
    HEADCOUNT_CHANGE = "headcount-change"
    FTE_CHANGE = "fte-change"
    BIRTH_MONTH_CHANGED = "birth-month-changed"
    LEAVER_STILL_IN_POST = "leaver-still-in-post"
    NEW_WORKER_STARTED_EARLIER = "new-worker-started-earlier"


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue, with its texts' {placeholders} filled from its params."""

    id: str
    severity: Severity
    level: str
    first_year: int
    last_year: int | None
    stricter_than_schema: bool
    summary: str
    fix: str
    why: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def applies_in(self, year: int | None) -> bool:
        """True in the years the rule covers; always, while the return's year is still unknown."""
        return year is None or (self.first_year <= year and (self.last_year is None or year <= self.last_year))

    @property
    def years(self) -> str:
        return f"{self.first_year}-{self.last_year or ''}"


class CatalogueError(ValueError):
    """rules.yml does not describe the rules as the code expects."""


_YEARS = re.compile(r"(\d{4})-(\d{4})?")
_FIELDS = {"id", "severity", "level", "years", "stricter_than_schema", "summary", "fix", "why", "params"}


def _rule(entry: dict[str, Any]) -> Rule:
    unknown = set(entry) - _FIELDS
    missing = {"id", "severity", "level", "years", "stricter_than_schema", "summary", "fix"} - set(entry)
    if unknown or missing:
        raise CatalogueError(f"rule {entry.get('id')!r}: unknown fields {sorted(unknown)}, missing {sorted(missing)}")
    years = _YEARS.fullmatch(str(entry["years"]))
    if entry["severity"] not in SEVERITIES or entry["level"] not in LEVELS or years is None:
        raise CatalogueError(f"rule {entry['id']!r}: bad severity, level or years")
    params = entry.get("params") or {}
    text = {name: str(entry.get(name, "")).format(**params) for name in ("summary", "fix", "why")}
    return Rule(
        id=entry["id"],
        severity=entry["severity"],
        level=entry["level"],
        first_year=int(years.group(1)),
        last_year=int(years.group(2)) if years.group(2) else None,
        stricter_than_schema=bool(entry["stricter_than_schema"]),
        params=params,
        **text,
    )


@cache
def catalogue() -> dict[str, Rule]:
    """Every rule in rules.yml, by id, in the catalogue's order."""
    entries = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    rules = [_rule(entry) for entry in entries]
    by_id = {r.id: r for r in rules}
    if len(by_id) != len(rules):
        raise CatalogueError("rules.yml repeats a rule id")
    return by_id


def rule(rule_id: str) -> Rule:
    return catalogue()[rule_id]


class Finding(NamedTuple):
    """A problem found in values; the parser adds where it is (line, worker record)."""

    rule: RuleId
    element: str | None
    value: str | None
    message: str


Values = dict[str, Any]
"""One block's converted values by element name: None when present but unreadable, absent when absent."""

PERSONAL_ELEMENTS = frozenset({"SWENo", "PersonBirthDate"})
"""Never copied into an issue's value: reports travel further than the return (e-mail, tickets)."""

# -- the year a return is checked against, with the catalogue's thresholds ----------------------


@dataclass(frozen=True)
class YearContext:
    """What the checks need to know about the return being read, worked out once per file."""

    year: int
    reference_date: dt.date
    collection_start: dt.date
    today: dt.date
    weeks_in_year: float
    """365 or 366 days over 7, to ContractWeeks' 1 decimal place: 52.1, or 52.3 with a 29 February."""
    impossible_ages: tuple[int, int]
    plausible_ages: tuple[int, int]
    earliest_role_date: dt.date
    max_days_lost: float
    max_cases: int
    max_fte_decimals: int

    @classmethod
    def for_year(cls, year: int, today: dt.date | None = None) -> YearContext:
        start, reference = spec.collection_start(year), spec.reference_date(year)

        def params(rule_id: RuleId) -> Mapping[str, Any]:
            return rule(rule_id).params

        impossible, plausible = params(RuleId.AGE_IMPOSSIBLE), params(RuleId.AGE_RANGE)
        return cls(
            year=year,
            reference_date=reference,
            collection_start=start,
            today=today or dt.date.today(),
            weeks_in_year=round(((reference - start).days + 1) / 7, 1),
            impossible_ages=(impossible["min_age"], impossible["max_age"]),
            plausible_ages=(plausible["min_age"], plausible["max_age"]),
            earliest_role_date=dt.date(params(RuleId.DATE_TOO_EARLY)["earliest_role_year"], 1, 1),
            max_days_lost=params(RuleId.DAYS_LOST_RANGE)["max_days"],
            max_cases=params(RuleId.CASES_HIGH)["max_cases"],
            max_fte_decimals=params(RuleId.FTE_PRECISION)["max_decimals"],
        )


# -- element-level messages (the parser detects these while reading) --------------------------


def _code_choices(element: spec.Element) -> str:
    codes = element.codes or {}
    if len(codes) <= 10:
        return "; ".join(f"{code} = {label}" for code, label in codes.items())
    return ", ".join(codes)


def unknown_code(element: spec.Element, text: str) -> str:
    return f"{text!r} is not a valid {element.name} code. Use one of: {_code_choices(element)}."


def bad_number(element: spec.Element, text: str) -> str:
    shown = "This" if element.name in PERSONAL_ELEMENTS else repr(text)
    if element.kind == spec.INTEGER:
        return f"{shown} is not a whole number; {element.name} must be a whole number such as 12."
    return f"{shown} is not a number; {element.name} must be a decimal number such as 0.5 or 12.25."


def bad_date(element: spec.Element, text: str, *, real: bool) -> str:
    shown = "This" if element.name in PERSONAL_ELEMENTS else repr(text)
    if real:
        return f"{shown} is not a real calendar date; correct {element.name}."
    return f"{shown} is not a date in the form YYYY-MM-DD (for example 2022-09-30); correct {element.name}."


def empty_value(name: str) -> str:
    return f"{name} is present but empty: give a value, or leave the element out if it does not apply."


def unknown_element(name: str, parent: str) -> str:
    return (
        f"{name!r} is not an element of {parent} in the CSWW specification. Remove it, or check its "
        "spelling (element names are case-sensitive)."
    )


def not_in_year(element: spec.Element, year: int) -> str:
    when = f"from {element.first_year}" if element.first_year > year else f"up to {element.last_year}"
    return f"{element.name} is part of the return only {when}; this is a {year} return, so remove it."


def out_of_order(name: str, after: str) -> str:
    return (
        f"{name} comes after {after} here, but the CSWW specification puts {name} before {after}. "
        "Export the elements in the specification order (DfE's schema rejects any other order)."
    )


def repeated(name: str) -> str:
    return f"{name} appears more than once here but may appear only once: keep the right value only."


def missing_required(name: str, parent: str) -> str:
    return f"{name} is missing from {parent}; it is required. Add it."


# -- value checks: one value, in range? ---------------------------------------------------------

ValueCheck = Callable[[Any, str, YearContext], Finding | None]
"""(converted value, text as written, context) → a finding, or None when the value is fine."""

SWE_PATTERN = re.compile(r"[A-Za-z]{2}\d{10}")
"""DfE's SWENo format (Social Finance's XSD `swetype`): 2 letters, then 10 digits."""


def _check_swe(value: Any, text: str, ctx: YearContext) -> Finding | None:
    if SWE_PATTERN.fullmatch(text):
        return None
    return Finding(
        RuleId.SWE_FORMAT,
        "SWENo",
        None,
        f"SWENo is not 2 letters followed by 10 digits (it has {len(text)} characters). "
        "Give the worker's Social Work England registration number exactly as registered.",
    )


def _fte(name: str) -> ValueCheck:
    hint = " For a leaver, FTE is their FTE on the day they left." if name == "FTE" else ""

    def check(value: Any, text: str, ctx: YearContext) -> Finding | None:
        if not 0 <= value <= 1:
            return Finding(
                RuleId.FTE_RANGE,
                name,
                text,
                f"{name} must be between 0 and 1 (1 is full time).{hint} Correct it, or leave {name} out "
                "if it does not apply.",
            )
        point = text.find(".")
        if point >= 0 and len(text) - point - 1 > ctx.max_fte_decimals:
            return Finding(
                RuleId.FTE_PRECISION,
                name,
                text,
                f"{name} has more than {ctx.max_fte_decimals} decimal places; DfE's format allows "
                f"{ctx.max_fte_decimals}. Round it.",
            )
        if value == 0 and name == "FTE":
            return Finding(
                RuleId.FTE_ZERO,
                name,
                text,
                f"FTE is 0, so this role adds nothing to the starters', leavers' or turnover FTE.{hint} "
                "Give the role's contracted FTE, or confirm 0 is right.",
            )
        return None

    return check


def _negative(name: str, text: str) -> Finding:
    return Finding(RuleId.NEGATIVE_VALUE, name, text, f"{name} cannot be negative; give 0 if there is none.")


def _non_negative(name: str) -> ValueCheck:
    def check(value: Any, text: str, ctx: YearContext) -> Finding | None:
        return None if value >= 0 else _negative(name, text)

    return check


def _check_days_lost(value: Any, text: str, ctx: YearContext) -> Finding | None:
    if value < 0:
        return _negative("WorkingDaysLost", text)
    if value <= ctx.max_days_lost:
        return None
    return Finding(
        RuleId.DAYS_LOST_RANGE,
        "WorkingDaysLost",
        text,
        f"WorkingDaysLost must be at most {ctx.max_days_lost:g}: it is the FTE days lost to sickness in the "
        "collection year. Correct it.",
    )


def _check_contract_weeks(value: Any, text: str, ctx: YearContext) -> Finding | None:
    if 0 <= value <= ctx.weeks_in_year:
        return None
    if value < 0:
        return _negative("ContractWeeks", text)
    return Finding(
        RuleId.CONTRACT_WEEKS_RANGE,
        "ContractWeeks",
        text,
        f"ContractWeeks is more than the {ctx.weeks_in_year} weeks in the collection year. Check that it "
        f"counts only the weeks the agency worker was contracted between {ctx.collection_start:%-d %B %Y} "
        f"and {ctx.reference_date:%-d %B %Y}.",
    )


def _check_cases(value: Any, text: str, ctx: YearContext) -> Finding | None:
    if value < 0:
        return _negative("Cases30", text)
    if value <= ctx.max_cases:
        return None
    return Finding(
        RuleId.CASES_HIGH,
        "Cases30",
        text,
        f"Cases30 is {value}: more than {ctx.max_cases} cases held by one worker on 30 September. Check it "
        "counts this worker's own open cases on that day, not their team's or all cases in the year.",
    )


def _check_role_date(name: str) -> ValueCheck:
    def check(value: Any, text: str, ctx: YearContext) -> Finding | None:
        if value > ctx.today:
            return Finding(RuleId.DATE_FUTURE, name, text, f"{name} is in the future; correct the date.")
        if value < ctx.earliest_role_date:
            return Finding(
                RuleId.DATE_TOO_EARLY,
                name,
                text,
                f"{name} is before {ctx.earliest_role_date.year}, which cannot be right for this return; "
                "correct the date.",
            )
        return None

    return check


def _check_birth_date(value: Any, text: str, ctx: YearContext) -> Finding | None:
    """An impossible age is an error, an unusual one a query; the date itself is never shown."""
    born, ref = value, ctx.reference_date
    age = ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))
    low, high = ctx.plausible_ages
    if low <= age <= high:
        return None
    youngest, oldest = ctx.impossible_ages
    if age < youngest or age > oldest:
        return Finding(
            RuleId.AGE_IMPOSSIBLE,
            "PersonBirthDate",
            None,
            f"PersonBirthDate makes this worker {age} on {ref:%-d %B %Y}; no social worker is under "
            f"{youngest} or over {oldest}. Correct the birth date (often the year is wrong).",
        )
    return Finding(
        RuleId.AGE_RANGE,
        "PersonBirthDate",
        None,
        f"PersonBirthDate makes this worker {age} on {ref:%-d %B %Y}, outside {low}-{high}. Check the birth date.",
    )


def value_check(element: spec.Element) -> ValueCheck | None:
    """The range check for one element, chosen once per element when the parser sets up."""
    name, kind = element.name, element.kind
    if name == "SWENo":
        return _check_swe
    if name in ("FTE", "FTE30"):
        return _fte(name)
    if name == "WorkingDaysLost":
        return _check_days_lost
    if name == "ContractWeeks":
        return _check_contract_weeks
    if name == "Cases30":
        return _check_cases
    if name == "PersonBirthDate":
        return _check_birth_date
    if kind in (spec.DECIMAL, spec.INTEGER):
        return _non_negative(name)
    if kind == spec.DATE:
        return _check_role_date(name)
    return None


# -- worker checks: do one worker's values fit together? ---------------------------------------


def _iso(value: object) -> str | None:
    return None if value is None else str(value)


def _role_dates(start: dt.date | None, end: dt.date | None, ctx: YearContext) -> list[Finding]:
    found: list[Finding] = []
    ref = ctx.reference_date
    if start is not None and ref < start <= ctx.today:
        found.append(
            Finding(
                RuleId.ROLE_START_AFTER_REFERENCE,
                "RoleStartDate",
                _iso(start),
                f"RoleStartDate is after the reference date {ref}: a role that had not started by "
                f"{ref:%-d %B %Y} belongs in next year's return. Remove this worker or correct the date.",
            )
        )
    if end is None:
        return found
    if start is not None and end < start:
        found.append(
            Finding(
                RuleId.ROLE_END_BEFORE_START,
                "RoleEndDate",
                _iso(end),
                f"RoleEndDate is before RoleStartDate ({start}); correct one of the two dates.",
            )
        )
    if end < ctx.collection_start:
        found.append(
            Finding(
                RuleId.ROLE_END_BEFORE_YEAR,
                "RoleEndDate",
                _iso(end),
                f"This role ended before the collection year began on {ctx.collection_start}, so it does not "
                f"belong in the {ctx.year} return. Remove the worker, or correct RoleEndDate.",
            )
        )
    elif ref < end <= ctx.today:
        found.append(
            Finding(
                RuleId.ROLE_END_AFTER_REFERENCE,
                "RoleEndDate",
                _iso(end),
                f"RoleEndDate is after the reference date {ref}: on {ref:%-d %B %Y} this role had not "
                "ended, so the return cannot hold its end date. Leave RoleEndDate out if the worker was "
                "in post on that day; if they left during the collection year, correct the date.",
            )
        )
    return found


def _leaver_in_post(values: Values, end: dt.date) -> list[Finding]:
    found: list[Finding] = []
    for name in ("FTE30", "Cases30"):
        value = values.get(name)
        if value is not None and value > 0:
            found.append(
                Finding(
                    RuleId.LEAVER_IN_POST,
                    name,
                    str(value),
                    f"This worker left on {end} (RoleEndDate, on or before the reference date) but has "
                    f"{name} above 0. A leaver is not in post on 30 September: remove {name} (or give 0), "
                    "or remove RoleEndDate if they were still in post.",
                )
            )
    return found


def _measure_inputs(values: Values, ctx: YearContext) -> list[Finding]:
    """Missing or zero values that the published measures need (see docs/measures.md)."""
    start, end = values.get("RoleStartDate"), values.get("RoleEndDate")
    found: list[Finding] = []
    if "RoleStartDate" not in values:
        found.append(
            Finding(
                RuleId.ROLE_START_MISSING,
                "RoleStartDate",
                None,
                "No RoleStartDate: without it the measures cannot count this worker as in post or as a "
                "starter. Add the date the worker started this role.",
            )
        )
    ref = ctx.reference_date
    ended = end is not None and end <= ref
    started = start is None or start <= ref
    if not ended and started and "FTE30" not in values:
        found.append(
            Finding(
                RuleId.FTE30_MISSING,
                "FTE30",
                None,
                f"No FTE30 for a worker who had not left by {ref:%-d %B %Y}. Without FTE30 this worker "
                "drops out of the in-post FTE, headcount, caseload and agency rates. Add their FTE on "
                "30 September, or a RoleEndDate if they had left.",
            )
        )
    elif end is None and started and values.get("FTE30") == 0:
        found.append(
            Finding(
                RuleId.FTE30_ZERO,
                "FTE30",
                "0",
                f"FTE30 is 0 for a worker with no RoleEndDate, so they count as not in post on "
                f"{ref:%-d %B %Y}. Give their FTE on 30 September, or a RoleEndDate if they had left.",
            )
        )
    leaver = ended and end >= ctx.collection_start
    starter = start is not None and ctx.collection_start <= start <= ref
    if (leaver or starter) and values.get("AgencyWorker") is False and "FTE" not in values:
        who = "leaver" if leaver else "starter"
        found.append(
            Finding(
                RuleId.FTE_MISSING,
                "FTE",
                None,
                f"No FTE for a {who}: the {who}s' FTE (and the turnover rate) is the sum of FTE, so this "
                "worker adds nothing to it. Add the role's FTE.",
            )
        )
    return found


def check_worker(values: Values, ctx: YearContext) -> list[Finding]:
    """Consistency checks across one worker's values (already converted and range-checked).

    `values` maps element name → converted value (None when present but invalid); a name that is
    absent was not in the worker at all.
    """
    start, end = values.get("RoleStartDate"), values.get("RoleEndDate")
    found = _role_dates(start, end, ctx)
    if end is not None and end <= ctx.reference_date:
        found += _leaver_in_post(values, end)
    found += _measure_inputs(values, ctx)
    if "QualInst" not in values:
        # Raised in every year; the catalogue limits it to the years QualInst is collected.
        found.append(
            Finding(
                RuleId.QUAL_INST_MISSING,
                "QualInst",
                None,
                "No QualInst (the institution where the worker qualified as a social worker). The CSWW "
                "schema expects at least one QualInst for every worker, and DfE's validation may reject the "
                "return without it. It does not affect the warehouse's figures.",
            )
        )
    return found


# -- return checks: across workers ------------------------------------------------------------


class DuplicateRoles:
    """Finds worker-roles listed twice: same SWENo, AgencyWorker, OrgRole and RoleStartDate.

    A SWENo alone may repeat (one person, several posts). This is the one check that must remember
    every worker, so it keeps as little as it can: a 16-byte digest of each worker-role (collisions
    are as good as impossible at 128 bits) and each record's line, about 120 bytes a worker, which
    is 36 MB for a 300,000-worker file.
    """

    def __init__(self) -> None:
        self._first: dict[bytes, int] = {}
        self._lines = array("l")
        """Source line of each record, by record number - 1."""

    def check(self, values: Values, record: int, line: int) -> Finding | None:
        """Call once per worker, with records numbered 1, 2, 3, ... in order."""
        self._lines.append(line)
        swe = values.get("SWENo")
        if swe is None:
            return None
        get = values.get
        key = f"{str(swe).upper()}\x1f{get('AgencyWorker')}\x1f{get('OrgRole')}\x1f{get('RoleStartDate')}"
        first = self._first.setdefault(hashlib.blake2b(key.encode(), digest_size=16).digest(), record)
        if first == record:
            return None
        return Finding(
            RuleId.DUPLICATE_ROLE,
            None,
            None,
            f"Worker records {first} (line {self._lines[first - 1]}) and {record} (line {line}) are the "
            "same worker-role: same SWENo, AgencyWorker, OrgRole and RoleStartDate. Remove the duplicate, "
            "or correct the role or start date if they are different posts.",
        )


# -- the Header ---------------------------------------------------------------------------------

_YEAR_TEXT = re.compile(r"\d{4}")
_LEA_TEXT = re.compile(r"\d{3}")
"""DfE's schema: LEA is a string of exactly 3 digits; a string keeps its spaces, so none are allowed."""
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")

HEADER_PARTS_ONCE = {
    "Header": ("CollectionDetails",),
    "CollectionDetails": ("Collection", "Year", "ReferenceDate"),
    "Source": ("SourceLevel", "LEA", "SoftwareCode", "DateTime"),
}
"""The Header parts DfE's schema allows once, by the element that holds them (Source may repeat)."""


def check_collection(collection: str | None) -> Finding | None:
    if collection == "CSWW":
        return None
    if collection is None:
        return Finding(
            RuleId.HEADER_COLLECTION,
            "Collection",
            None,
            "Header/CollectionDetails/Collection is missing; it must be CSWW.",
        )
    return Finding(
        RuleId.HEADER_COLLECTION,
        "Collection",
        collection,
        "Collection must be CSWW: this does not look like a children's social work workforce return.",
    )


def parse_year(text: str | None, today: dt.date) -> tuple[int | None, Finding | None]:
    """The Header Year as an int, or a finding saying why it cannot be used."""
    if text is None:
        return None, Finding(
            RuleId.HEADER_YEAR,
            "Year",
            None,
            "Header/CollectionDetails/Year is missing; give the collection year, e.g. 2022.",
        )
    if not _YEAR_TEXT.fullmatch(text):
        return None, Finding(RuleId.HEADER_YEAR, "Year", text, "Year must be a 4-digit collection year, e.g. 2022.")
    year = int(text)
    if not spec.FIRST_YEAR <= year <= today.year:
        return None, Finding(
            RuleId.HEADER_YEAR,
            "Year",
            text,
            f"Year {year} is not a collection year the warehouse can load ({spec.FIRST_YEAR} to {today.year}).",
        )
    return year, None


def parse_reference_date(text: str | None, year: int | None) -> tuple[dt.date | None, Finding | None]:
    if text is None:
        return None, Finding(
            RuleId.HEADER_REFERENCE_DATE,
            "ReferenceDate",
            None,
            "Header/CollectionDetails/ReferenceDate is missing; it must be 30 September of the collection year.",
        )
    try:
        date = dt.date.fromisoformat(text) if _DATE_TEXT.fullmatch(text) else None
    except ValueError:
        date = None
    if date is None:
        return None, Finding(
            RuleId.HEADER_REFERENCE_DATE,
            "ReferenceDate",
            text,
            "ReferenceDate must be a date in the form YYYY-MM-DD.",
        )
    if year is not None and date != spec.reference_date(year):
        return date, Finding(
            RuleId.HEADER_REFERENCE_DATE,
            "ReferenceDate",
            text,
            f"ReferenceDate must be 30 September of the collection year ({spec.reference_date(year)}).",
        )
    return date, None


def check_lea(old_la_code: str | None) -> Finding | None:
    """The LEA exactly as written: DfE's schema allows 3 digits and nothing else, spaces included."""
    if old_la_code is None or not old_la_code.strip():
        return Finding(
            RuleId.HEADER_LEA, "LEA", None, "Header/Source/LEA is missing; give your 3-digit DfE LA code, e.g. 301."
        )
    if _LEA_TEXT.fullmatch(old_la_code):
        return None
    if _LEA_TEXT.fullmatch(old_la_code.strip()):
        return Finding(
            RuleId.HEADER_LEA,
            "LEA",
            old_la_code,
            f"LEA {old_la_code!r} has spaces or line breaks around the code; DfE's schema allows exactly "
            f"3 digits. Write it as <LEA>{old_la_code.strip()}</LEA>.",
        )
    return Finding(RuleId.HEADER_LEA, "LEA", old_la_code, "LEA must be your 3-digit DfE LA code, e.g. 301.")


def check_lea_exists(old_la_code: str, reference_date: dt.date) -> Finding | None:
    """A code DfE never issued, or one whose council did not exist on the reference date."""
    if la_codes.in_existence(old_la_code, reference_date):
        return None
    authority = la_codes.lookup(old_la_code)
    if authority is None:
        what = f"LEA {old_la_code} is not a DfE LA code."
    else:
        what = f"LEA {old_la_code} is {authority.name}, which did not exist on {reference_date:%-d %B %Y}."
    closest = ", ".join(la.describe() for la in la_codes.closest(old_la_code, reference_date))
    suggestion = f" The closest councils that did: {closest}." if closest else ""
    return Finding(
        RuleId.LEA_NOT_IN_EXISTENCE,
        "LEA",
        old_la_code,
        f"{what}{suggestion} Give the LA code your council reported under on the reference date.",
    )


def header_repeated(parent: str, part: str, times: int) -> Finding:
    return Finding(
        RuleId.HEADER_REPEATED,
        part,
        None,
        f"{part} appears {times} times in {parent}; the CSWW schema allows it once. Keep the right one only.",
    )


def check_source_leas(leas: list[str]) -> Finding | None:
    """`leas`: the LEA of each Source block, as written, in file order."""
    other = next((lea for lea in leas[1:] if lea.strip() != leas[0].strip()), None)
    if other is None:
        return None
    return Finding(
        RuleId.HEADER_LEA_CONFLICT,
        "LEA",
        other,
        f"The Header has a second Source with LEA {other.strip()}, but the first says {leas[0].strip()}. A "
        "return is one council's: send one file per council, with one LEA.",
    )


def check_expected(
    old_la_code: str | None, year: int | None, expected_old_la_code: str | None, expected_year: int | None
) -> list[Finding]:
    """The Header wins over where a file was filed, so any difference is reported, never guessed."""
    found: list[Finding] = []
    if expected_old_la_code is not None and old_la_code is not None and old_la_code != expected_old_la_code:
        found.append(
            Finding(
                RuleId.LEA_MISMATCH,
                "LEA",
                old_la_code,
                f"The Header says LEA {old_la_code} but the return was filed for LA {expected_old_la_code} "
                "(its landing-zone folder, or the council chosen when validating). The warehouse takes the LA "
                f"from the Header: correct the Header, or file the return under LA {old_la_code}.",
            )
        )
    if expected_year is not None and year is not None and year != expected_year:
        found.append(
            Finding(
                RuleId.YEAR_MISMATCH,
                "Year",
                str(year),
                f"The Header says Year {year} but the return was filed for {expected_year} (its "
                "landing-zone folder, or the year chosen when validating). The warehouse takes the year from "
                f"the Header: correct the Header, or file the return under {year}.",
            )
        )
    return found


def parse_generated_at(text: str | None) -> tuple[dt.datetime | None, Finding | None]:
    if text is None:
        return None, None
    try:
        return dt.datetime.fromisoformat(text), None
    except ValueError:
        return None, Finding(
            RuleId.HEADER_DATETIME,
            "DateTime",
            text,
            "DateTime should be when the file was made, e.g. 2022-10-14T09:30:00; it is kept for information only.",
        )
