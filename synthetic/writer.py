"""CSWW XML text for one return, built column by column as strings.

An lxml tree per worker would be several times slower; the values here are codes, digits and a
fixed list of institution names, so escaping once is enough. Elements and their order come from
`spec` for the return's year, so a new year variant needs a formatter here and nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from xml.sax.saxutils import escape

import numpy as np

from orchestration.lib.sources.csww import spec
from synthetic.calibration import Targets
from synthetic.measures import CENTI, MICRO
from synthetic.people import QUALIFYING_INSTITUTIONS, PersonRegistry
from synthetic.records import AGENCY, IN_POST, STAFF_IN_POST
from synthetic.roster import Roster

INDENT = "    "
Column = list[str]


@cache
def _iso_date(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def _decimal(amounts: np.ndarray, unit: int) -> list[str]:
    """Exact decimals of whole amounts of 1/unit, with as many places as the unit has zeros."""
    places = len(str(unit)) - 1
    return [f"{a // unit}.{a % unit:0{places}d}" for a in amounts.tolist()]


def _codes(positions: np.ndarray, codes: dict[str, str], offset: int = 0) -> list[str]:
    """Codes from their positions in a spec code list (offset 1 where 0 means none)."""
    keys = list(codes)
    return [keys[p - offset] for p in positions.tolist()]


def _dates(ordinals: np.ndarray) -> list[str]:
    return [_iso_date(o) for o in ordinals.tolist()]


def _whole(values: np.ndarray) -> list[str]:
    return [str(v) for v in values.tolist()]


class _Columns:
    """The values of one return's records, element by element."""

    def __init__(self, roster: Roster, people: PersonRegistry):
        self.records = roster.records
        self.person = people.take(self.records["person"])
        self.people = people
        category = self.records["category"]
        self.agency = category == AGENCY
        self.in_post = np.isin(category, IN_POST)
        self.staff_in_post = np.isin(category, STAFF_IN_POST)

    def formatters(self) -> dict[str, Callable[[], tuple[list[str], np.ndarray | None]]]:
        """Element -> (texts, which records carry it; None for all)."""
        r, p = self.records, self.person
        institutions = [escape(name) for name in QUALIFYING_INSTITUTIONS]
        employed = ~self.agency
        return {
            "AgencyWorker": lambda: (np.where(self.agency, "1", "0").tolist(), None),
            "SWENo": lambda: (self.people.swe_numbers(r["person"]), None),
            "FTE": lambda: (_decimal(r["fte"], MICRO), None),
            "PersonBirthDate": lambda: (_dates(p["birth"]), None),
            "GenderCurrent": lambda: (_codes(p["gender"], spec.GENDER_CURRENT), None),
            "Sex": lambda: (np.where(p["female"] == 1, "F", "M").tolist(), None),
            "Ethnicity": lambda: (_codes(p["ethnicity"], spec.ETHNICITY), None),
            "QualInst": lambda: ([institutions[i] for i in p["qual_inst"].tolist()], None),
            "QualLevel": lambda: (_codes(p["qual_level"], spec.QUAL_LEVEL), None),
            "StepUpGrad": lambda: (_whole(p["step_up"]), None),
            "OrgRole": lambda: (_whole(r["org_role"]), None),
            "RoleStartDate": lambda: (_dates(r["start"]), None),
            "StartOrigin": lambda: (_whole(r["origin"]), r["origin"] > 0),
            "RoleEndDate": lambda: (_dates(np.maximum(r["end"], 1)), r["end"] > 0),
            "LeaverDestination": lambda: (_whole(r["destination"]), r["destination"] > 0),
            "ReasonLeave": lambda: (_whole(r["reason"]), r["reason"] > 0),
            "FTE30": lambda: (_decimal(r["fte"], MICRO), self.in_post),
            "Cases30": lambda: (_whole(r["cases"]), self.in_post),
            "WorkingDaysLost": lambda: (_decimal(r["days_lost"], CENTI), self.staff_in_post),
            "ContractWeeks": lambda: (_decimal(r["weeks"], 10), self.agency),
            "FrontlineGrad": lambda: (_whole(p["frontline"]), None),
            "Absat30Sept": lambda: (_whole(r["absent"]), self.staff_in_post),
            "ReasonAbsence": lambda: (
                _codes(r["absence_reason"], spec.REASON_ABSENCE, 1),
                r["absence_reason"] > 0,
            ),
            "CFKSSstatus": lambda: (_whole(r["cfkss"]), r["cfkss"] > 0),
            "BaseSalary": lambda: (_decimal(r["salary"], 100), employed),
            "RRPayments": lambda: (_decimal(r["retention_pay"], 100), employed),
            "OtherPayments": lambda: (_decimal(r["other_pay"], 100), employed),
        }

    def column(self, name: str, formatters: dict[str, Callable[[], tuple[list[str], np.ndarray | None]]]) -> Column:
        if name not in formatters:
            raise KeyError(f"the CSWW spec has worker element {name!r}, which the synthetic writer cannot fill")
        texts, present = formatters[name]()
        open_tag, close_tag = f"\n{INDENT}<{name}>", f"</{name}>"
        if present is None:
            return [f"{open_tag}{t}{close_tag}" for t in texts]
        return [f"{open_tag}{t}{close_tag}" if keep else "" for t, keep in zip(texts, present.tolist(), strict=True)]


def _header(roster: Roster, software_code: str) -> str:
    year = roster.year
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Message>\n"
        "  <Header>\n"
        "    <CollectionDetails>\n"
        "      <Collection>CSWW</Collection>\n"
        f"      <Year>{year}</Year>\n"
        f"      <ReferenceDate>{spec.reference_date(year).isoformat()}</ReferenceDate>\n"
        "    </CollectionDetails>\n"
        "    <Source>\n"
        "      <SourceLevel>L</SourceLevel>\n"
        f"      <LEA>{escape(roster.unit)}</LEA>\n"
        f"      <SoftwareCode>{escape(software_code)}</SoftwareCode>\n"
        f"      <DateTime>{roster.submitted}</DateTime>\n"
        "    </Source>\n"
        "  </Header>\n"
    )


def _la_level(roster: Roster, targets: Targets) -> str:
    values = {
        "NumberOfVacancies": targets.text("vacancy_fte"),
        "NoAgencyFTE": targets.text("agency_cover_fte"),
        "NoAgencyHeadcount": str(roster.agency_cover_headcount),
        **{name: list(spec.PAY_FLAG)[flag] for name, flag in zip(spec.PAY_FLAG_NAMES, roster.pay_flags, strict=True)},
    }
    block = spec.la_level_block_name(roster.year)
    lines = [f"    <{e.name}>{values[e.name]}</{e.name}>\n" for e in spec.la_level_elements(roster.year)]
    return f"  <{block}>\n{''.join(lines)}  </{block}>\n"


def render_return(roster: Roster, targets: Targets, people: PersonRegistry, software_code: str) -> bytes:
    """The return as UTF-8 XML bytes."""
    columns = _Columns(roster, people)
    formatters = columns.formatters()
    worker_columns = [columns.column(e.name, formatters) for e in spec.worker_elements(roster.year)]
    workers = ["  <CSWWWorker>" + "".join(parts) + "\n  </CSWWWorker>\n" for parts in zip(*worker_columns, strict=True)]
    text = _header(roster, software_code) + _la_level(roster, targets) + "".join(workers) + "</Message>\n"
    return text.encode("utf-8")
