"""Streaming parse of CSWW returns: batches, structure, safety, size, and the public sample.

Bad inputs are built here from a clean worker rather than committed. The module also carries the
ingest benchmark (see `benchmark` at the bottom):

    .venv/bin/python tests/unit/test_csww_parser.py --benchmark 50
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import re
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest

from orchestration.lib.load.pseudonym import Pseudonymiser
from orchestration.lib.sources.csww import spec
from orchestration.lib.sources.csww.parser import (
    LA_LEVEL_KEYS,
    WORKER_COLUMNS,
    WORKER_SCHEMA,
    ParseOutcome,
    parse_return,
)
from orchestration.lib.sources.csww.report import ValidationReport, render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "returns"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PSEUDONYMISE = Pseudonymiser(b"test key, not a secret, 32 bytes")

# -- building returns ------------------------------------------------------------------------------

CLEAN_WORKER = {
    "AgencyWorker": "0",
    "SWENo": "SW0000000001",
    "FTE": "1",
    "PersonBirthDate": "1985-06-15",
    "GenderCurrent": "2",
    "Ethnicity": "WBRI",
    "QualInst": "University of Leeds",
    "QualLevel": "1",
    "StepUpGrad": "0",
    "OrgRole": "5",
    "RoleStartDate": "2015-03-01",
    "StartOrigin": "2",
    "FTE30": "1",
    "Cases30": "18",
    "WorkingDaysLost": "4.50",
    "FrontlineGrad": "0",
    "Absat30Sept": "0",
    "CFKSSstatus": "2",
}
"""An LA-employed social worker in post on 30 September 2022 that breaks no rule."""

_ORDER = {e.name: i for i, e in enumerate(spec.WORKER_ELEMENTS)}


def worker(**changes: str | list[str] | None) -> dict[str, str | list[str]]:
    """CLEAN_WORKER with some elements changed; None removes one, a list repeats it."""
    fields = {**CLEAN_WORKER, **changes}
    return {k: v for k, v in fields.items() if v is not None}


def worker_xml(fields: dict[str, str | list[str]], *, in_spec_order: bool = True) -> str:
    names = sorted(fields, key=lambda n: _ORDER.get(n, 99)) if in_spec_order else list(fields)
    lines = []
    for name in names:
        values = fields[name] if isinstance(fields[name], list) else [fields[name]]
        lines += [f"    <{name}>{value}</{name}>" for value in values]
    return "  <CSWWWorker>\n" + "\n".join(lines) + "\n  </CSWWWorker>\n"


def header_xml(year: int = 2022, old_la_code: str = "301", reference_date: str | None = None) -> str:
    reference = reference_date or f"{year}-09-30"
    return (
        "  <Header>\n    <CollectionDetails>\n      <Collection>CSWW</Collection>\n"
        f"      <Year>{year}</Year>\n      <ReferenceDate>{reference}</ReferenceDate>\n"
        "    </CollectionDetails>\n    <Source>\n      <SourceLevel>L</SourceLevel>\n"
        f"      <LEA>{old_la_code}</LEA>\n      <SoftwareCode>test</SoftwareCode>\n"
        "      <DateTime>2022-10-14T09:30:00</DateTime>\n    </Source>\n  </Header>\n"
    )


def la_level_xml(year: int = 2022) -> str:
    name = spec.la_level_block_name(year)
    flags = "".join(f"    <{n}>1</{n}>\n" for n in spec.PAY_FLAG_NAMES) if year >= 2025 else ""
    return (
        f"  <{name}>\n    <NumberOfVacancies>4.50</NumberOfVacancies>\n    <NoAgencyFTE>2.00</NoAgencyFTE>\n"
        f"    <NoAgencyHeadcount>2</NoAgencyHeadcount>\n{flags}  </{name}>\n"
    )


def return_xml(
    workers: list[dict[str, str | list[str]] | str],
    *,
    year: int = 2022,
    header: str | None = None,
    la_level: str | None = None,
) -> str:
    """A whole return; a worker may be a dict of fields or ready-made XML."""
    body = "".join(w if isinstance(w, str) else worker_xml(w) for w in workers)
    head = header_xml(year) if header is None else header
    block = la_level_xml(year) if la_level is None else la_level
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n{head}{block}{body}</Message>\n'


def parse(
    tmp_path: Path,
    content: str | bytes,
    *,
    old_la_code: str | None = "301",
    year: int | None = 2022,
    batch_size: int = 20_000,
) -> tuple[ParseOutcome, pa.Table, list[pa.Table]]:
    path = tmp_path / "return.xml"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    batches: list[pa.Table] = []
    outcome = parse_return(
        path,
        expected_old_la_code=old_la_code,
        expected_year=year,
        pseudonymise=PSEUDONYMISE,
        on_batch=batches.append,
        batch_size=batch_size,
    )
    table = pa.concat_tables(batches) if batches else WORKER_SCHEMA.empty_table()
    return outcome, table, batches


def worker_lines(xml: str) -> list[int]:
    """Line number of each CSWWWorker start tag."""
    return [n for n, text in enumerate(xml.splitlines(), start=1) if text.strip() == "<CSWWWorker>"]


def found(outcome: ParseOutcome) -> dict[str, list[int | None]]:
    """rule → records it was reported for, in file order."""
    by_rule: dict[str, list[int | None]] = defaultdict(list)
    for issue in outcome.issues:
        by_rule[issue.rule].append(issue.record)
    return dict(by_rule)


def only_issue(outcome: ParseOutcome):
    assert len(outcome.issues) == 1, [(i.rule, i.message) for i in outcome.issues]
    return outcome.issues[0]


# -- the batch schema ------------------------------------------------------------------------------


def test_worker_schema_is_the_agreed_one():
    text, flag, number = pa.string(), pa.bool_(), pa.float64()
    agreed = pa.schema(
        [
            ("record_number", pa.int32()),
            ("source_line", pa.int32()),
            ("agency_worker", flag),
            ("swe_pseudonym", text),
            ("fte", number),
            ("birth_month", pa.date32()),
            ("gender_current", text),
            ("sex", text),
            ("ethnicity", text),
            ("qual_inst", pa.list_(text)),
            ("qual_level", text),
            ("step_up_grad", flag),
            ("org_role", text),
            ("role_start_date", pa.date32()),
            ("start_origin", text),
            ("role_end_date", pa.date32()),
            ("leaver_destination", text),
            ("reason_leave", text),
            ("fte30", number),
            ("cases30", pa.int32()),
            ("working_days_lost", number),
            ("contract_weeks", pa.list_(number)),
            ("frontline_grad", flag),
            ("absent_at_30_sept", pa.list_(flag)),
            ("reason_absence", pa.list_(text)),
            ("cfkss_status", pa.list_(text)),
            ("base_salary", number),
            ("rr_payments", number),
            ("other_payments", number),
        ]
    )
    assert agreed == WORKER_SCHEMA


def test_every_spec_element_has_a_column_of_its_own():
    columns = [e.column for e in (*spec.WORKER_ELEMENTS, *spec.LA_LEVEL_ELEMENTS)]
    assert len(set(columns)) == len(columns)
    assert WORKER_COLUMNS["SWENo"] == "swe_pseudonym", "the warehouse keeps a pseudonym, never the number"
    assert WORKER_COLUMNS["CFKSSstatus"] == "cfkss_status"
    assert WORKER_COLUMNS["FTE30"] == "fte30"
    assert LA_LEVEL_KEYS["NumberOfVacancies"] == "number_of_vacancies"
    assert LA_LEVEL_KEYS["NoAgencyFTE"] == "no_agency_fte"
    assert LA_LEVEL_KEYS["NoAgencyHeadcount"] == "no_agency_headcount"
    assert LA_LEVEL_KEYS["PayMarketSupplement"] == "pay_market_supplement"
    assert set(LA_LEVEL_KEYS) == {e.name for e in spec.LA_LEVEL_ELEMENTS}


# -- clean returns ---------------------------------------------------------------------------------


def test_clean_2022_fixture_loads_with_typed_values():
    batches: list[pa.Table] = []
    outcome = parse_return(
        FIXTURES / "valid_2022.xml",
        expected_old_la_code="301",
        expected_year=2022,
        pseudonymise=PSEUDONYMISE,
        on_batch=batches.append,
    )
    assert outcome.ok and outcome.issues == []
    assert outcome.workers == 4
    header = outcome.header
    assert (header.collection, header.year, header.old_la_code) == ("CSWW", 2022, "301")
    assert header.reference_date == dt.date(2022, 9, 30)
    assert header.generated_at == dt.datetime(2022, 10, 14, 9, 30)
    assert outcome.la_level["number_of_vacancies"] == 3.5
    assert outcome.la_level["no_agency_headcount"] == 1
    assert outcome.la_level["pay_housing"] is None

    rows = pa.concat_tables(batches).to_pylist()
    first, second, leaver, agency = rows
    assert [r["record_number"] for r in rows] == [1, 2, 3, 4]
    assert [r["source_line"] for r in rows] == [22, 45, 63, 81]
    assert first["swe_pseudonym"] == PSEUDONYMISE("SW0000000101")
    assert first["swe_pseudonym"] == second["swe_pseudonym"], "one person in two posts: one pseudonym"
    assert leaver["swe_pseudonym"] == PSEUDONYMISE("SW0000000202"), "lower-case SWENo, same person"
    assert first["birth_month"] == dt.date(1984, 6, 1), "birth date cut to its month"
    assert first["agency_worker"] is False and agency["agency_worker"] is True
    assert first["qual_inst"] == ["University of Leeds", "Open University"]
    assert first["cfkss_status"] == ["2", "3"]
    assert first["absent_at_30_sept"] == [True] and first["reason_absence"] == ["TRN"]
    assert first["fte"] == 0.6 and first["cases30"] == 14 and first["org_role"] == "5"
    assert leaver["role_end_date"] == dt.date(2022, 3, 31) and leaver["fte30"] is None
    assert leaver["contract_weeks"] == [], "an absent repeating element is an empty list"
    assert agency["contract_weeks"] == [37.5] and agency["birth_month"] is None


def test_clean_2025_fixture_has_pay_flags_and_new_elements():
    batches: list[pa.Table] = []
    outcome = parse_return(
        FIXTURES / "valid_2025.xml",
        expected_old_la_code="301",
        expected_year=2025,
        pseudonymise=PSEUDONYMISE,
        on_batch=batches.append,
    )
    assert outcome.ok and outcome.issues == []
    assert outcome.la_level["pay_market_supplement"] == "2"
    assert outcome.la_level["pay_flexible_working"] == "1"
    (row,) = pa.concat_tables(batches).to_pylist()
    assert row["sex"] == "F" and row["gender_current"] is None
    assert (row["base_salary"], row["rr_payments"], row["other_payments"]) == (41250.0, 1500.0, 0.0)
    assert row["qual_inst"] == [] and row["cfkss_status"] == []


def test_batches_hold_at_most_batch_size_rows(tmp_path):
    workers = [worker(SWENo=f"SW{n:010d}") for n in range(1, 6)]
    outcome, table, batches = parse(tmp_path, return_xml(workers), batch_size=2)
    assert outcome.ok
    assert [b.num_rows for b in batches] == [2, 2, 1]
    assert all(b.schema == WORKER_SCHEMA for b in batches)
    assert table.column("record_number").to_pylist() == [1, 2, 3, 4, 5]


def test_raw_swe_numbers_and_birth_days_never_reach_the_batches(tmp_path):
    workers = [worker(SWENo=f"SW{n:010d}", PersonBirthDate="1985-06-15") for n in range(1, 4)]
    _, table, _ = parse(tmp_path, return_xml(workers))
    text = json.dumps(table.to_pylist(), default=str)
    assert "SW000000000" not in text
    assert "1985-06-15" not in text


def test_a_person_in_several_posts_is_not_a_duplicate(tmp_path):
    posts = [worker(OrgRole="5"), worker(OrgRole="3"), worker(OrgRole="5", RoleStartDate="2021-11-01")]
    outcome, table, _ = parse(tmp_path, return_xml(posts))
    assert outcome.ok and outcome.issues == []
    assert len(set(table.column("swe_pseudonym").to_pylist())) == 1


def test_the_same_worker_role_twice_is_an_error_naming_both_records(tmp_path):
    xml = return_xml([worker(), worker(SWENo="SW0000000002"), worker(SWENo="sw0000000001", FTE="0.5")])
    outcome, _, _ = parse(tmp_path, xml)
    issue = only_issue(outcome)
    first, _, third = worker_lines(xml)
    assert (issue.rule, issue.record, issue.line, issue.severity) == ("duplicate-role", 3, third, "error")
    assert f"records 1 (line {first}) and 3 (line {third})" in issue.message


# -- the public sample -----------------------------------------------------------------------------

SAMPLE_EXPECTED = {
    # Errors.
    # RoleStartDate after 30 September 2022 (2023-03-28 in six, 2022-10-08 in record 16).
    "role-start-after-reference": [4, 8, 16, 17, 18, 21, 23],
    # RoleEndDate 2023-03-28, after the reference date: the census cannot know a later end.
    "role-end-after-reference": [3, 6, 10, 12, 13, 14, 22, 25, 26, 28, 30],
    # Records 2 and 20 ended in 2019 and 2018 yet have FTE30 and Cases30 above 0.
    "leaver-in-post": [2, 2, 20, 20],
    "role-end-before-year": [2, 20],
    # Not ended by 30 September (or ended only after it) and no FTE30.
    "fte30-missing": [1, 12, 14, 30],
    # Queries. FTE is 0 in 13 records: valid under DfE's schema, but worth confirming.
    "fte-zero": [2, 3, 6, 10, 12, 13, 14, 20, 22, 25, 26, 28, 30],
    # ContractWeeks such as 288.7 and 475.7 weeks.
    "contract-weeks-range": [1, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, 17, 18, 19, 22, 24, 25, 26, 28],
    # Cases30 of 61 to 80 on one worker.
    "cases-high": [1, 2, 8, 15, 17, 20, 25, 27, 28, 30],
    # These 12 are the 12 XSD errors "QualLevel: This element is not expected": QualInst is
    # missing before QualLevel; no element is out of the specification order.
    "qual-inst-missing": [4, 6, 8, 11, 12, 13, 18, 20, 21, 22, 25, 26],
    "role-start-missing": [2, 7, 11, 22],
}


def test_public_sample_report_says_exactly_what_is_wrong():
    batches: list[pa.Table] = []
    outcome = parse_return(
        FIXTURES / "social_work_workforce_2022_sample.xml",
        expected_old_la_code="301",
        expected_year=2022,
        pseudonymise=PSEUDONYMISE,
        on_batch=batches.append,
    )
    assert not outcome.ok
    assert outcome.workers == 30 and sum(b.num_rows for b in batches) == 30
    assert (outcome.header.old_la_code, outcome.header.year) == ("301", 2022)
    assert outcome.la_level["number_of_vacancies"] == 79.68
    actual = {rule: sorted(records) for rule, records in found(outcome).items()}
    assert actual == SAMPLE_EXPECTED
    errors = [i for i in outcome.issues if i.severity == "error"]
    assert {i.rule for i in errors} == {
        "role-start-after-reference",
        "role-end-after-reference",
        "leaver-in-post",
        "role-end-before-year",
        "fte30-missing",
    }
    by_place = {(i.rule, i.record, i.element): i for i in outcome.issues}
    fte = by_place["fte-zero", 2, "FTE"]
    assert (fte.line, fte.value, fte.severity) == (42, "0", "query")
    assert by_place["leaver-in-post", 2, "FTE30"].value == "0.603665"
    assert by_place["leaver-in-post", 20, "Cases30"].line == 374
    assert by_place["contract-weeks-range", 5, "ContractWeeks"].value == "475.7"


# -- broken files: every problem is an issue, never an exception ---------------------------------


@pytest.mark.parametrize("content", [b"", b"  \n\t\n", b'<?xml version="1.0"?>\n<!-- nothing -->\n'])
def test_empty_file(tmp_path, content):
    outcome, table, _ = parse(tmp_path, content)
    assert only_issue(outcome).rule == "file-empty"
    assert table.num_rows == 0


def test_missing_file_is_an_issue_not_an_exception(tmp_path):
    outcome = parse_return(
        tmp_path / "nope.xml", expected_old_la_code=None, expected_year=None, pseudonymise=str, on_batch=print
    )
    assert only_issue(outcome).rule == "file-unreadable"


@pytest.mark.parametrize("content", [b"LEA,Year\n301,2022\n", b"hello"])
def test_not_xml(tmp_path, content):
    issue = only_issue(parse(tmp_path, content)[0])
    assert (issue.rule, issue.line) == ("xml-malformed", 1)


def test_truncated_file_says_it_was_cut_short(tmp_path):
    xml = return_xml([worker(SWENo=f"SW{n:010d}") for n in range(1, 4)])
    for cut in (len(xml) * 2 // 3, xml.rindex("</CSWWWorker>") + len("</CSWWWorker>")):
        issue = only_issue(parse(tmp_path, xml[:cut])[0])
        assert issue.rule == "xml-malformed" and "cut short" in issue.message


def test_badly_nested_tags_give_the_line(tmp_path):
    xml = return_xml([worker()]).replace("<FTE>1</FTE>", "<FTE>1</FTEX>")
    issue = only_issue(parse(tmp_path, xml)[0])
    assert issue.rule == "xml-malformed"
    assert issue.line == worker_lines(xml)[0] + 3 and "not well-formed" in issue.message


def test_latin1_byte_in_a_utf8_file_gives_line_and_byte(tmp_path):
    data = return_xml([worker(QualInst="Université de Paris")]).encode("utf-8").replace("é".encode(), b"\xe9")
    offset = data.index(b"\xe9")
    issue = only_issue(parse(tmp_path, data)[0])
    assert issue.rule == "xml-encoding"
    assert issue.line == data[:offset].count(b"\n") + 1
    assert "0xE9" in issue.message and f"byte {offset:,}" in issue.message
    assert "'é'" in issue.message and "UTF-8" in issue.message


UTF16_DECLARED = return_xml([worker(QualInst="Université de Paris")]).replace('"UTF-8"', '"UTF-16"')


@pytest.mark.parametrize(
    ("content", "how"),
    [
        (UTF16_DECLARED.encode("utf-16"), "byte-order mark and declaration"),
        (UTF16_DECLARED.encode("utf-16-le"), "declaration, little-endian, no byte-order mark"),
        (UTF16_DECLARED.encode("utf-16-be"), "declaration, big-endian, no byte-order mark"),
        (UTF16_DECLARED.replace(' encoding="UTF-16"', "").encode("utf-16"), "byte-order mark only"),
        (UTF16_DECLARED.replace('"UTF-16"', '"UTF-16LE"').encode("utf-16-le"), "declared UTF-16LE"),
    ],
)
def test_a_return_declared_and_encoded_as_utf16_is_read(tmp_path, content, how):
    outcome, table, _ = parse(tmp_path, content)
    assert outcome.ok and outcome.issues == [], how
    assert table.column("qual_inst").to_pylist() == [["Université de Paris"]]
    assert table.column("source_line").to_pylist() == [worker_lines(UTF16_DECLARED)[0]]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            return_xml([worker()]).encode("utf-16"),
            'UTF-16 (little-endian) but its XML declaration says encoding="utf-8"',
        ),
        (UTF16_DECLARED.encode("utf-8"), "not UTF-16"),
        (codecs.BOM_UTF8 + UTF16_DECLARED.encode("utf-8"), "UTF-8 byte-order mark"),
        (UTF16_DECLARED.replace('"UTF-16"', '"UTF-16BE"').encode("utf-16"), "UTF-16 little-endian but"),
        (UTF16_DECLARED.replace(' encoding="UTF-16"', "").encode("utf-16-le"), "neither a byte-order mark"),
        (return_xml([worker()]).encode("utf-32"), "UTF-32"),
    ],
)
def test_bytes_that_contradict_their_declaration_are_refused(tmp_path, content, words):
    issue = only_issue(parse(tmp_path, content)[0])
    assert (issue.rule, issue.line) == ("xml-encoding", 1)
    assert words in issue.message and "Save the file again" in issue.message


def test_properly_declared_latin1_file_is_read(tmp_path):
    xml = return_xml([worker(QualInst="Université de Paris")]).replace('"UTF-8"', '"ISO-8859-1"')
    outcome, table, _ = parse(tmp_path, xml.encode("latin-1"))
    assert outcome.ok
    assert table.column("qual_inst").to_pylist() == [["Université de Paris"]]


@pytest.mark.parametrize(
    ("root", "shown"), [("CINMessage", "'CINMessage'"), ('Message xmlns="urn:x"', "'{urn:x}Message'")]
)
def test_wrong_root(tmp_path, root, shown):
    xml = return_xml([worker()]).replace("<Message>", f"<{root}>").replace("</Message>", f"</{root.split()[0]}>")
    issue = only_issue(parse(tmp_path, xml)[0])
    assert issue.rule == "wrong-root" and shown in issue.message


# -- Message, Header and LA-level block ----------------------------------------------------------


def test_header_lea_and_year_differing_from_the_folder_name_both_values(tmp_path):
    outcome, _, _ = parse(
        tmp_path, return_xml([worker()], header=header_xml(2021, "302")), old_la_code="301", year=2022
    )
    assert found(outcome) == {"lea-mismatch": [None], "year-mismatch": [None]}
    old_la_code, year = outcome.issues
    assert (
        "LEA 302" in old_la_code.message
        and "LA 301" in old_la_code.message
        and "from the Header" in old_la_code.message
    )
    assert "Year 2021" in year.message and "for 2022" in year.message and "from the Header" in year.message
    assert outcome.header.year == 2021, "the Header wins: rules use 2021"


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (("<LEA>301</LEA>", ""), "header-lea"),
        (("<LEA>301</LEA>", "<LEA>30</LEA>"), "header-lea"),
        (("<Collection>CSWW</Collection>", "<Collection>CIN</Collection>"), "header-collection"),
        (("<Collection>CSWW</Collection>", ""), "header-collection"),
        (
            ("<ReferenceDate>2022-09-30</ReferenceDate>", "<ReferenceDate>2022-03-31</ReferenceDate>"),
            "header-reference-date",
        ),
        (("<ReferenceDate>2022-09-30</ReferenceDate>", ""), "header-reference-date"),
        (("<Year>2022</Year>", "<Year>22</Year>"), "header-year"),
        (("<DateTime>2022-10-14T09:30:00</DateTime>", "<DateTime>yesterday</DateTime>"), "header-datetime"),
        (("<LEA>301</LEA>", "<LEA> 301 </LEA>"), "header-lea"),
        (("<LEA>301</LEA>", "<LEA>\n        301\n      </LEA>"), "header-lea"),
        (("<Year>2022</Year>", "<Year>2022</Year><Year>2022</Year>"), "header-repeated"),
        (("</CollectionDetails>", "</CollectionDetails><CollectionDetails/>"), "header-repeated"),
        (("<LEA>301</LEA>", "<LEA>301</LEA><LEA>301</LEA>"), "header-repeated"),
        (("</Source>", "</Source><Source><LEA>302</LEA></Source>"), "header-lea-conflict"),
    ],
)
def test_header_problems(tmp_path, change, rule):
    outcome, _, _ = parse(tmp_path, return_xml([worker()]).replace(*change))
    issue = only_issue(outcome)
    assert issue.rule == rule
    assert issue.line is not None and issue.line <= 15


def test_a_second_source_with_the_same_lea_is_valid(tmp_path):
    outcome, _, _ = parse(
        tmp_path, return_xml([worker()]).replace("</Source>", "</Source><Source><LEA>301</LEA></Source>")
    )
    assert outcome.ok and outcome.issues == []


def test_a_council_that_did_not_exist_on_the_reference_date(tmp_path):
    cumbria_2023 = return_xml([worker()], year=2023, header=header_xml(2023, "909"))
    outcome, _, _ = parse(tmp_path, cumbria_2023, old_la_code="909", year=2023)
    issue = only_issue(outcome)
    assert (issue.rule, issue.value, issue.element) == ("lea-not-in-existence", "909", "LEA")
    assert "Cumbria" in issue.message and "942 Cumberland, 943 Westmorland and Furness" in issue.message
    cumbria_2022 = return_xml([worker()], header=header_xml(2022, "909"))
    assert parse(tmp_path, cumbria_2022, old_la_code="909")[0].issues == []


def test_missing_header_falls_back_to_the_folder_year(tmp_path):
    outcome, table, _ = parse(tmp_path, return_xml([worker(FTE="2")], header=""))
    assert found(outcome) == {"header-missing": [None], "fte-range": [1]}
    assert outcome.header is None and table.num_rows == 1


def test_missing_header_and_no_folder_year_stops_reading(tmp_path):
    outcome, table, _ = parse(tmp_path, return_xml([worker()], header=""), old_la_code=None, year=None)
    assert found(outcome) == {"header-missing": [None], "header-year": [None]}
    assert table.num_rows == 0


def test_missing_la_level_block(tmp_path):
    outcome, _, _ = parse(tmp_path, return_xml([worker()], la_level=""))
    issue = only_issue(outcome)
    assert issue.rule == "la-level-block" and "LALevelVacancies" in issue.message


def test_la_level_block_needs_its_2025_name_and_children(tmp_path):
    outcome, _, _ = parse(tmp_path, return_xml([worker()], la_level=la_level_xml(2025)))
    assert found(outcome) == {"la-level-block": [None], "element-not-in-year": [None] * 9}
    xml = return_xml([worker()]).replace("    <NoAgencyFTE>2.00</NoAgencyFTE>\n", "")
    issue = only_issue(parse(tmp_path, xml)[0])
    assert (issue.rule, issue.element) == ("missing-required", "NoAgencyFTE")


def test_la_level_block_twice_and_after_the_workers(tmp_path):
    xml = return_xml([worker()]).replace("</Message>", la_level_xml() + "</Message>")
    assert found(parse(tmp_path, xml)[0]) == {"la-level-block": [None]}
    xml = return_xml([worker()], la_level="").replace("</Message>", la_level_xml() + "</Message>")
    assert found(parse(tmp_path, xml)[0]) == {"message-order": [None]}


def test_unknown_and_misplaced_top_level_elements(tmp_path):
    stray = "  <Notes>checked by J. Smith</Notes>\n"
    xml = return_xml([worker(), stray + worker_xml(worker(SWENo="SW0000000002")) + stray])
    outcome, table, _ = parse(tmp_path, xml)
    assert found(outcome) == {"message-order": [None, None]}
    assert all(i.value is None for i in outcome.issues), "an unknown element's content is not repeated"
    nested = "  <Workers>\n" + worker_xml(worker()) + "  </Workers>\n"
    outcome, table, _ = parse(tmp_path, return_xml([nested]))
    assert found(outcome) == {"message-order": [1, None]}
    assert table.num_rows == 1


def test_a_return_without_workers(tmp_path):
    assert only_issue(parse(tmp_path, return_xml([]))[0]).rule == "no-workers"


# -- elements of a worker ------------------------------------------------------------------------


def test_elements_of_another_year_are_refused(tmp_path):
    outcome, _, _ = parse(tmp_path, return_xml([worker(Sex="F")]))
    issue = only_issue(outcome)
    assert (issue.rule, issue.element, issue.value) == ("element-not-in-year", "Sex", "F")
    assert "from 2024" in issue.message and "2022 return" in issue.message
    xml = return_xml([worker(GenderCurrent="1", QualInst=None, CFKSSstatus=None, Sex="M")], year=2025)
    issue = only_issue(parse(tmp_path, xml, year=2025)[0])
    assert (issue.rule, issue.element) == ("element-not-in-year", "GenderCurrent")
    assert "up to 2023" in issue.message


def test_unknown_element(tmp_path):
    issue = only_issue(parse(tmp_path, return_xml([worker(NINumber="AB123456C")]))[0])
    assert (issue.rule, issue.element, issue.value) == ("unknown-element", "NINumber", None)


def test_elements_out_of_specification_order(tmp_path):
    """The mistake the 12 XSD errors of the public sample suggest, made for real: QualLevel first."""
    after_qual_level = {"QualInst": _ORDER["QualLevel"] + 0.5}
    fields = dict(sorted(worker().items(), key=lambda kv: after_qual_level.get(kv[0], _ORDER[kv[0]])))
    xml = return_xml([worker_xml(fields, in_spec_order=False)])
    issue = only_issue(parse(tmp_path, xml)[0])
    assert (issue.rule, issue.element, issue.record) == ("element-order", "QualInst", 1)
    assert "QualInst comes after QualLevel here" in issue.message
    assert issue.line == worker_lines(xml)[0] + 8


def test_one_misplaced_element_is_one_issue(tmp_path):
    fields = worker()
    fields = {"QualLevel": fields.pop("QualLevel"), **fields}
    xml = return_xml([worker_xml(fields, in_spec_order=False)])
    issue = only_issue(parse(tmp_path, xml)[0])
    assert (issue.rule, issue.element, issue.record) == ("element-order", "AgencyWorker", 1)
    assert "AgencyWorker comes after QualLevel" in issue.message


def test_repeats_only_where_the_specification_allows(tmp_path):
    outcome, table, _ = parse(
        tmp_path,
        return_xml([worker(FTE=["0.5", "0.6"], ContractWeeks=["10.0", "12.5"], ReasonAbsence=["SIC"])]),
    )
    issue = only_issue(outcome)
    assert (issue.rule, issue.element, issue.value) == ("element-repeated", "FTE", None)
    (row,) = table.to_pylist()
    assert row["fte"] == 0.5 and row["contract_weeks"] == [10.0, 12.5]


@pytest.mark.parametrize("missing", ["AgencyWorker", "SWENo"])
def test_required_elements(tmp_path, missing):
    issue = only_issue(parse(tmp_path, return_xml([worker(**{missing: None})]))[0])
    assert (issue.rule, issue.element, issue.record) == ("missing-required", missing, 1)


@pytest.mark.parametrize(
    ("element", "text", "rule"),
    [
        ("OrgRole", "7", "unknown-code"),
        ("Ethnicity", "wbri", "unknown-code"),
        ("AgencyWorker", "Y", "unknown-code"),
        ("FTE", "abc", "number-format"),
        ("FTE", "1e-1", "number-format"),
        ("FTE", "nan", "number-format"),
        ("Cases30", "3.5", "number-format"),
        ("Cases30", "99999999999", "number-format"),
        ("RoleStartDate", "01/03/2015", "date-format"),
        ("RoleStartDate", "2015-02-30", "date-format"),
        ("RoleStartDate", "20150301", "date-format"),
        ("StepUpGrad", "", "empty-value"),
    ],
)
def test_values_that_cannot_be_read_are_errors_and_null(tmp_path, element, text, rule):
    outcome, table, _ = parse(tmp_path, return_xml([worker(**{element: text})]))
    issue = only_issue(outcome)
    assert (issue.rule, issue.element, issue.record, issue.severity) == (rule, element, 1, "error")
    assert issue.value == (text or None)
    assert table.column(WORKER_COLUMNS[element])[0].as_py() is None


def test_personal_values_are_never_copied_into_issues(tmp_path):
    xml = return_xml([worker(SWENo="SW12 345", PersonBirthDate="15/06/1985")])
    outcome, _, _ = parse(tmp_path, xml)
    assert found(outcome) == {"swe-format": [1], "date-format": [1]}
    assert all(i.value is None for i in outcome.issues)
    text = repr(outcome.issues)
    assert "SW12 345" not in text and "15/06/1985" not in text


def test_whitespace_around_values_is_ignored(tmp_path):
    outcome, table, _ = parse(tmp_path, return_xml([worker(FTE=" 0.5\n", OrgRole=" 5 ")]))
    assert outcome.ok and outcome.issues == []
    assert table.column("fte")[0].as_py() == 0.5


def test_issues_per_rule_are_capped_with_a_count_of_the_rest(tmp_path):
    workers = [worker(SWENo=f"SW{n:010d}", FTE="1.5") for n in range(1, 1_201)]
    outcome, table, _ = parse(tmp_path, return_xml(workers))
    kept = [i for i in outcome.issues if i.rule == "fte-range"]
    assert len(kept) == 1_001 and table.num_rows == 1_200
    summary = kept[-1]
    assert summary.more == 200 and summary.record is None and "200 more" in summary.message
    report = render(ValidationReport.from_outcome("return.xml", outcome), "text").decode("utf-8")
    assert re.search(r"error +fte-range +1,200 ", report)


# -- hostile files ---------------------------------------------------------------------------------

PASSWD_MARKER = "root:x:0:0"
XXE_DOCTYPES = [
    '<!DOCTYPE Message [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE Message [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    '<!DOCTYPE Message SYSTEM "file:///etc/passwd">',
    '<!doctype Message [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
]


def _everything_said(outcome: ParseOutcome, table: pa.Table, tmp_path: Path) -> str:
    report = ValidationReport.from_outcome("return.xml", outcome)
    return "\n".join(
        [
            repr(outcome),
            *(render(report, fmt).decode("utf-8") for fmt in ("text", "csv", "json", "html")),
            json.dumps(table.to_pylist(), default=str),
        ]
    )


@pytest.mark.parametrize("doctype", XXE_DOCTYPES)
def test_external_entities_are_refused_never_resolved(tmp_path, doctype):
    assert PASSWD_MARKER in Path("/etc/passwd").read_text(), "the test needs a readable /etc/passwd"
    xml = return_xml([worker(QualInst="&xxe;")]).replace("<Message>", f"<!-- export -->\n{doctype}\n<Message>")
    outcome, table, batches = parse(tmp_path, "\ufeff" + xml)
    issue = only_issue(outcome)
    assert (issue.rule, issue.line) == ("xml-doctype", 3)
    assert "DOCTYPE declarations are not allowed in CSWW returns" in issue.message
    assert batches == []
    assert PASSWD_MARKER not in _everything_said(outcome, table, tmp_path)


def test_lxml_itself_is_configured_not_to_resolve_entities(tmp_path, monkeypatch):
    """Defence in depth: even if the DOCTYPE check on the first bytes were bypassed."""
    from orchestration.lib.sources.csww import parser

    monkeypatch.setattr(parser, "_read_prolog", lambda handle: parser._Prolog(root="Message"))
    xml = return_xml([worker(QualInst="&xxe;")]).replace("<Message>", XXE_DOCTYPES[0] + "\n<Message>")
    outcome, table, batches = parse(tmp_path, xml)
    assert only_issue(outcome).rule == "xml-doctype"
    assert batches == []
    assert PASSWD_MARKER not in _everything_said(outcome, table, tmp_path)


def _run_in_subprocess(path: Path, old_la_code: str, year: int) -> dict:
    """Parse `path` in a fresh interpreter, dropping the batches; report rows, time and peak RSS.

    The child reads its own high-water mark (VmHWM): RUSAGE_CHILDREN read here would be the largest
    of every child this test process ever waited for, dbt included, and the child's own rusage
    survives exec, so it would start from this (large) test process's size at fork.
    """
    script = textwrap.dedent(
        f"""
        import json, time
        from pathlib import Path

        def peak_mb():
            status = Path("/proc/self/status").read_text()
            return int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) / 1024

        from orchestration.lib.sources.csww.parser import parse_return
        from orchestration.lib.load.pseudonym import Pseudonymiser
        rows = 0
        def consume(batch):
            global rows
            rows += batch.num_rows  # then dropped, as the loader does once it has written them
        start = time.perf_counter()
        outcome = parse_return(Path({str(path)!r}), expected_old_la_code={old_la_code!r}, expected_year={year},
                               pseudonymise=Pseudonymiser(b"k" * 32), on_batch=consume)
        seconds = time.perf_counter() - start
        print(json.dumps({{"ok": outcome.ok, "rows": rows, "seconds": seconds,
                          "rules": sorted({{i.rule for i in outcome.issues}}),
                          "peak_rss_mb": peak_mb()}}))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_billion_laughs_is_refused_at_once_in_little_memory(tmp_path):
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10)
    ]
    doctype = "<!DOCTYPE Message [" + "".join(entities) + "]>"
    xml = return_xml([worker(QualInst="&lol9;")]).replace("<Message>", doctype + "\n<Message>")
    path = tmp_path / "laughs.xml"
    path.write_text(xml)
    result = _run_in_subprocess(path, "301", 2022)
    assert result["rules"] == ["xml-doctype"] and result["rows"] == 0
    assert result["seconds"] < 0.5
    assert result["peak_rss_mb"] < 200, "about what importing the parser costs; expansion would take GBs"


