"""Independent checks of synthetic returns, shared by the test_generate_* modules (no tests here).

Returns are parsed with lxml and aggregated with a small implementation of docs/measures.md of
its own, written from the document and not from the generator's code, so a generator that drifts
from the contract fails these checks.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from lxml import etree

from orchestration.lib.sources.csww import spec

RATE_TOLERANCE = Decimal("0.05")
SWE_PATTERN = re.compile(r"[A-Za-z]{2}\d{10}")


@dataclass
class ParsedReturn:
    year: int
    old_la_code: str
    software_code: str
    block_name: str
    la_level: dict[str, str]
    workers: list[list[tuple[str, str]]]
    """Each worker's child elements in file order, as (name, text)."""


def parse_return(path: Path) -> ParsedReturn:
    root = etree.parse(str(path)).getroot()
    block = root[1]
    return ParsedReturn(
        year=int(root.findtext("Header/CollectionDetails/Year")),
        old_la_code=root.findtext("Header/Source/LEA"),
        software_code=root.findtext("Header/Source/SoftwareCode"),
        block_name=block.tag,
        la_level={child.tag: child.text for child in block},
        workers=[[(child.tag, child.text) for child in worker] for worker in root.iter("CSWWWorker")],
    )


def first(worker: list[tuple[str, str]], name: str) -> str | None:
    return next((text for tag, text in worker if tag == name), None)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@dataclass
class Flags:
    agency: bool
    leaver: bool
    holds_post: bool
    in_post: bool
    starter: bool
    case_holder: bool


def flags(worker: list[tuple[str, str]], year: int) -> Flags:
    """The flags of docs/measures.md, "Flags on each worker-role"."""
    start, census = dt.date(year - 1, 10, 1), dt.date(year, 9, 30)
    agency = first(worker, "AgencyWorker") == "1"
    ended, started = _date(first(worker, "RoleEndDate")), _date(first(worker, "RoleStartDate"))
    fte30 = Decimal(first(worker, "FTE30") or "0")
    holds_post = (ended is None or ended > census) and started is not None and started <= census
    in_post = holds_post and fte30 > 0
    return Flags(
        agency=agency,
        leaver=ended is not None and start <= ended <= census,
        holds_post=holds_post,
        in_post=in_post,
        starter=not agency and started is not None and start <= started <= census,
        case_holder=in_post and int(first(worker, "Cases30") or "0") > 0,
    )


def aggregate(parsed: ParsedReturn) -> dict[str, Decimal | int]:
    """The counts of docs/measures.md, "Counts", from one return.

    Heads as docs/measures.md, "Headcounts: who counts once" (DfE's methodology): in post by
    person, starters by person and start date, leavers by person and leaving date, agency by record.
    """
    sums = {name: Decimal(0) for name in ("inpost", "starters", "leavers", "agency", "case_holders", "days")}
    heads: dict[str, set[object]] = {name: set() for name in ("inpost", "starters", "leavers", "agency")}
    cases = 0
    for number, worker in enumerate(parsed.workers):
        f, swe = flags(worker, parsed.year), first(worker, "SWENo")
        fte, fte30 = Decimal(first(worker, "FTE") or "0"), Decimal(first(worker, "FTE30") or "0")
        if f.in_post and not f.agency:
            sums["inpost"] += fte30
            sums["days"] += Decimal(first(worker, "WorkingDaysLost") or "0")
        if f.holds_post and not f.agency:
            heads["inpost"].add(swe)
        if f.starter:
            sums["starters"] += fte
            heads["starters"].add((swe, first(worker, "RoleStartDate")))
        if f.leaver and not f.agency:
            sums["leavers"] += fte
            heads["leavers"].add((swe, first(worker, "RoleEndDate")))
        if f.in_post and f.agency:
            sums["agency"] += fte30
            heads["agency"].add(number)
        if f.case_holder:
            sums["case_holders"] += fte30
            cases += int(first(worker, "Cases30"))
    counts: dict[str, Decimal | int] = {f"{name}_fte": value for name, value in sums.items() if name in heads}
    counts.update({f"{name}_headcount": len(people) for name, people in heads.items()})
    counts.update(
        case_holders_fte=sums["case_holders"],
        cases=cases,
        working_days_lost_fte=sums["days"],
        vacancy_fte=Decimal(parsed.la_level["NumberOfVacancies"]),
        agency_cover_fte=Decimal(parsed.la_level["NoAgencyFTE"]),
    )
    return counts


