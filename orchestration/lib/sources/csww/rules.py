"""The rules a CSWW return must meet, and the checks that apply them.

Every rule has a stable id (reports, tests and analysts refer to it), a severity and a one-line
summary. Errors keep the whole return out of the warehouse; warnings are reported and the return
still loads. Messages are written for the council analyst who prepares the return: they say what
is wrong and what to change.

Element names, their order, the years they apply to and every code list come from `spec`; what is
here is the business logic the specification does not express (ranges, date logic, consistency
between elements and across workers).

Rules by level:
- file: the bytes are not a readable, safe XML document (fatal: parsing stops);
- message: the Header, the LA-level block and the CSWWWorker records are missing or misplaced;
- element: an element is unknown, out of order, repeated or badly formatted;
- value: a well-formed value is out of range;
- worker: the values of one worker contradict each other or leave a measure without an input;
- return: the same worker-role appears twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from orchestration.lib.sources.csww import spec
from orchestration.lib.sources.csww.issues import ERROR, WARNING, Rule

# -- the catalogue ----------------------------------------------------------------------------

FILE_UNREADABLE = Rule("file-unreadable", ERROR, "the file could not be opened")
FILE_EMPTY = Rule("file-empty", ERROR, "the file is empty")
XML_MALFORMED = Rule("xml-malformed", ERROR, "not well-formed XML, or cut short")
XML_ENCODING = Rule("xml-encoding", ERROR, "not UTF-8 (bytes that are not valid UTF-8, or UTF-16)")
XML_DOCTYPE = Rule("xml-doctype", ERROR, "DOCTYPE or entity declaration (refused for safety)")
WRONG_ROOT = Rule("wrong-root", ERROR, "the root element is not Message")

MESSAGE_ORDER = Rule("message-order", ERROR, "Message must hold Header, the LA-level block, then workers")
HEADER_MISSING = Rule("header-missing", ERROR, "no Header")
HEADER_COLLECTION = Rule("header-collection", ERROR, "Collection missing or not CSWW")
HEADER_YEAR = Rule("header-year", ERROR, "Year missing or not a supported collection year")
HEADER_REFERENCE_DATE = Rule("header-reference-date", ERROR, "ReferenceDate missing or not 30 September")
HEADER_LEA = Rule("header-lea", ERROR, "LEA missing or not a 3-digit LA code")
HEADER_DATETIME = Rule("header-datetime", WARNING, "DateTime is not a date-time")
LEA_MISMATCH = Rule("lea-mismatch", ERROR, "Header LEA differs from the LA folder")
YEAR_MISMATCH = Rule("year-mismatch", ERROR, "Header Year differs from the year folder")
LA_LEVEL_BLOCK = Rule("la-level-block", ERROR, "LA-level block missing, misnamed or repeated")
NO_WORKERS = Rule("no-workers", ERROR, "no CSWWWorker records")

UNKNOWN_ELEMENT = Rule("unknown-element", ERROR, "element not in the CSWW specification")
ELEMENT_NOT_IN_YEAR = Rule("element-not-in-year", ERROR, "element not collected in this year")
ELEMENT_ORDER = Rule("element-order", ERROR, "elements out of the specification order")
ELEMENT_REPEATED = Rule("element-repeated", ERROR, "element that may appear once appears again")
MISSING_REQUIRED = Rule("missing-required", ERROR, "required element missing")
EMPTY_VALUE = Rule("empty-value", ERROR, "element present but empty")
UNKNOWN_CODE = Rule("unknown-code", ERROR, "code not in the code list")
NUMBER_FORMAT = Rule("number-format", ERROR, "not a number")
DATE_FORMAT = Rule("date-format", ERROR, "not a YYYY-MM-DD date")
SWE_FORMAT = Rule("swe-format", ERROR, "SWENo not 2 letters and 10 digits")

FTE_RANGE = Rule("fte-range", ERROR, "FTE or FTE30 not more than 0 and at most 1")
FTE_PRECISION = Rule("fte-precision", WARNING, "FTE or FTE30 with more than 6 decimal places")
NEGATIVE_VALUE = Rule("negative-value", ERROR, "negative count or amount")
DAYS_LOST_RANGE = Rule("days-lost-range", ERROR, "WorkingDaysLost not between 0 and 366")
CONTRACT_WEEKS_RANGE = Rule("contract-weeks-range", WARNING, "ContractWeeks more than the weeks in the year")
DATE_FUTURE = Rule("date-future", ERROR, "date after today")
DATE_TOO_EARLY = Rule("date-too-early", ERROR, "implausibly early date")
AGE_RANGE = Rule("age-range", WARNING, "age at the reference date outside 18-75")

ROLE_START_AFTER_REFERENCE = Rule("role-start-after-reference", ERROR, "role starts after the reference date")
ROLE_END_AFTER_REFERENCE = Rule("role-end-after-reference", WARNING, "role ends after the reference date")
ROLE_END_BEFORE_START = Rule("role-end-before-start", ERROR, "RoleEndDate before RoleStartDate")
ROLE_END_BEFORE_YEAR = Rule("role-end-before-year", ERROR, "role ended before the collection year")
LEAVER_IN_POST = Rule("leaver-in-post", ERROR, "leaver with FTE30 or Cases30 above 0")
FTE30_MISSING = Rule("fte30-missing", WARNING, "no FTE30 for a worker in post, so not counted in post")
ROLE_START_MISSING = Rule("role-start-missing", WARNING, "no RoleStartDate, so not counted in post")
FTE_MISSING = Rule("fte-missing", WARNING, "no FTE for a leaver or starter")
QUAL_INST_MISSING = Rule("qual-inst-missing", WARNING, "no QualInst (the schema expects one)")
DUPLICATE_ROLE = Rule("duplicate-role", ERROR, "same worker-role twice")

RULES: dict[str, Rule] = {r.id: r for r in list(globals().values()) if isinstance(r, Rule)}
"""Every rule above, by id."""


class Finding(NamedTuple):
    """A problem found in values; the parser adds where it is (line, worker record)."""

    rule: Rule
    element: str | None
    value: str | None
    message: str


Values = dict[str, Any]
"""One block's converted values by element name: None when present but unreadable, absent when absent."""