# -- size: memory stays flat ----------------------------------------------------------------------

_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n' + header_xml() + la_level_xml()
_TEMPLATES = (
    worker_xml(worker(SWENo="SW{n:010d}", FTE="0.{f:06d}", FTE30="0.{f:06d}", Cases30="{c}")),
    worker_xml(
        worker(
            SWENo="SW{n:010d}",
            OrgRole="3",
            RoleEndDate="2022-0{m}-1{d}",
            FTE30=None,
            Cases30=None,
            LeaverDestination="1",
            ReasonLeave="1",
        )
    ),
    worker_xml(
        {
            "AgencyWorker": "1",
            "SWENo": "SW{n:010d}",
            "FTE": "1",
            "QualInst": "Agency",
            "OrgRole": "5",
            "RoleStartDate": "2022-0{m}-0{m}",
            "FTE30": "1",
            "Cases30": "{c}",
            "ContractWeeks": "{c}.5",
        }
    ),
)


def write_large_return(path: Path, megabytes: int) -> int:
    """Stream a clean return of about `megabytes` MB into `path`; returns the number of workers."""
    target, written, workers = megabytes * 1_000_000, 0, 0
    with path.open("w", encoding="utf-8") as out:
        written += out.write(_HEADER)
        while written < target:
            chunk = []
            for _ in range(1_000):
                workers += 1
                n = workers
                template = _TEMPLATES[n % len(_TEMPLATES)]
                chunk.append(template.format(n=n, f=100_000 + n % 900_000, c=n % 30, m=1 + n % 9, d=n % 10))
            written += out.write("".join(chunk))
        out.write("</Message>\n")
    return workers


