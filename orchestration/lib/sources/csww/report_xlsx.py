"""The validation report as an Excel workbook: a summary sheet and a filterable issues sheet.

Both sheets print on A4 landscape, one page wide, the issues sheet repeating its header row.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from orchestration.lib.sources.csww.report import ValidationReport
from orchestration.lib.sources.csww.rules import ERROR, QUERY

HEADER_FILL = PatternFill("solid", fgColor="0B0C0C")
HEADER_FONT = Font(bold=True, color="FFFFFF")
SEVERITY_FILLS = {ERROR: PatternFill("solid", fgColor="F4D7D2"), QUERY: PatternFill("solid", fgColor="FFF7BF")}
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


def _print_setup(sheet: Worksheet, title_rows: str | None = None) -> None:
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = False
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    if title_rows:
        sheet.print_title_rows = title_rows


def _header_row(sheet: Worksheet, row: int, names: list[str]) -> None:
    for column, name in enumerate(names, start=1):
        cell = sheet.cell(row=row, column=column, value=name)
        cell.fill, cell.font, cell.alignment = HEADER_FILL, HEADER_FONT, WRAP


def _summary(sheet: Worksheet, report: ValidationReport) -> None:
    sheet.title = "Summary"
    sheet["A1"] = f"Validation report: {report.file}"
    sheet["A1"].font = Font(bold=True, size=16)
    facts = [
        ("Council", report.council),
        ("Collection year", report.year or "unknown"),
        ("Worker records", report.workers),
        ("Errors", report.counts[ERROR]),
        ("Queries", report.counts[QUERY]),
        ("Checked", report.checked_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Verdict", report.verdict),
    ]
    for row, (key, value) in enumerate(facts, start=3):
        sheet.cell(row=row, column=1, value=key).font = Font(bold=True)
        sheet.cell(row=row, column=2, value=value).alignment = WRAP
    row = 3 + len(facts) + 1
    for note in report.notes:
        sheet.cell(row=row, column=1, value=note).alignment = WRAP
        sheet.merge_cells(start_row=row, end_row=row, start_column=1, end_column=5)
        sheet.row_dimensions[row].height = 30
        row += 1
    row += 1
    sheet.cell(row=row, column=1, value="Issues by rule").font = Font(bold=True, size=13)
    row += 1
    _header_row(sheet, row, ["Rule", "Severity", "Issues", "What it means", "How to fix it"])
    for count in report.by_rule():
        row += 1
        values = [count.rule, count.severity, count.count, count.summary, count.fix]
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.alignment = WRAP
        sheet.cell(row=row, column=2).fill = SEVERITY_FILLS.get(count.severity, PatternFill())
    for column, width in zip("ABCDE", (26, 48, 10, 50, 60), strict=True):
        sheet.column_dimensions[column].width = width
    _print_setup(sheet)


def _issues(sheet: Worksheet, report: ValidationReport) -> None:
    sheet.title = "Issues"
    names = ["Severity", "Rule", "Line", "Worker"]
    widths = [10, 26, 8, 8]
    if report.swe_numbers:
        names.append("SWE number")
        widths.append(15)
    names += ["Element", "Value", "What is wrong and what to do"]
    widths += [18, 18, 90]
    _header_row(sheet, 1, names)
    for row, issue in enumerate(report.ordered(), start=2):
        values: list[object] = [issue.severity, issue.rule, issue.line, issue.record]
        if report.swe_numbers:
            values.append(report.swe_number(issue))
        values += [issue.element, issue.value, issue.message]
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value).alignment = TOP
        sheet.cell(row=row, column=len(values)).alignment = WRAP
        sheet.cell(row=row, column=1).fill = SEVERITY_FILLS.get(issue.severity, PatternFill())
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    last = get_column_letter(len(names))
    sheet.auto_filter.ref = f"A1:{last}{max(1, sheet.max_row)}"
    sheet.freeze_panes = "A2"
    _print_setup(sheet, title_rows="1:1")


def render_xlsx(report: ValidationReport) -> bytes:
    book = Workbook()
    _summary(book.active, report)
    _issues(book.create_sheet(), report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
