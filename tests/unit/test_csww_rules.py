"""The rules catalogue and the checks, one at a time.

The parser-level rules (file, structure, element format) are exercised through parse_return in
test_csww_parser.py, the reports in test_csww_report.py; here the catalogue and the value, worker,
return and Header checks are called directly.
"""

from __future__ import annotations

import ast
import datetime as dt

import pytest

from orchestration.lib import paths
from orchestration.lib.sources.csww import rules, spec
from orchestration.lib.sources.csww.issues import IssueLog, issue_counts, severity_counts
from orchestration.lib.sources.csww.rules import RuleId

CTX_2022 = rules.YearContext.for_year(2022, today=dt.date(2023, 1, 15))
ELEMENTS = {e.name: e for e in spec.WORKER_ELEMENTS}


def check(name: str, value: object, text: str | None = None, ctx: rules.YearContext = CTX_2022):
    value_check = rules.value_check(ELEMENTS[name])
    assert value_check is not None
    return value_check(value, str(value) if text is None else text, ctx)


def rule_ids(findings) -> list[str]:
    return [str(f.rule) for f in findings]


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

CHECK_CODE = sorted((paths.PROJECT_ROOT / "orchestration" / "lib" / "sources" / "csww").glob("*.py"))


def _rule_ids_raised() -> set[str]:
    """Every RuleId member the check code names (the enum's own definition aside)."""
    named: set[str] = set()
    for path in CHECK_CODE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "RuleId":
                named.add(RuleId[node.attr].value)
    return named


def test_the_code_raises_exactly_the_rules_in_the_catalogue():
    catalogued = set(rules.catalogue())
    assert {r.value for r in RuleId} == catalogued, "RuleId and rules.yml must list the same ids"
    never_raised = catalogued - _rule_ids_raised()
    assert not never_raised, f"in rules.yml but raised nowhere: {sorted(never_raised)}"


def test_every_rule_is_fully_described():
    for rule in rules.catalogue().values():
        assert rule.severity in ("error", "query") and rule.level in rules.LEVELS, rule.id
        assert rule.summary and rule.fix.endswith((".", ")")), rule.id
        assert "{" not in rule.summary + rule.fix + rule.why, f"{rule.id}: a placeholder without a param"
        assert rule.first_year >= spec.FIRST_YEAR and (rule.last_year or 9999) >= rule.first_year, rule.id
        if rule.stricter_than_schema or rule.params:
            assert len(rule.why) > 30, f"{rule.id} is stricter than the schema or sets a threshold: say why"


def test_severities_follow_dfe():
    """Valid under DfE's schema is never an error unless impossible; the queries the issue names."""
    severity = {rule_id: rule.severity for rule_id, rule in rules.catalogue().items()}
    for query in (
        "fte-zero",
        "fte30-zero",
        "cases-high",
        "age-range",
        "headcount-change",
        "fte-change",
        "birth-month-changed",
        "leaver-still-in-post",
        "new-worker-started-earlier",
    ):
        assert severity[query] == "query", query
    for error in (
        "fte-range",
        "age-impossible",
        "role-end-after-reference",
        "fte30-missing",
        "header-lea",
        "header-lea-conflict",
        "header-repeated",
        "lea-not-in-existence",
    ):
        assert severity[error] == "error", error
    assert all(r.level == "continuity" and r.severity == "query" for r in rules.catalogue().values()
               if r.level == "continuity")  # fmt: skip


def test_a_rule_applies_only_in_its_years():
    qual_inst = rules.rule(RuleId.QUAL_INST_MISSING)
    assert qual_inst.years == "2017-2024"
    assert qual_inst.applies_in(2024) and not qual_inst.applies_in(2025) and qual_inst.applies_in(None)
    log = IssueLog("r.xml")
    log.year = 2025
    log.add(RuleId.QUAL_INST_MISSING, "no QualInst")
    log.add(RuleId.FTE_RANGE, "FTE above 1")
    assert [i.rule for i in log.issues()] == ["fte-range"]