def test_a_200_mb_return_streams_in_flat_memory(tmp_path):
    path = tmp_path / "large.xml"
    workers = write_large_return(path, 200)
    result = _run_in_subprocess(path, "301", 2022)
    assert result["ok"] and result["rules"] == []
    assert result["rows"] == workers
    print(
        f"\n200 MB return: {workers:,} workers in {result['seconds']:.1f} s "
        f"({workers / result['seconds']:,.0f} rows/s), peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    assert result["peak_rss_mb"] < 250


# -- the ingest benchmark ------------------------------------------------------------------------


def benchmark(megabytes: int, folder: Path) -> None:
    """Time a bare lxml iterparse pass and parse_return over the same generated file."""
    from lxml import etree

    path = folder / f"benchmark_{megabytes}mb.xml"
    workers = write_large_return(path, megabytes)
    pa.array([1], type=pa.int64())  # pyarrow imports pandas on first use: keep that out of the timing

    def bare_iterparse() -> None:
        for _, element in etree.iterparse(str(path)):
            if element.tag == "CSWWWorker":
                element.clear()

    def ours() -> None:
        parse_return(path, expected_old_la_code="301", expected_year=2022, pseudonymise=PSEUDONYMISE, on_batch=len)

    timings = {}
    for name, run in (("bare iterparse", bare_iterparse), ("parse_return", ours)):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        timings[name] = best
        print(f"{name:15} {best:6.2f} s  {workers / best:10,.0f} workers/s")
    ratio = timings["parse_return"] / timings["bare iterparse"]
    print(f"ratio {ratio:.2f}x on {megabytes} MB ({workers:,} workers)")


if __name__ == "__main__":
    import argparse
    import tempfile

    options = argparse.ArgumentParser(description="Benchmark parse_return against bare iterparse.")
    options.add_argument("--benchmark", type=int, default=50, metavar="MB")
    with tempfile.TemporaryDirectory() as folder:
        benchmark(options.parse_args().benchmark, Path(folder))