PERSONAL_ELEMENTS = frozenset({"SWENo", "PersonBirthDate"})
"""Never copied into an issue's value: reports travel further than the return (e-mail, tickets)."""

# -- limits, and the year a return is checked against -------------------------------------------

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
EARLIEST_ROLE_DATE = dt.date(1950, 1, 1)
"""A role date before 1950 is a typing slip: nobody in a 2017+ return started work that early."""
AGE_LIMITS = (18, 75)
MAX_DAYS_LOST = 366
MAX_FTE_DECIMALS = 6


@dataclass(frozen=True)
class YearContext:
    """What the checks need to know about the return being read."""

    year: int
    reference_date: dt.date
    collection_start: dt.date
    today: dt.date
    worker_elements: frozenset[str]
    weeks_in_year: float
    """365 or 366 days over 7, to ContractWeeks' 1 decimal place: 52.1, or 52.3 with a 29 February."""

    @classmethod
    def for_year(cls, year: int, today: dt.date | None = None) -> YearContext:
        start, reference = spec.collection_start(year), spec.reference_date(year)
        return cls(
            year,
            reference,
            start,
            today or dt.date.today(),
            frozenset(e.name for e in spec.worker_elements(year)),
            round(((reference - start).days + 1) / 7, 1),
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
        SWE_FORMAT,
        "SWENo",
        None,
        f"SWENo is not 2 letters followed by 10 digits (it has {len(text)} characters). "
        "Give the worker's Social Work England registration number exactly as registered.",
    )


def _fte(name: str) -> ValueCheck:
    hint = " For a leaver, FTE is their FTE on the day they left." if name == "FTE" else ""

    def check(value: Any, text: str, ctx: YearContext) -> Finding | None:
        if not 0 < value <= 1:
            return Finding(
                FTE_RANGE,
                name,
                text,
                f"{name} must be more than 0 and at most 1 (1 is full time).{hint} Correct it, or leave "
                f"{name} out if it does not apply.",
            )
        point = text.find(".")
        if point >= 0 and len(text) - point - 1 > MAX_FTE_DECIMALS:
            return Finding(
                FTE_PRECISION,
                name,
                text,
                f"{name} has more than {MAX_FTE_DECIMALS} decimal places; DfE's format allows "
                f"{MAX_FTE_DECIMALS}. Round it.",
            )
        return None

    return check


def _negative(name: str, text: str) -> Finding:
    return Finding(NEGATIVE_VALUE, name, text, f"{name} cannot be negative; give 0 if there is none.")


def _non_negative(name: str) -> ValueCheck:
    def check(value: Any, text: str, ctx: YearContext) -> Finding | None:
        return None if value >= 0 else _negative(name, text)

    return check


