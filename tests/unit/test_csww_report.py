"""The validation report in every format: the same facts, errors before queries, SWE numbers only
in the council's own copy, and the council-facing list of rules kept in step with the catalogue."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap

import pytest
from lxml import html
from openpyxl import load_workbook

from orchestration.lib import paths
from orchestration.lib.sources.csww import rules_doc
from orchestration.lib.sources.csww.parser import parse_return
from orchestration.lib.sources.csww.report import FORMATS, STORED_FORMATS, ValidationReport, render, write_report
from tests.unit.test_csww_parser import PSEUDONYMISE, return_xml, worker

SWE_NUMBERS = {1: "SW0000000001", 2: "SW0000000002", 3: "SW0000000003"}


def _report(tmp_path, *, council_copy: bool) -> ValidationReport:
    """Three workers: an age query (1), FTE above 1 and a <script> in a code (2), 480 cases (3)."""
    workers = [
        worker(SWENo=SWE_NUMBERS[1], PersonBirthDate="1950-01-01"),
        worker(SWENo=SWE_NUMBERS[2], FTE="1.5", Ethnicity="<script>x</script>"),
        worker(SWENo=SWE_NUMBERS[3], Cases30="480"),
    ]
    path = tmp_path / "csww_2022.xml"
    path.write_text(
        return_xml(workers).replace("<Ethnicity><script>x</script>", "<Ethnicity>&lt;script&gt;x&lt;/script&gt;")
    )
    swe: dict[int, str] = {}
    outcome = parse_return(
        path,
        expected_old_la_code="301",
        expected_year=2022,
        pseudonymise=PSEUDONYMISE,
        on_batch=len,
        on_swe_number=swe.__setitem__ if council_copy else None,
    )
    return ValidationReport.from_outcome(path.name, outcome, swe_numbers=swe)


@pytest.fixture
def council_copy(tmp_path) -> ValidationReport:
    return _report(tmp_path, council_copy=True)


@pytest.fixture
def stored_copy(tmp_path) -> ValidationReport:
    return _report(tmp_path, council_copy=False)


def test_the_report_counts_and_orders_errors_before_queries(council_copy):
    assert council_copy.counts == {"error": 2, "query": 2}
    assert not council_copy.accepted and council_copy.verdict.startswith("Not accepted: 2 errors and 2 queries.")
    assert [i.severity for i in council_copy.ordered()] == ["error", "error", "query", "query"]
    assert [(c.rule, c.count) for c in council_copy.by_rule()] == [
        ("fte-range", 1),
        ("unknown-code", 1),
        ("age-range", 1),
        ("cases-high", 1),
    ]
    assert council_copy.council == "301 Barking and Dagenham"


def test_text_names_workers_by_swe_number_only_in_the_council_copy(council_copy, stored_copy):
    text = render(council_copy, "text").decode()
    lines = text.splitlines()
    assert lines[0] == "CSWW return csww_2022.xml: LA 301 Barking and Dagenham, collection year 2022, 3 worker records"
    assert lines[1].startswith("Not accepted")
    assert any(
        line.startswith("  [error] line") and "worker 2, SWENo SW0000000002, FTE = '1.5'" in line for line in lines
    )
    assert "  query  cases-high" in text
    assert not any(number in render(stored_copy, "text").decode() for number in SWE_NUMBERS.values())


def test_json_and_csv_carry_every_issue(council_copy, stored_copy):
    document = json.loads(render(council_copy, "json"))
    assert document["counts"] == {"error": 2, "query": 2} and document["accepted"] is False
    assert [i["rule"] for i in document["issues"]] == ["fte-range", "unknown-code", "age-range", "cases-high"]
    assert document["issues"][0]["swe_number"] == "SW0000000002"
    assert document["la_name"] == "Barking and Dagenham" and document["collection_year"] == 2022
    assert "swe_number" not in json.loads(render(stored_copy, "json"))["issues"][0]
    rows = list(csv.DictReader(io.StringIO(render(stored_copy, "csv").decode())))
    assert [r["rule"] for r in rows] == ["fte-range", "unknown-code", "age-range", "cases-high"]
    assert list(rows[0]) == ["severity", "rule", "line", "worker", "element", "value", "message", "more"]
    assert rows[3]["value"] == "480" and rows[2]["value"] == "", "a birth date is never shown"


def test_html_is_self_contained_accessible_and_escaped(council_copy, stored_copy):
    page = render(council_copy, "html").decode()
    tree = html.fromstring(page)
    assert not tree.xpath("//script | //link | //img | //iframe"), "nothing fetched, nothing run"
    assert "http://" not in page and "https://" not in page and "@font-face" not in page
    summary = tree.xpath("//div[contains(@class, 'govuk-error-summary')]")[0]
    assert summary.get("role") == "alert"
    targets = [a.get("href")[1:] for a in summary.xpath(".//a")]
    assert targets == ["rule-fte-range", "rule-unknown-code"]
    assert all(tree.xpath(f"//*[@id='{target}']") for target in targets), "every summary link has a target"
    for table in tree.xpath("//table"):
        assert table.xpath("caption"), "every table has a caption"
        assert all(th.get("scope") == "col" for th in table.xpath("thead//th"))
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "SW0000000002" in page
    assert not any(number in render(stored_copy, "html").decode() for number in SWE_NUMBERS.values())


def test_xlsx_has_a_summary_and_a_filterable_printable_issues_sheet(council_copy):
    book = load_workbook(io.BytesIO(render(council_copy, "xlsx")))
    assert book.sheetnames == ["Summary", "Issues"]
    issues = book["Issues"]
    header = [cell.value for cell in issues[1]]
    assert header[:5] == ["Severity", "Rule", "Line", "Worker", "SWE number"]
    assert issues.max_row == 1 + len(council_copy.issues)
    assert issues["B2"].value == "fte-range" and issues["E2"].value == "SW0000000002"
    assert issues.auto_filter.ref == f"A1:H{issues.max_row}" and issues.freeze_panes == "A2"
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == int(sheet.PAPERSIZE_A4)
        assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert issues.print_title_rows == "$1:$1"
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows(min_row=3, max_row=9)}
    assert summary["Errors"] == 2 and summary["Queries"] == 2 and summary["Council"] == "301 Barking and Dagenham"


def test_write_report_writes_each_format_under_its_name(tmp_path, stored_copy):
    written = write_report(stored_copy, tmp_path / "report")
    assert (
        [p.name for p in written] == [FORMATS[f] for f in STORED_FORMATS] == ["report.txt", "issues.csv", "report.html"]
    )
    everything = write_report(stored_copy, tmp_path / "all", FORMATS)
    assert all(p.stat().st_size > 0 for p in everything)


def test_a_clean_return_is_accepted(tmp_path):
    path = tmp_path / "clean.xml"
    path.write_text(return_xml([worker()]))
    outcome = parse_return(path, expected_old_la_code=None, expected_year=None, pseudonymise=str, on_batch=len)
    report = ValidationReport.from_outcome(path.name, outcome)
    assert report.accepted and report.verdict == "Accepted: no errors and no queries."
    assert "govuk-notification-banner--success" in render(report, "html").decode()


def test_the_council_facing_list_of_rules_is_current():
    committed = rules_doc.DOC_PATH.read_text(encoding="utf-8")
    assert committed == rules_doc.render_markdown(), (
        "docs/validation_rules.md is out of date: run .venv/bin/python -m orchestration.lib.sources.csww.rules_doc"
    )
    assert "`lea-not-in-existence` | **error**" in committed and "`cases-high` | query" in committed


def test_validating_needs_neither_dagster_nor_great_expectations():
    script = textwrap.dedent(
        """
        import sys
        from orchestration.lib.sources.csww import report_html, report_xlsx, validate  # noqa: F401
        heavy = sorted(m for m in ("dagster", "great_expectations", "dbt") if m in sys.modules)
        print(",".join(heavy))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=paths.PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