def test_a_bad_catalogue_entry_is_refused():
    entry = {"id": "x", "severity": "warning", "level": "value", "years": "2017-", "stricter_than_schema": False,
             "summary": "s", "fix": "f."}  # fmt: skip
    with pytest.raises(rules.CatalogueError):
        rules._rule(entry)
    with pytest.raises(rules.CatalogueError):
        rules._rule({**entry, "severity": "query", "colour": "red"})
    assert rules._rule({**entry, "severity": "query", "params": {"n": 3}, "summary": "over {n}"}).summary == "over 3"


def test_year_context_reads_its_thresholds_from_the_catalogue():
    assert CTX_2022.reference_date == dt.date(2022, 9, 30)
    assert CTX_2022.collection_start == dt.date(2021, 10, 1)
    assert CTX_2022.impossible_ages == (16, 80) and CTX_2022.plausible_ages == (18, 70)
    assert CTX_2022.max_cases == rules.rule(RuleId.CASES_HIGH).params["max_cases"]


# -- one value -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["FTE", "FTE30"])
def test_fte_must_be_between_0_and_1_as_the_schema_says(name):
    assert check(name, 0.5) is None and check(name, 1.0) is None
    for bad in (-0.1, 1.4):
        finding = check(name, bad)
        assert (finding.rule, finding.element, finding.value) == ("fte-range", name, str(bad))
        assert "between 0 and 1" in finding.message
    precision = check(name, 0.1234567, "0.1234567")
    assert (precision.rule, rules.rule(precision.rule).severity) == ("fte-precision", "query")
    assert check(name, 0.123456, "0.123456") is None


def test_fte_0_is_valid_but_a_query_and_fte30_0_is_left_to_the_worker_checks():
    finding = check("FTE", 0.0, "0")
    assert (finding.rule, rules.rule(finding.rule).severity) == ("fte-zero", "query")
    assert "adds nothing" in finding.message
    assert check("FTE30", 0.0, "0") is None


def test_counts_and_amounts_cannot_be_negative():
    assert check("Cases30", 0) is None
    assert check("Cases30", -1).rule == "negative-value"
    assert check("BaseSalary", -5.0).rule == "negative-value"
    assert check("ContractWeeks", -1.0).rule == "negative-value"
    assert check("WorkingDaysLost", -0.5).rule == "negative-value"


def test_working_days_lost_range():
    assert check("WorkingDaysLost", 0.0) is None and check("WorkingDaysLost", 366.0) is None
    assert check("WorkingDaysLost", 366.5).rule == "days-lost-range"


def test_a_caseload_of_480_is_a_query_not_an_error():
    assert check("Cases30", 60) is None
    finding = check("Cases30", 480)
    assert (finding.rule, rules.rule(finding.rule).severity, finding.value) == ("cases-high", "query", "480")
    assert "more than 60 cases" in finding.message and "team" in finding.message


def test_contract_weeks_beyond_the_weeks_in_the_year_is_a_query():
    assert check("ContractWeeks", 52.1) is None, "365 days are 52.14 weeks"
    assert check("ContractWeeks", 52.2).rule == "contract-weeks-range"
    leap_year = rules.YearContext.for_year(2024, today=dt.date(2025, 1, 1))
    assert check("ContractWeeks", 52.3, ctx=leap_year) is None, "366 days are 52.29 weeks"
    finding = check("ContractWeeks", 288.7)
    assert (finding.rule, rules.rule(finding.rule).severity) == ("contract-weeks-range", "query")
    assert finding.value == "288.7" and "52.1 weeks" in finding.message
    assert "1 October 2021" in finding.message and "30 September 2022" in finding.message


def test_dates_in_the_future_or_implausibly_early():
    assert check("RoleStartDate", dt.date(1950, 1, 1)) is None
    assert check("RoleStartDate", dt.date(1949, 12, 31)).rule == "date-too-early"
    assert check("RoleEndDate", dt.date(2023, 1, 16)).rule == "date-future"
    assert check("RoleEndDate", dt.date(2023, 1, 15)) is None