def _check_days_lost(value: Any, text: str, ctx: YearContext) -> Finding | None:
    if 0 <= value <= MAX_DAYS_LOST:
        return None
    return Finding(
        DAYS_LOST_RANGE,
        "WorkingDaysLost",
        text,
        f"WorkingDaysLost must be between 0 and {MAX_DAYS_LOST}: it is the FTE days lost to sickness "
        "in the collection year. Correct it.",
    )


def _check_contract_weeks(value: Any, text: str, ctx: YearContext) -> Finding | None:
    if 0 <= value <= ctx.weeks_in_year:
        return None
    if value < 0:
        return _negative("ContractWeeks", text)
    return Finding(
        CONTRACT_WEEKS_RANGE,
        "ContractWeeks",
        text,
        f"ContractWeeks is more than the {ctx.weeks_in_year} weeks in the collection year. Check that it "
        f"counts only the weeks the agency worker was contracted between {ctx.collection_start:%-d %B %Y} "
        f"and {ctx.reference_date:%-d %B %Y}.",
    )


def _date_bounds(name: str) -> ValueCheck:
    earliest = EARLIEST_BIRTH_DATE if name == "PersonBirthDate" else EARLIEST_ROLE_DATE
    shown = (lambda text: None) if name in PERSONAL_ELEMENTS else (lambda text: text)

    def check(value: Any, text: str, ctx: YearContext) -> Finding | None:
        if value > ctx.today:
            return Finding(DATE_FUTURE, name, shown(text), f"{name} is in the future; correct the date.")
        if value < earliest:
            return Finding(
                DATE_TOO_EARLY,
                name,
                shown(text),
                f"{name} is before {earliest.year}, which cannot be right for this return; correct the date.",
            )
        return None

    return check


_birth_date_bounds = _date_bounds("PersonBirthDate")


def _check_birth_date(value: Any, text: str, ctx: YearContext) -> Finding | None:
    """A birth date in the future or before 1900 is an error; an age outside 18-75 a warning."""
    out_of_bounds = _birth_date_bounds(value, text, ctx)
    if out_of_bounds is not None:
        return out_of_bounds
    born, ref = value, ctx.reference_date
    age = ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))
    low, high = AGE_LIMITS
    if low <= age <= high:
        return None
    return Finding(
        AGE_RANGE,
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
    if name == "PersonBirthDate":
        return _check_birth_date
    if kind in (spec.DECIMAL, spec.INTEGER):
        return _non_negative(name)
    if kind == spec.DATE:
        return _date_bounds(name)
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
                ROLE_START_AFTER_REFERENCE,
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
                ROLE_END_BEFORE_START,
                "RoleEndDate",
                _iso(end),
                f"RoleEndDate is before RoleStartDate ({start}); correct one of the two dates.",
            )
        )
    if end < ctx.collection_start:
        found.append(
            Finding(
                ROLE_END_BEFORE_YEAR,
                "RoleEndDate",
                _iso(end),
                f"This role ended before the collection year began on {ctx.collection_start}, so it does not "
                f"belong in the {ctx.year} return. Remove the worker, or correct RoleEndDate.",
            )
        )
    elif ref < end <= ctx.today:
        found.append(
            Finding(
                ROLE_END_AFTER_REFERENCE,
                "RoleEndDate",
                _iso(end),
                f"RoleEndDate is after the reference date {ref}, so this worker counts as in post on "
                f"{ref:%-d %B %Y}, not as a leaver. If they left during the collection year, correct the "
                "date.",
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
                    LEAVER_IN_POST,
                    name,
                    str(value),
                    f"This worker left on {end} (RoleEndDate, on or before the reference date) but has "
                    f"{name} above 0. A leaver is not in post on 30 September: remove {name}, or remove "
                    "RoleEndDate if they were still in post.",
                )
            )
    return found