def _ratio(top: Decimal | int, bottom: Decimal | int, factor: Decimal = Decimal(100)) -> Decimal | None:
    return None if bottom == 0 else Decimal(top) / Decimal(bottom) * factor


def working_days(year: int) -> int:
    """docs/measures.md: 253, one more when the collection year has 366 days (holds 29 February)."""
    return 253 + (dt.date(year, 9, 30) - dt.date(year - 1, 10, 1)).days + 1 - 365


def rates(c: dict[str, Decimal | int], year: int) -> dict[str, Decimal | None]:
    """docs/measures.md, "Rates"."""
    return {
        "turnover_rate_fte": _ratio(c["leavers_fte"], c["inpost_fte"]),
        "turnover_rate_headcount": _ratio(c["leavers_headcount"], c["inpost_headcount"]),
        "agency_rate_fte": _ratio(c["agency_fte"], c["agency_fte"] + c["inpost_fte"]),
        "agency_rate_headcount": _ratio(c["agency_headcount"], c["agency_headcount"] + c["inpost_headcount"]),
        "agency_cover_rate_fte": _ratio(c["agency_cover_fte"], c["agency_fte"]),
        "vacancy_rate_fte": _ratio(c["vacancy_fte"], c["vacancy_fte"] + c["inpost_fte"]),
        "vacancy_agency_cover_rate_fte": _ratio(c["agency_cover_fte"], c["vacancy_fte"]),
        "caseload_fte": _ratio(c["cases"], c["case_holders_fte"], Decimal(1)),
        "absence_rate_fte": _ratio(c["working_days_lost_fte"], c["inpost_fte"] * working_days(year)),
    }


def _release_rows(release_dir: Path) -> list[dict[str, str]]:
    rows = []
    for path in sorted(release_dir.glob("*.csv")):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def published_rows(release_dir: Path) -> dict[tuple[str, int], dict[str, str]]:
    """LA rows of the DfE release files, keyed by (old_la_code as published, year)."""
    return {
        (row["old_la_code"], int(row["time_period"])): row
        for row in _release_rows(release_dir)
        if row["geographic_level"] == "Local authority"
    }


ENGLAND, LONDON, LONDON_SUB_REGIONS = "E92000001", "E12000007", ("E13000001", "E13000002")


def published_group_rows(release_dir: Path) -> dict[tuple[str, int], dict[str, str]]:
    """Regional (London sub-regions included) and England rows, keyed by (area code, year)."""
    rows = {}
    for row in _release_rows(release_dir):
        if row["geographic_level"] in ("Regional", "National"):
            code = row["region_code"] if row["geographic_level"] == "Regional" else row["country_code"]
            rows[(code, int(row["time_period"]))] = row
    return rows


def group_members(la_rows: dict[tuple[str, int], dict[str, str]], year: int) -> dict[str, list[str]]:
    """Each group's LA rows of `year` as return LEAs: a joint row ("314 / 318") is one return, under its lead.

    An LA row's region_code is its region, or for London its sub-region; London is both sub-regions.
    """
    groups: dict[str, list[str]] = {ENGLAND: []}
    for (area, row_year), row in sorted(la_rows.items()):
        if row_year != year:
            continue
        old_la_code = area.split(" / ")[0]
        codes = [ENGLAND, row["region_code"]] + ([LONDON] if row["region_code"] in LONDON_SUB_REGIONS else [])
        for code in codes:
            groups.setdefault(code, []).append(old_la_code)
    return groups


def group_counts(counts: dict[str, dict[str, Decimal | int]], members: list[str]) -> dict[str, Decimal | int]:
    """A group's counts: the sums of its members' (docs/measures.md, "Group rows")."""
    return {name: sum(counts[old_la_code][name] for old_la_code in members) for name in counts[members[0]]}