@pytest.mark.parametrize(
    ("born", "rule", "age"),
    [
        (dt.date(1985, 6, 15), None, 37),
        (dt.date(2004, 9, 30), None, 18),
        (dt.date(1952, 10, 1), None, 69),
        (dt.date(1951, 10, 1), None, 70),
        (dt.date(1951, 9, 30), "age-range", 71),
        (dt.date(2004, 10, 1), "age-range", 17),
        (dt.date(2006, 9, 30), "age-range", 16),
        (dt.date(2006, 10, 1), "age-impossible", 15),
        (dt.date(2010, 1, 1), "age-impossible", 12),
        (dt.date(1942, 9, 30), "age-range", 80),
        (dt.date(1941, 9, 30), "age-impossible", 81),
        (dt.date(1899, 1, 1), "age-impossible", 123),
        (dt.date(2030, 1, 1), "age-impossible", -8),
    ],
)
def test_an_impossible_age_is_an_error_an_unusual_one_a_query(born, rule, age):
    finding = check("PersonBirthDate", born)
    if rule is None:
        assert finding is None
        return
    assert (finding.rule, finding.value) == (rule, None), "a birth date is never shown"
    assert f"{age} on 30 September 2022" in finding.message
    assert str(born) not in finding.message


def test_swe_number_format():
    assert check("SWENo", "SW0000000001") is None
    assert check("SWENo", "sw0000000001") is None
    for bad in ("SW123", "SW00000000012", "1234567890SW", "SW 000000001"):
        finding = check("SWENo", bad)
        assert (finding.rule, finding.value) == ("swe-format", None)
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


def test_a_role_end_after_the_reference_date_is_an_error():
    findings = rules.check_worker(with_values(RoleEndDate=dt.date(2022, 10, 1)), CTX_2022)
    assert rule_ids(findings) == ["role-end-after-reference"]
    assert rules.rule(findings[0].rule).severity == "error" and "had not ended" in findings[0].message


def test_missing_inputs_of_the_measures():
    no_fte30 = rules.check_worker(with_values(FTE30=None), CTX_2022)
    assert rule_ids(no_fte30) == ["fte30-missing"]
    assert rules.rule(no_fte30[0].rule).severity == "error" and "drops out of the in-post FTE" in no_fte30[0].message
    assert rule_ids(rules.check_worker(with_values(RoleStartDate=None), CTX_2022)) == ["role-start-missing"]
    leaver = with_values(RoleEndDate=dt.date(2022, 5, 1), FTE30=None, Cases30=None, FTE=None)
    assert rule_ids(rules.check_worker(leaver, CTX_2022)) == ["fte-missing"]
    starter = with_values(RoleStartDate=dt.date(2022, 5, 1), FTE=None)
    assert rule_ids(rules.check_worker(starter, CTX_2022)) == ["fte-missing"]
    agency_leaver = {**leaver, "AgencyWorker": True}
    assert rules.check_worker(agency_leaver, CTX_2022) == [], "agency FTE feeds no leaver or starter count"


def test_fte30_0_on_a_leaver_is_valid_and_on_a_worker_in_post_a_query():
    leaver = with_values(RoleEndDate=dt.date(2022, 5, 1), FTE30=0.0, Cases30=0)
    assert rules.check_worker(leaver, CTX_2022) == []
    in_post = rules.check_worker(with_values(FTE30=0.0), CTX_2022)
    assert rule_ids(in_post) == ["fte30-zero"]
    assert rules.rule(in_post[0].rule).severity == "query" and "not in post" in in_post[0].message


def test_qual_inst_missing_is_raised_and_the_catalogue_limits_it_to_its_years():
    assert rule_ids(rules.check_worker(with_values(QualInst=None), CTX_2022)) == ["qual-inst-missing"]
    assert rules.rule(RuleId.QUAL_INST_MISSING).last_year == 2024 == spec.WORKER_ELEMENTS[7].last_year


# -- across workers --------------------------------------------------------------------------------


def test_duplicate_worker_roles_name_both_records():
    duplicates = rules.DuplicateRoles()
    assert duplicates.check(with_values(), 1, 20) is None
    assert duplicates.check({"AgencyWorker": False}, 2, 40) is None, "no SWENo: nothing to compare"
    assert duplicates.check(with_values(OrgRole="3"), 3, 60) is None, "another post of the same person"
    finding = duplicates.check(with_values(SWENo="sw0000000001", FTE=0.5), 4, 80)
    assert finding.rule == "duplicate-role"
    assert "records 1 (line 20) and 4 (line 80)" in finding.message