def _measure_inputs(values: Values, ctx: YearContext) -> list[Finding]:
    """Warnings for missing values that the published measures need (see docs/measures.md)."""
    start, end = values.get("RoleStartDate"), values.get("RoleEndDate")
    found: list[Finding] = []
    if "RoleStartDate" not in values:
        found.append(
            Finding(
                ROLE_START_MISSING,
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
                FTE30_MISSING,
                "FTE30",
                None,
                f"No FTE30 for a worker who had not left by {ref:%-d %B %Y}. Without FTE30 the measures "
                "treat this worker as not in post (left out of in-post FTE, headcount, caseload and agency "
                "rates). Add their FTE on 30 September, or a RoleEndDate if they had left.",
            )
        )
    leaver = ended and end >= ctx.collection_start
    starter = start is not None and ctx.collection_start <= start <= ref
    if (leaver or starter) and values.get("AgencyWorker") is False and "FTE" not in values:
        who = "leaver" if leaver else "starter"
        found.append(
            Finding(
                FTE_MISSING,
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
    if "QualInst" not in values and "QualInst" in ctx.worker_elements:
        found.append(
            Finding(
                QUAL_INST_MISSING,
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
            DUPLICATE_ROLE,
            None,
            None,
            f"Worker records {first} (line {self._lines[first - 1]}) and {record} (line {line}) are the "
            "same worker-role: same SWENo, AgencyWorker, OrgRole and RoleStartDate. Remove the duplicate, "
            "or correct the role or start date if they are different posts.",
        )


# -- the Header ---------------------------------------------------------------------------------

_YEAR_TEXT = re.compile(r"\d{4}")
_LEA_TEXT = re.compile(r"\d{3}")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_collection(collection: str | None) -> Finding | None:
    if collection == "CSWW":
        return None
    if collection is None:
        return Finding(
            HEADER_COLLECTION,
            "Collection",
            None,
            "Header/CollectionDetails/Collection is missing; it must be CSWW.",
        )
    return Finding(
        HEADER_COLLECTION,
        "Collection",
        collection,
        "Collection must be CSWW: this does not look like a children's social work workforce return.",
    )


def parse_year(text: str | None, today: dt.date) -> tuple[int | None, Finding | None]:
    """The Header Year as an int, or a finding saying why it cannot be used."""
    if text is None:
        return None, Finding(
            HEADER_YEAR,
            "Year",
            None,
            "Header/CollectionDetails/Year is missing; give the collection year, e.g. 2022.",
        )
    if not _YEAR_TEXT.fullmatch(text):
        return None, Finding(HEADER_YEAR, "Year", text, "Year must be a 4-digit collection year, e.g. 2022.")
    year = int(text)
    if not spec.FIRST_YEAR <= year <= today.year:
        return None, Finding(
            HEADER_YEAR,
            "Year",
            text,
            f"Year {year} is not a collection year the warehouse can load ({spec.FIRST_YEAR} to {today.year}).",
        )
    return year, None


def parse_reference_date(text: str | None, year: int | None) -> tuple[dt.date | None, Finding | None]:
    if text is None:
        return None, Finding(
            HEADER_REFERENCE_DATE,
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
            HEADER_REFERENCE_DATE,
            "ReferenceDate",
            text,
            "ReferenceDate must be a date in the form YYYY-MM-DD.",
        )
    if year is not None and date != spec.reference_date(year):
        return date, Finding(
            HEADER_REFERENCE_DATE,
            "ReferenceDate",
            text,
            f"ReferenceDate must be 30 September of the collection year ({spec.reference_date(year)}).",
        )
    return date, None


def check_lea(old_la_code: str | None) -> Finding | None:
    if old_la_code is None:
        return Finding(
            HEADER_LEA, "LEA", None, "Header/Source/LEA is missing; give your 3-digit DfE LA code, e.g. 301."
        )
    if not _LEA_TEXT.fullmatch(old_la_code):
        return Finding(HEADER_LEA, "LEA", old_la_code, "LEA must be your 3-digit DfE LA code, e.g. 301.")
    return None


def check_expected(
    old_la_code: str | None, year: int | None, expected_old_la_code: str | None, expected_year: int | None
) -> list[Finding]:
    """The Header wins over the folder a file sits in, so any difference is reported, never guessed."""
    found: list[Finding] = []
    if expected_old_la_code is not None and old_la_code is not None and old_la_code != expected_old_la_code:
        found.append(
            Finding(
                LEA_MISMATCH,
                "LEA",
                old_la_code,
                f"The Header says LEA {old_la_code} but the file is in the folder for LA {expected_old_la_code}. The "
                "warehouse takes the LA and year from the Header, so correct the Header or move the file "
                f"to the folder for LA {old_la_code}.",
            )
        )
    if expected_year is not None and year is not None and year != expected_year:
        found.append(
            Finding(
                YEAR_MISMATCH,
                "Year",
                str(year),
                f"The Header says Year {year} but the file is in the folder for {expected_year}. The "
                "warehouse takes the LA and year from the Header, so correct the Header or move the file "
                f"to the folder for {year}.",
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
            HEADER_DATETIME,
            "DateTime",
            text,
            "DateTime should be when the file was made, e.g. 2022-10-14T09:30:00; it is kept for information only.",
        )
