"""The CSWW census return as data: elements, their order per collection year, and code lists.

One description serves the synthetic-return writer, the parser and the validator, so the three
cannot drift apart. Sources: DfE's CSWW return as described in the project's domain brief and the
Social Finance XSD for 2021-2022 (MIT). DfE's own 2025 specification is not among the reference
files; the names of the nine 2025 LA-level pay and benefit flags below are this project's working
names, kept here and nowhere else so a correction is a one-line change.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

FIRST_YEAR = 2017
"""Earliest collection year the warehouse reads (the first DfE indicators year)."""

ETHNICITY = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WOTH": "Any other White background",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other Mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Black Caribbean",
    "BAFR": "Black African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Declared not stated or refused",
    "NOBT": "Information not yet obtained",
}
GENDER_CURRENT = {"0": "Not known", "1": "Male", "2": "Female", "9": "Not specified"}
SEX = {"M": "Male", "F": "Female"}
YES_NO = {"0": "No", "1": "Yes"}
QUAL_LEVEL = {"1": "Undergraduate", "2": "Postgraduate", "3": "Other"}
ORG_ROLE = {
    "1": "Senior manager",
    "2": "Middle manager",
    "3": "First line manager",
    "4": "Senior practitioner",
    "5": "Case holder",
    "6": "Qualified without cases",
}
START_ORIGIN = {
    "1": "Newly qualified social worker",
    "2": "Social worker role in a different local authority in England",
    "3": "Social worker role outside England",
    "4": "Agency or consultancy in social work (in England)",
    "5": "Other social work role, non-local authority (in England)",
    "6": "Other social care role in local authority or non-local authority (in England)",
    "7": "Non-social care role, any role outside England, no employment or career break",
    "8": "Other",
    "9": "Not known",
    "10": "Not yet collected",
}
LEAVER_DESTINATION = {
    "1": "Social worker role in a different local authority in England",
    "2": "Social worker role outside England",
    "3": "Agency or consultancy in social work (in England)",
    "4": "Other social work role, non-local authority (in England)",
    "5": "Other social care role in local authority or non-local authority (in England)",
    "6": "Non-social care role, any role outside England, no employment or career break",
    "7": "Other",
    "8": "Not known",
    "9": "Not yet collected",
}
REASON_LEAVE = {
    "1": "Resignation",
    "2": "Voluntary redundancy",
    "3": "Compulsory redundancy",
    "4": "Dismissed",
    "5": "Retired",
    "6": "Deceased",
    "7": "Moved to a non-child and family social work role within the LA",
    "8": "Other",
    "9": "Not known",
    "10": "Not yet collected",
}
REASON_ABSENCE = {
    "MAT": "Maternity or paternity leave",
    "OTH": "Other paid authorised absence",
    "PUB": "Paid absence for public duties",
    "SIC": "Sick leave",
    "TRN": "Training",
    "UNA": "Unauthorised absence",
    "UNP": "Unpaid authorised absence",
}
CFKSS_STATUS = {
    "1": "Assessed and supported year in employment (ASYE)",
    "2": "Frontline practitioner",
    "3": "Practice supervisor",
    "4": "Practice leader",
}
PAY_FLAG = {"0": "No", "1": "All eligible", "2": "Some eligible"}

START_ORIGIN_OTHER_LA = "2"
LEAVER_DESTINATION_OTHER_LA = "1"

# Kinds of value, each with one parse rule in the parser and one format in the writer.
CODE, TEXT, DECIMAL, INTEGER, DATE = "code", "text", "decimal", "integer", "date"


@dataclass(frozen=True)
class Element:
    """One child element of CSWWWorker or of the LA-level block."""

    name: str
    kind: str
    codes: dict[str, str] | None = None
    repeats: bool = False
    first_year: int = FIRST_YEAR
    last_year: int | None = None
    required: bool = False
    column_name: str = ""
    """Its column in the warehouse's raw tables, when not the element's name in snake case."""

    @property
    def column(self) -> str:
        return self.column_name or snake_case(self.name)

    def in_year(self, year: int) -> bool:
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)


def snake_case(name: str) -> str:
    """NoAgencyFTE → no_agency_fte, PayMarketSupplement → pay_market_supplement, FTE30 → fte30."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


WORKER_ELEMENTS: tuple[Element, ...] = (
    Element("AgencyWorker", CODE, YES_NO, required=True),
    Element("SWENo", TEXT, required=True, column_name="swe_pseudonym"),
    Element("FTE", DECIMAL),
    Element("PersonBirthDate", DATE, column_name="birth_month"),
    Element("GenderCurrent", CODE, GENDER_CURRENT, last_year=2023),
    Element("Sex", CODE, SEX, first_year=2024),
    Element("Ethnicity", CODE, ETHNICITY),
    Element("QualInst", TEXT, repeats=True, last_year=2024),
    Element("QualLevel", CODE, QUAL_LEVEL),
    Element("StepUpGrad", CODE, YES_NO),
    Element("OrgRole", CODE, ORG_ROLE),
    Element("RoleStartDate", DATE),
    Element("StartOrigin", CODE, START_ORIGIN),
    Element("RoleEndDate", DATE),
    Element("LeaverDestination", CODE, LEAVER_DESTINATION),
    Element("ReasonLeave", CODE, REASON_LEAVE),
    Element("FTE30", DECIMAL),
    Element("Cases30", INTEGER),
    Element("WorkingDaysLost", DECIMAL),
    Element("ContractWeeks", DECIMAL, repeats=True),
    Element("FrontlineGrad", CODE, YES_NO),
    Element("Absat30Sept", CODE, YES_NO, repeats=True, column_name="absent_at_30_sept"),
    Element("ReasonAbsence", CODE, REASON_ABSENCE, repeats=True),
    Element("CFKSSstatus", CODE, CFKSS_STATUS, repeats=True, last_year=2024, column_name="cfkss_status"),
    Element("BaseSalary", DECIMAL, first_year=2025),
    Element("RRPayments", DECIMAL, first_year=2025),
    Element("OtherPayments", DECIMAL, first_year=2025),
)

PAY_FLAG_NAMES = (
    "PayMarketSupplement",
    "PayRecruitmentBonus",
    "PayRetentionBonus",
    "PayRelocation",
    "PayHousing",
    "PayTravel",
    "PayProfessionalFees",
    "PayStudentLoan",
    "PayFlexibleWorking",
)
LA_LEVEL_ELEMENTS: tuple[Element, ...] = (
    Element("NumberOfVacancies", DECIMAL, required=True),
    Element("NoAgencyFTE", DECIMAL, required=True),
    Element("NoAgencyHeadcount", INTEGER, required=True),
    *(Element(name, CODE, PAY_FLAG, first_year=2025) for name in PAY_FLAG_NAMES),
)


def la_level_block_name(year: int) -> str:
    """The LA-level block was renamed from LALevelVacancies to LALevel in 2025."""
    return "LALevel" if year >= 2025 else "LALevelVacancies"


def worker_elements(year: int) -> tuple[Element, ...]:
    return tuple(e for e in WORKER_ELEMENTS if e.in_year(year))


def la_level_elements(year: int) -> tuple[Element, ...]:
    return tuple(e for e in LA_LEVEL_ELEMENTS if e.in_year(year))


def reference_date(year: int) -> dt.date:
    """The census date: 30 September of the collection year."""
    return dt.date(year, 9, 30)


def collection_start(year: int) -> dt.date:
    """First day of the collection year (1 October of the previous calendar year)."""
    return dt.date(year - 1, 10, 1)