def published_number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except ArithmeticError:
        return None


def calibration_misses(counts: dict[str, Decimal | int], published: dict[str, str]) -> list[str]:
    """Every published count that the return does not reproduce at DfE's rounding, and every rate off by >0.05."""
    misses = []
    for name, value in counts.items():
        target = published_number(published[name])
        if target is None:
            continue
        shown = value if isinstance(value, int) else value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if shown != target:
            misses.append(f"{name}: {value} is not published {target}")
    for name, value in rates(counts, int(published["time_period"])).items():
        target = published_number(published[name]) if published[name] != "low" else Decimal(0)
        if target is not None and (value is None or abs(value - target) > RATE_TOLERANCE):
            misses.append(f"{name}: {value} is not published {target}")
    return misses


def _age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _code_lists(year: int) -> dict[str, dict[str, str]]:
    return {e.name: e.codes for e in spec.worker_elements(year) if e.codes}


def worker_rule_breaks(worker: list[tuple[str, str]], year: int) -> list[str]:
    """The record rules the generator promises (issue #generate, rule-consistent records)."""
    breaks = []
    names = [tag for tag, _ in worker]
    f = flags(worker, year)
    start, census = dt.date(year - 1, 10, 1), dt.date(year, 9, 30)
    fte = Decimal(first(worker, "FTE"))
    started = _date(first(worker, "RoleStartDate"))
    codes = _code_lists(year)
    if not 0 < fte <= 1 or len(first(worker, "FTE").split(".")[1]) != 6:
        breaks.append(f"FTE {fte}")
    if not SWE_PATTERN.fullmatch(first(worker, "SWENo")):
        breaks.append("SWENo pattern")
    if not 21 <= _age(_date(first(worker, "PersonBirthDate")), census) <= 70:
        breaks.append("age")
    breaks += [f"{tag}={text}" for tag, text in worker if tag in codes and text not in codes[tag]]
    if "RoleEndDate" in names:
        if not f.leaver or "FTE30" in names or "Cases30" in names:
            breaks.append("leaver with FTE30/Cases30 or end outside the year")
    else:
        if not f.in_post or first(worker, "FTE30") != first(worker, "FTE"):
            breaks.append("in post without FTE30 = FTE")
    if ("LeaverDestination" in names or "ReasonLeave" in names) and not f.leaver:
        breaks.append("leaver codes on a non-leaver")
    if f.starter and "StartOrigin" not in names:
        breaks.append("starter without StartOrigin")
    if started is None or started > census or (not f.agency and not f.starter and started >= start):
        breaks.append("RoleStartDate")
    if f.leaver and _date(first(worker, "RoleEndDate")) <= started:
        breaks.append("ends before it starts")
    if int(first(worker, "Cases30") or "0") > 0 and not f.in_post:
        breaks.append("case holder not in post")
    if "WorkingDaysLost" in names and (f.agency or not f.in_post):
        breaks.append("WorkingDaysLost off an LA worker in post")
    if f.agency and "ContractWeeks" not in names:
        breaks.append("agency worker without ContractWeeks")
    if ("ReasonAbsence" in names) != (first(worker, "Absat30Sept") == "1"):
        breaks.append("ReasonAbsence without Absat30Sept=1")
    return breaks


def return_rule_breaks(parsed: ParsedReturn) -> list[str]:
    """Rule breaks of every record, element order and duplicate worker-roles."""
    order = [e.name for e in spec.worker_elements(parsed.year)]
    breaks = []
    keys = set()
    for number, worker in enumerate(parsed.workers):
        names = [tag for tag, _ in worker]
        if names != [n for n in order if n in names] or not set(names) <= set(order):
            breaks.append(f"worker {number}: elements out of the {parsed.year} order")
        breaks += [f"worker {number}: {b}" for b in worker_rule_breaks(worker, parsed.year)]
        key = tuple(first(worker, n) for n in ("SWENo", "AgencyWorker", "OrgRole", "RoleStartDate"))
        if key in keys:
            breaks.append(f"worker {number}: duplicate worker-role {key}")
        keys.add(key)
    return breaks
