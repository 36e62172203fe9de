"""The rules, one at a time, and the reports that carry them to a council analyst.

The parser-level rules (file, structure, element format) are exercised through parse_return in
test_csww_parser.py; here the value, worker, return and Header checks are called directly.
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from orchestration.lib.sources.csww import rules, spec
from orchestration.lib.sources.csww.issues import (
    Issue,
    IssueLog,
    format_report_text,
    issue_counts,
    write_report_csv,
)

CTX_2022 = rules.YearContext.for_year(2022, today=dt.date(2023, 1, 15))
ELEMENTS = {e.name: e for e in spec.WORKER_ELEMENTS}


def check(name: str, value: object, text: str | None = None, ctx: rules.YearContext = CTX_2022):
    value_check = rules.value_check(ELEMENTS[name])
    assert value_check is not None
    return value_check(value, str(value) if text is None else text, ctx)


def rule_ids(findings) -> list[str]:
    return [f.rule.id for f in findings]


IN_POST = {
    "AgencyWorker": False,
    "SWENo": "SW0000000001",
    "FTE": 1.0,
    "QualInst": ("University of Leeds",),
    "OrgRole": "5",
    "RoleStartDate": dt.date(2015, 3, 1),
    "FTE30": 1.0,
    "Cases30": 12,
}


def with_values(**changes: object) -> dict[str, object]:
    values = {**IN_POST, **changes}
    return {k: v for k, v in values.items() if v is not None}


# -- the catalogue ---------------------------------------------------------------------------------


def test_rule_ids_and_severities_are_stable():
    errors = {
        "file-unreadable", "file-empty", "xml-malformed", "xml-encoding", "xml-doctype", "wrong-root",
        "message-order", "header-missing", "header-collection", "header-year", "header-reference-date",
        "header-lea", "lea-mismatch", "year-mismatch", "la-level-block", "no-workers", "unknown-element",
        "element-not-in-year", "element-order", "element-repeated", "missing-required", "empty-value",
        "unknown-code", "number-format", "date-format", "swe-format", "fte-range", "negative-value",
        "days-lost-range", "date-future", "date-too-early", "role-start-after-reference",
        "role-end-before-start", "role-end-before-year", "leaver-in-post", "duplicate-role",
    }  # fmt: skip
    warnings = {
        "header-datetime", "fte-precision", "contract-weeks-range", "age-range", "role-end-after-reference",
        "fte30-missing", "role-start-missing", "fte-missing", "qual-inst-missing",
    }  # fmt: skip
    assert {r.id for r in rules.RULES.values() if r.severity == "error"} == errors
    assert {r.id for r in rules.RULES.values() if r.severity == "warning"} == warnings
    assert all(r.summary for r in rules.RULES.values())


def test_year_context():
    assert CTX_2022.reference_date == dt.date(2022, 9, 30)
    assert CTX_2022.collection_start == dt.date(2021, 10, 1)
    assert "GenderCurrent" in CTX_2022.worker_elements and "Sex" not in CTX_2022.worker_elements


# -- one value -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["FTE", "FTE30"])
def test_fte_must_be_above_0_and_at_most_1(name):
    assert check(name, 0.5) is None and check(name, 1.0) is None
    for bad in (0.0, -0.1, 1.4):
        finding = check(name, bad)
        assert (finding.rule.id, finding.element, finding.value) == ("fte-range", name, str(bad))
        assert "more than 0 and at most 1" in finding.message
    precision = check(name, 0.1234567, "0.1234567")
    assert (precision.rule.id, precision.rule.severity) == ("fte-precision", "warning")
    assert check(name, 0.123456, "0.123456") is None


def test_counts_and_amounts_cannot_be_negative():
    assert check("Cases30", 0) is None
    assert check("Cases30", -1).rule.id == "negative-value"
    assert check("BaseSalary", -5.0).rule.id == "negative-value"
    assert check("ContractWeeks", -1.0).rule.id == "negative-value"


def test_working_days_lost_range():
    assert check("WorkingDaysLost", 0.0) is None and check("WorkingDaysLost", 366.0) is None
    assert check("WorkingDaysLost", 366.5).rule.id == "days-lost-range"
    assert check("WorkingDaysLost", -0.5).rule.id == "days-lost-range"


def test_contract_weeks_beyond_the_weeks_in_the_year_is_a_warning():
    assert check("ContractWeeks", 52.1) is None, "365 days are 52.14 weeks"
    assert check("ContractWeeks", 52.2).rule.id == "contract-weeks-range"
    leap_year = rules.YearContext.for_year(2024, today=dt.date(2025, 1, 1))
    assert check("ContractWeeks", 52.3, ctx=leap_year) is None, "366 days are 52.29 weeks"
    finding = check("ContractWeeks", 288.7)
    assert (finding.rule.id, finding.rule.severity) == ("contract-weeks-range", "warning")
    assert finding.value == "288.7" and "52.1 weeks" in finding.message
    assert "1 October 2021" in finding.message and "30 September 2022" in finding.message


def test_dates_in_the_future_or_implausibly_early():
    assert check("RoleStartDate", dt.date(1950, 1, 1)) is None
    assert check("RoleStartDate", dt.date(1949, 12, 31)).rule.id == "date-too-early"
    assert check("RoleEndDate", dt.date(2023, 1, 16)).rule.id == "date-future"
    assert check("RoleEndDate", dt.date(2023, 1, 15)) is None


def test_birth_dates_give_an_age_warning_and_are_never_shown():
    assert check("PersonBirthDate", dt.date(1985, 6, 15)) is None
    old = check("PersonBirthDate", dt.date(1946, 9, 30))
    assert (old.rule.id, old.value) == ("age-range", None)
    assert "76 on 30 September 2022" in old.message
    assert check("PersonBirthDate", dt.date(1947, 10, 1)) is None, "75 on the reference date"
    assert check("PersonBirthDate", dt.date(2004, 10, 1)).rule.id == "age-range"
    assert check("PersonBirthDate", dt.date(1899, 1, 1)).rule.id == "date-too-early"
    future = check("PersonBirthDate", dt.date(2030, 1, 1))
    assert (future.rule.id, future.value) == ("date-future", None)


def test_swe_number_format():
    assert check("SWENo", "SW0000000001") is None
    assert check("SWENo", "sw0000000001") is None
    for bad in ("SW123", "SW00000000012", "1234567890SW", "SW 000000001"):
        finding = check("SWENo", bad)
        assert (finding.rule.id, finding.value) == ("swe-format", None)
        assert bad not in finding.message


def test_codes_and_text_have_no_range_check():
    assert rules.value_check(ELEMENTS["OrgRole"]) is None
    assert rules.value_check(ELEMENTS["QualInst"]) is None


# -- one worker ------------------------------------------------------------------------------------


def test_a_worker_in_post_passes():
    assert rules.check_worker(with_values(), CTX_2022) == []


def test_role_dates_in_the_wrong_order():
    findings = rules.check_worker(
        with_values(RoleEndDate=dt.date(2022, 1, 1), RoleStartDate=dt.date(2022, 2, 1), FTE30=None, Cases30=None),
        CTX_2022,
    )
    assert rule_ids(findings) == ["role-end-before-start"]


def test_a_role_ended_before_the_year_does_not_belong_and_a_leaver_is_not_in_post():
    findings = rules.check_worker(with_values(RoleEndDate=dt.date(2021, 9, 30)), CTX_2022)
    assert rule_ids(findings) == ["role-end-before-year", "leaver-in-post", "leaver-in-post"]
    assert [f.element for f in findings[1:]] == ["FTE30", "Cases30"]
    first_day = with_values(RoleEndDate=dt.date(2021, 10, 1), FTE30=None, Cases30=None)
    assert rules.check_worker(first_day, CTX_2022) == []


def test_a_role_ending_on_30_september_is_a_leaver():
    findings = rules.check_worker(with_values(RoleEndDate=dt.date(2022, 9, 30), Cases30=0), CTX_2022)
    assert rule_ids(findings) == ["leaver-in-post"]
    assert findings[0].element == "FTE30" and "left on 2022-09-30" in findings[0].message


def test_role_start_after_the_reference_date():
    assert rules.check_worker(with_values(RoleStartDate=dt.date(2022, 9, 30)), CTX_2022) == []
    findings = rules.check_worker(with_values(RoleStartDate=dt.date(2022, 10, 1)), CTX_2022)
    assert rule_ids(findings) == ["role-start-after-reference"]
    assert "next year's return" in findings[0].message


def test_role_end_after_the_reference_date_is_counted_in_post():
    findings = rules.check_worker(with_values(RoleEndDate=dt.date(2022, 10, 1)), CTX_2022)
    assert rule_ids(findings) == ["role-end-after-reference"]
    assert findings[0].rule.severity == "warning" and "counts as in post" in findings[0].message


def test_missing_inputs_of_the_measures():
    no_fte30 = rules.check_worker(with_values(FTE30=None), CTX_2022)
    assert rule_ids(no_fte30) == ["fte30-missing"]
    assert "not in post" in no_fte30[0].message
    assert rule_ids(rules.check_worker(with_values(RoleStartDate=None), CTX_2022)) == ["role-start-missing"]
    leaver = with_values(RoleEndDate=dt.date(2022, 5, 1), FTE30=None, Cases30=None, FTE=None)
    assert rule_ids(rules.check_worker(leaver, CTX_2022)) == ["fte-missing"]
    starter = with_values(RoleStartDate=dt.date(2022, 5, 1), FTE=None)
    assert rule_ids(rules.check_worker(starter, CTX_2022)) == ["fte-missing"]
    agency_leaver = {**leaver, "AgencyWorker": True}
    assert rules.check_worker(agency_leaver, CTX_2022) == [], "agency FTE feeds no leaver or starter count"


def test_qual_inst_is_expected_only_while_it_is_collected():
    assert rule_ids(rules.check_worker(with_values(QualInst=None), CTX_2022)) == ["qual-inst-missing"]
    ctx_2025 = rules.YearContext.for_year(2025, today=dt.date(2026, 1, 1))
    in_post_2025 = with_values(QualInst=None, RoleStartDate=dt.date(2020, 1, 1))
    assert rules.check_worker(in_post_2025, ctx_2025) == []


# -- across workers --------------------------------------------------------------------------------


def test_duplicate_worker_roles_name_both_records():
    duplicates = rules.DuplicateRoles()
    assert duplicates.check(with_values(), 1, 20) is None
    assert duplicates.check({"AgencyWorker": False}, 2, 40) is None, "no SWENo: nothing to compare"
    assert duplicates.check(with_values(OrgRole="3"), 3, 60) is None, "another post of the same person"
    finding = duplicates.check(with_values(SWENo="sw0000000001", FTE=0.5), 4, 80)
    assert finding.rule.id == "duplicate-role"
    assert "records 1 (line 20) and 4 (line 80)" in finding.message


# -- the Header ------------------------------------------------------------------------------------


def test_header_year():
    today = dt.date(2026, 11, 24)
    assert rules.parse_year("2022", today) == (2022, None)
    for text in (None, "22", "2016", "2027", "two"):
        year, finding = rules.parse_year(text, today)
        assert year is None and finding.rule.id == "header-year"


def test_header_reference_date():
    assert rules.parse_reference_date("2022-09-30", 2022) == (dt.date(2022, 9, 30), None)
    for text in (None, "30/09/2022", "2022-03-31"):
        assert rules.parse_reference_date(text, 2022)[1].rule.id == "header-reference-date"


def test_header_lea_and_collection():
    assert rules.check_lea("301") is None
    assert rules.check_lea(None).rule.id == rules.check_lea("3011").rule.id == "header-lea"
    assert rules.check_collection("CSWW") is None
    assert rules.check_collection("CIN").value == "CIN"


def test_header_versus_folder():
    assert rules.check_expected("301", 2022, "301", 2022) == []
    assert rules.check_expected("301", 2022, None, None) == []
    old_la_code, year = rules.check_expected("302", 2021, "301", 2022)
    assert (old_la_code.rule.id, year.rule.id) == ("lea-mismatch", "year-mismatch")


def test_header_datetime_is_optional_but_must_be_a_date_time():
    assert rules.parse_generated_at(None) == (None, None)
    assert rules.parse_generated_at("2022-10-14T09:30:00Z")[0] == dt.datetime(2022, 10, 14, 9, 30, tzinfo=dt.UTC)
    assert rules.parse_generated_at("yesterday")[1].rule.id == "header-datetime"


# -- issues and reports ----------------------------------------------------------------------------


def test_issue_log_caps_each_rule_and_counts_the_rest():
    log = IssueLog("r.xml", max_per_rule=3)
    for n in range(5):
        log.add(rules.FTE_RANGE, "FTE must be ...", line=n, record=n, element="FTE", value="0")
    log.add(rules.AGE_RANGE, "age", record=9)
    issues = log.issues()
    assert [i.rule for i in issues] == ["fte-range"] * 3 + ["age-range", "fte-range"]
    assert issues[-1].more == 2 and "2 more" in issues[-1].message
    assert issue_counts(issues) == {("error", "fte-range"): 5, ("warning", "age-range"): 1}


def test_long_values_are_shortened():
    log = IssueLog("r.xml")
    log.add(rules.UNKNOWN_CODE, "not a code", value="x" * 500)
    (issue,) = log.issues()
    assert len(issue.value) == 60 and issue.value.endswith("…")


def _issue(rule: rules.Rule, line: int | None, record: int | None, element=None, value=None) -> Issue:
    return Issue("r.xml", line, record, element, value, rule.id, f"{rule.summary}.", rule.severity)


def test_csv_report_has_one_row_per_issue(tmp_path):
    issues = [_issue(rules.FTE_RANGE, 42, 2, "FTE", "0"), _issue(rules.NO_WORKERS, None, None)]
    path = tmp_path / "reports" / "issues.csv"
    write_report_csv(issues, path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "file",
        "line",
        "record",
        "element",
        "value",
        "rule",
        "message",
        "severity",
        "more",
    ]
    assert (rows[0]["line"], rows[0]["value"], rows[1]["line"]) == ("42", "0", "")


def test_text_report_lists_errors_first_one_line_each():
    issues = [
        _issue(rules.AGE_RANGE, 10, 1, "PersonBirthDate"),
        _issue(rules.FTE_RANGE, 42, 2, "FTE", "1.4"),
        _issue(rules.NO_WORKERS, None, None),
    ]
    text = format_report_text("return.xml", {"old_la_code": "301", "year": 2022}, issues, limit=2)
    lines = text.splitlines()
    assert lines[0] == "CSWW return return.xml: LA 301, collection year 2022"
    assert lines[1].startswith("NOT LOADED: 2 errors, 1 warnings.")
    assert "  [error] line 42, worker 2, FTE = '1.4': FTE or FTE30 not more than 0 and at most 1. (fte-range)" in lines
    assert lines[-1] == "  [error] no CSWWWorker records. (no-workers)", "errors first; limit=2 drops the warning"


def test_text_report_verdicts():
    assert "LOADED: no problems found." in format_report_text("r.xml", None, [])
    warned = format_report_text("r.xml", None, [_issue(rules.AGE_RANGE, 3, 1)])
    assert "LA unknown" in warned and "LOADED with 1 warnings" in warned