# -- the Header ------------------------------------------------------------------------------------


def test_header_year():
    today = dt.date(2026, 11, 24)
    assert rules.parse_year("2022", today) == (2022, None)
    for text in (None, "22", "2016", "2027", "two"):
        year, finding = rules.parse_year(text, today)
        assert year is None and finding.rule == "header-year"


def test_header_reference_date():
    assert rules.parse_reference_date("2022-09-30", 2022) == (dt.date(2022, 9, 30), None)
    for text in (None, "30/09/2022", "2022-03-31"):
        assert rules.parse_reference_date(text, 2022)[1].rule == "header-reference-date"


def test_a_padded_lea_is_refused_never_stripped():
    for padded in (" 301", "301 ", "\n  301\n  "):
        finding = rules.check_lea(padded)
        assert (finding.rule, finding.value) == ("header-lea", padded)
        assert "<LEA>301</LEA>" in finding.message and "spaces" in finding.message


def test_an_lea_must_exist_on_the_reference_date():
    assert rules.check_lea_exists("942", dt.date(2023, 9, 30)) is None
    cumbria = rules.check_lea_exists("909", dt.date(2023, 9, 30))
    assert cumbria.rule == "lea-not-in-existence"
    assert "Cumbria" in cumbria.message and "942 Cumberland" in cumbria.message
    assert "943 Westmorland and Furness" in cumbria.message
    assert rules.check_lea_exists("909", dt.date(2022, 9, 30)) is None
    assert "not a DfE LA code" in rules.check_lea_exists("999", dt.date(2023, 9, 30)).message


def test_header_parts_given_twice():
    assert rules.check_source_leas(["301"]) is None and rules.check_source_leas(["301", "301"]) is None
    conflict = rules.check_source_leas(["301", "302"])
    assert (conflict.rule, conflict.value) == ("header-lea-conflict", "302") and "one council" in conflict.message
    repeated = rules.header_repeated("CollectionDetails", "Year", 2)
    assert repeated.rule == "header-repeated" and "Year appears 2 times in CollectionDetails" in repeated.message


def test_header_lea_and_collection():
    assert rules.check_lea("301") is None
    assert rules.check_lea(None).rule == rules.check_lea("3011").rule == "header-lea"
    assert rules.check_collection("CSWW") is None
    assert rules.check_collection("CIN").value == "CIN"


def test_header_versus_folder():
    assert rules.check_expected("301", 2022, "301", 2022) == []
    assert rules.check_expected("301", 2022, None, None) == []
    old_la_code, year = rules.check_expected("302", 2021, "301", 2022)
    assert (old_la_code.rule, year.rule) == ("lea-mismatch", "year-mismatch")


def test_header_datetime_is_optional_but_must_be_a_date_time():
    assert rules.parse_generated_at(None) == (None, None)
    assert rules.parse_generated_at("2022-10-14T09:30:00Z")[0] == dt.datetime(2022, 10, 14, 9, 30, tzinfo=dt.UTC)
    assert rules.parse_generated_at("yesterday")[1].rule == "header-datetime"


# -- issues and reports ----------------------------------------------------------------------------


def test_issue_log_caps_each_rule_and_counts_the_rest():
    log = IssueLog("r.xml", max_per_rule=3)
    for n in range(5):
        log.add(RuleId.FTE_RANGE, "FTE must be ...", line=n, record=n, element="FTE", value="7")
    log.add(RuleId.AGE_RANGE, "age", record=9)
    issues = log.issues()
    assert [i.rule for i in issues] == ["fte-range"] * 3 + ["age-range", "fte-range"]
    assert issues[-1].more == 2 and "2 more" in issues[-1].message
    assert issue_counts(issues) == {("error", "fte-range"): 5, ("query", "age-range"): 1}
    assert severity_counts(issues) == {"error": 5, "query": 1}


def test_long_values_are_shortened():
    log = IssueLog("r.xml")
    log.add(RuleId.UNKNOWN_CODE, "not a code", value="x" * 500)
    (issue,) = log.issues()
    assert len(issue.value) == 60 and issue.value.endswith("…")
