"""The pack as an Excel workbook: summary, comparison table, native line charts, chart data, notes.

Cells hold the published figure rounded to DfE's decimals, and the number format only adds the
unit, so what a reader sees is what a formula gets. A withheld figure is its symbol (c, u, ...)
as text, as in DfE's own tables, except in the chart data: a line chart draws text as zero, so
there the cell is left empty (a gap) and the symbol sits in the next column. Every table has a
workbook-level name (comparison, headline, key_counts, trend_<measure>) so it can be found.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from orchestration.lib.publish.packs.charts import series_label
from orchestration.lib.publish.packs.format import (
    BAND_FILLS,
    SERIES_STYLE,
    excel_change_format,
    excel_number_format,
    is_missing,
)
from orchestration.lib.publish.packs.lookup import year_span
from orchestration.lib.publish.packs.model import MISSING_SYMBOL, ROLES, Measure, Pack
from orchestration.lib.publish.packs.notes import FLAGS, ofsted_lines, symbol_key

NAVY = "0B3C5D"
# Named on every style: a font left unnamed falls back to a serif face in some spreadsheet programs.
FONT = "Calibri"
TITLE = Font(name=FONT, size=16, bold=True, color=NAVY)
SUBTITLE = Font(name=FONT, size=11, color="333333")
META = Font(name=FONT, size=9, color="666666")
HEADING = Font(name=FONT, size=12, bold=True, color=NAVY)
HEADER_FONT = Font(name=FONT, size=10, bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", start_color=NAVY, end_color=NAVY)
PREVIOUS_FILL = PatternFill("solid", start_color="F3F3F3", end_color="F3F3F3")
FLAG_FILL = PatternFill("solid", start_color="FFF4D6", end_color="FFF4D6")
SYMBOL_FONT = Font(name=FONT, italic=True, color="666666")
BOLD = Font(name=FONT, bold=True)
RULE = Border(bottom=Side(style="thin", color="D0D0D0"))
WRAP = Alignment(wrap_text=True, vertical="top")
RIGHT = Alignment(horizontal="right")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="bottom", horizontal="center")

# Excel does not size rows to wrapped text in merged cells, so heights are set here: points per
# line of 11-point text, and characters of running text per unit of column width (one digit wide).
LINE_HEIGHT = 15
PROSE_CHARS = 1.15
CHART_WIDTH_CM = 16.5
CHART_HEIGHT_CM = 10
EMU_PER_POINT = 12700


def write_xlsx(pack: Pack, target: Path) -> Path:
    workbook = Workbook()
    workbook.properties.title = f"{pack.unit.name}: children's social work workforce, {pack.year}"
    workbook.properties.creator = "workforce extract"
    summary = workbook.active
    summary.title = "Summary"
    _summary(workbook, summary, pack)
    _comparison(workbook, workbook.create_sheet("Comparison"), pack)
    charts = workbook.create_sheet("Charts")
    data = workbook.create_sheet("Chart data")
    _charts(workbook, charts, data, pack)
    _notes(workbook.create_sheet("Notes"), pack)
    workbook.save(target)
    return target


def _name(workbook: Workbook, name: str, sheet: Worksheet, first_row: int, last_row: int, last_col: int) -> None:
    reference = f"{quote_sheetname(sheet.title)}!$A${first_row}:${get_column_letter(last_col)}${last_row}"
    workbook.defined_names[name] = DefinedName(name, attr_text=reference)


def _print_setup(sheet: Worksheet, title_rows: str | None = None, one_page: bool = False) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 1 if one_page else 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    if title_rows:
        sheet.print_title_rows = title_rows
    sheet.oddFooter.left.text = "&A"
    sheet.oddFooter.right.text = "Page &P of &N"


def _put(cell, measure: Measure, value: float | None, symbol: str = "", change: bool = False) -> None:
    """A figure: the number with the measure's format, or its symbol as grey italic text."""
    if is_missing(value) and change:
        return  # no change to show: a blank, as in DfE's tables
    if symbol or is_missing(value):
        cell.value = symbol or MISSING_SYMBOL
        cell.font = SYMBOL_FONT
        cell.alignment = RIGHT
        return
    cell.value = float(value) if measure.decimals else int(value)
    cell.number_format = excel_change_format(measure) if change else excel_number_format(measure)


def _header(sheet: Worksheet, row: int, labels: list[str]) -> None:
    """A header row tall enough for its longest wrapped label at the columns' widths."""
    lines = 1
    for column, label in enumerate(labels, start=1):
        cell = sheet.cell(row, column, label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGN if column > 1 else Alignment(wrap_text=True, vertical="bottom")
        width = sheet.column_dimensions[get_column_letter(column)].width or 8.43
        lines = max(lines, _lines(label, width * 1.1))  # header text is a point smaller
    sheet.row_dimensions[row].height = LINE_HEIGHT * lines + 4


def _lines(text: str, width: float) -> int:
    """Lines a text wraps to in a column `width` characters wide, breaking at spaces as Excel does."""
    count, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            count, used = count + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return count


def _wrapped(sheet: Worksheet, row: int, text: str, last_col: int, width_chars: float, first_col: int = 1) -> None:
    """Text across merged columns, with a row height that shows all of it."""
    cell = sheet.cell(row, first_col, text)
    cell.alignment = WRAP
    sheet.merge_cells(start_row=row, start_column=first_col, end_row=row, end_column=last_col)
    lines = _lines(text, width_chars)
    sheet.row_dimensions[row].height = LINE_HEIGHT * lines + 2


def _title(sheet: Worksheet, pack: Pack, title: str) -> None:
    sheet["A1"] = title
    sheet["A1"].font = TITLE
    sheet["A2"] = (
        f"How {pack.unit.name} compares with its statistical neighbours, the {pack.region_name} region and "
        f"England at 30 September {pack.year}"
    )
    sheet["A2"].font = SUBTITLE
    version = f" · published figures version {pack.published_version}" if pack.published_version else ""
    sheet["A3"] = f"DfE LA code {pack.unit.code} · {pack.region_name}{version}"
    sheet["A3"].font = META


def _summary(workbook: Workbook, sheet: Worksheet, pack: Pack) -> None:
    widths = [40, 16, 14, 16, 16, 14, 14, 12]
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    text_width = sum(widths) * PROSE_CHARS
    _title(sheet, pack, f"{pack.unit.name}: children's social work workforce, {pack.year}")
    row = 5
    flags = [note.text for note in pack.notes if note.section == FLAGS]
    if flags:
        sheet.cell(row, 1, "Read with these notes").font = HEADING
        row += 1
        for text in flags:
            _wrapped(sheet, row, f"• {text}", len(widths), text_width)
            for column in range(1, len(widths) + 1):
                sheet.cell(row, column).fill = FLAG_FILL
            row += 1
        row += 1

    sheet.cell(row, 1, "Ofsted").font = HEADING
    row += 1
    for label, text in ofsted_lines(pack):
        sheet.cell(row, 1, label).font = BOLD
        sheet.cell(row, 1).alignment = WRAP
        _wrapped(sheet, row, text, len(widths), text_width - widths[0], first_col=2)
        sheet.row_dimensions[row].height = max(sheet.row_dimensions[row].height, LINE_HEIGHT * 2 + 2)
        row += 1
    row += 1

    sheet.cell(row, 1, f"At a glance, {pack.year}").font = HEADING
    row += 1
    header = row
    _header(
        sheet,
        header,
        [
            "Measure",
            pack.unit.name,
            "Change on previous year",
            "Statistical neighbours (pooled)",
            pack.region_name,
            "England",
            "Rank (1 = best)",
            "Quartile band",
        ],
    )
    comparison = pack.comparison()
    for measure in pack.trend_measures:
        spec = pack.measures[measure]
        record = comparison[(comparison.measure == measure) & (comparison.time_period == pack.year)].iloc[0]
        row += 1
        sheet.cell(row, 1, spec.label)
        _put(sheet.cell(row, 2), spec, record.value, record.symbol)
        _put(sheet.cell(row, 3), spec, record.change_from_previous_year, change=True)
        _put(sheet.cell(row, 4), spec, record.statistical_neighbours_value)
        _put(sheet.cell(row, 5), spec, record.region_value)
        _put(sheet.cell(row, 6), spec, record.england_value)
        rank = sheet.cell(row, 7, None if is_missing(record["rank"]) else f"{record['rank']} of {record.ranked_units}")
        rank.alignment = RIGHT
        band = sheet.cell(row, 8, _band_text(spec, record))
        band.alignment = Alignment(horizontal="center")
        for column in range(1, 9):
            sheet.cell(row, column).border = RULE
    _band_colours(sheet, f"H{header + 1}:H{row}")
    _name(workbook, "headline", sheet, header, row, 8)
    row += 2

    sheet.cell(row, 1, f"Key counts for {pack.unit.name}").font = HEADING
    row += 1
    header = row
    _header(sheet, header, ["Count", *[pack.year_label(year) for year in pack.comparison_years]])
    counts = pack.counts()
    for record in counts.to_dict("records"):
        spec = pack.measures[record["measure"]]
        row += 1
        sheet.cell(row, 1, spec.label).border = RULE
        for column, year in enumerate(pack.comparison_years, start=2):
            _put(sheet.cell(row, column), spec, record.get(f"value_{year}"), record.get(f"symbol_{year}", ""))
            sheet.cell(row, column).border = RULE
    _name(workbook, "key_counts", sheet, header, row, 1 + len(pack.comparison_years))
    row += 2
    _wrapped(
        sheet,
        row,
        "Sheets: Comparison (every benchmarked measure, this year and last), Charts (five-year trends), "
        "Chart data (the figures behind the charts), Notes (sources, definitions, missing values). "
        "Contains public sector information licensed under the Open Government Licence v3.0.",
        len(widths),
        text_width,
    )
    sheet.cell(row, 1).font = META
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, one_page=True)


def _band_text(spec: Measure, record: object) -> str | None:
    """The band; 'not ranked' for a measure with no better direction; the symbol of a withheld value."""
    if record.quartile_band:
        return record.quartile_band
    return "not ranked" if spec.polarity == "neutral" else (record.symbol or None)


def _band_colours(sheet: Worksheet, cells: str) -> None:
    """Fill each quartile band's cells; EXACT because Excel compares text case-blind and the
    symbol c (withheld) would otherwise take band C's colour."""
    first = cells.split(":")[0]
    for band, colour in BAND_FILLS.items():
        fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid", bgColor=colour)
        rule = FormulaRule(formula=[f'EXACT({first},"{band}")'], fill=fill, font=Font(bold=True))
        sheet.conditional_formatting.add(cells, rule)


COMPARISON_COLUMNS = (
    ("Measure", 50),
    ("Year", 7),
    ("{unit}", 18),
    ("Change on previous year", 12),
    ("Statistical neighbours (pooled)", 14),
    ("Neighbours: mean (LAIT)", 14),
    ("Neighbours: median (dashboard)", 14),
    ("Neighbours with a figure", 12),
    ("{region}", 14),
    ("England", 11),
    ("Rank (1 = best)", 9),
    ("Councils ranked", 10),
    ("Quartile band (A = best)", 12),
)


def _comparison(workbook: Workbook, sheet: Worksheet, pack: Pack) -> None:
    _title(sheet, pack, f"How {pack.unit.name} compares, {year_span(list(pack.comparison_years))}")
    labels = [label.format(unit=pack.unit.name, region=pack.region_name) for label, _ in COMPARISON_COLUMNS]
    for column, (_, width) in enumerate(COMPARISON_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    header = 5
    legend = "Rank 1 is best among all councils; quartile band A is the best quarter. Notes sheet: definitions."
    borrowed = [pack.year_label(y) for y in pack.comparison_years if str(y) != pack.year_label(y)]
    if borrowed:
        legend += f" Figures for {', '.join(borrowed)} are the replaced council's."
    sheet.cell(4, 1, f"{legend} {symbol_key(pack)}".strip()).font = META
    _header(sheet, header, labels)
    table = pack.comparison()
    row = header
    for record in table.itertuples(index=False):
        spec = pack.measures[record.measure]
        row += 1
        sheet.cell(row, 1, spec.label).alignment = Alignment(wrap_text=True)  # bottom, level with the figures
        sheet.row_dimensions[row].height = LINE_HEIGHT * _lines(spec.label, COMPARISON_COLUMNS[0][1] * PROSE_CHARS) + 2
        sheet.cell(row, 2, int(record.time_period))
        _put(sheet.cell(row, 3), spec, record.value, record.symbol)
        _put(sheet.cell(row, 4), spec, record.change_from_previous_year, change=True)
        _put(sheet.cell(row, 5), spec, record.statistical_neighbours_value)
        _put(sheet.cell(row, 6), spec, record.sn_mean_value)
        _put(sheet.cell(row, 7), spec, record.sn_median_value)
        sheet.cell(row, 8, int(record.sn_neighbour_count))
        _put(sheet.cell(row, 9), spec, record.region_value)
        _put(sheet.cell(row, 10), spec, record.england_value)
        if not is_missing(record.rank):
            sheet.cell(row, 11, int(record.rank))
            sheet.cell(row, 12, int(record.ranked_units))
        band = sheet.cell(row, 13, _band_text(spec, record))
        band.alignment = Alignment(horizontal="center")
        if not record.quartile_band:
            band.font = SYMBOL_FONT
        previous = record.time_period != pack.year
        for column in range(1, len(labels) + 1):
            cell = sheet.cell(row, column)
            cell.border = RULE
            if previous:
                cell.fill = PREVIOUS_FILL
            elif column == 1:
                cell.font = BOLD
    _band_colours(sheet, f"M{header + 1}:M{row}")
    _name(workbook, "comparison", sheet, header, row, len(labels))
    sheet.freeze_panes = sheet.cell(header + 1, 3)
    sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(labels))}{row}"
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, f"{header}:{header}")


def _charts(workbook: Workbook, charts: Worksheet, data: Worksheet, pack: Pack) -> None:
    charts["A1"] = f"Trends, {year_span(list(pack.trend_years))}: {pack.unit.name} against its comparators"
    charts["A1"].font = TITLE
    charts["A2"] = (
        "Gaps are figures that are missing or withheld (the Chart data sheet says which). Rates are percentages; "
        "caseload is cases per FTE case holder."
    )
    charts["A2"].font = META
    data["A1"] = "Figures behind the charts (blank: missing or withheld; see the last column)"
    data["A1"].font = HEADING
    for column, width in enumerate([8, 30, 22, 20, 12, 40], start=1):
        data.column_dimensions[get_column_letter(column)].width = width
    names = [series_label(pack, role) for role in ROLES]
    row = 3
    for position, measure in enumerate(pack.trend_measures):
        spec = pack.measures[measure]
        data.cell(row, 1, spec.label).font = BOLD
        header = row + 1
        _header(data, header, ["Year", *names, "Missing or withheld"])
        table = pack.trend(measure)
        symbols = pack.figures[(pack.figures.measure == measure) & (pack.figures.symbol != "")]
        for year in pack.trend_years:
            row_cells = header + (pack.trend_years.index(year) + 1)
            data.cell(row_cells, 1, int(year))
            for column, role in enumerate(ROLES, start=2):
                value = table.at[year, role]
                if not is_missing(value):
                    _put(data.cell(row_cells, column), spec, value)
            missing = symbols[symbols.time_period == year]
            if len(missing):
                data.cell(
                    row_cells, 6, "; ".join(f"{pack.role_name(r.role)}: {r.symbol}" for r in missing.itertuples())
                )
        last = header + len(pack.trend_years)
        _name(workbook, f"trend_{measure}", data, header, last, 6)
        charts.add_chart(_line_chart(data, spec, header, last), _anchor(position))
        row = last + 2
    _print_setup(charts, one_page=True)
    _print_setup(data)


def _anchor(position: int) -> str:
    # Two charts a row; each is about 9 columns wide and 20 rows tall at the default sizes.
    column = "A" if position % 2 == 0 else "K"
    return f"{column}{4 + (position // 2) * 21}"


def _line_chart(data: Worksheet, spec: Measure, header: int, last: int) -> LineChart:
    chart = LineChart()
    chart.title = _chart_title(spec.label)
    chart.style = 2
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    chart.add_data(Reference(data, min_col=2, max_col=5, min_row=header, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(data, min_col=1, min_row=header + 1, max_row=last))
    if spec.unit != "%":  # the tick labels carry the % sign
        chart.y_axis.title = spec.unit
    chart.y_axis.number_format = '0"%"' if spec.unit == "%" else "0"
    chart.y_axis.scaling.min = 0
    # openpyxl 3.1 marks both axes deleted unless told otherwise, which hides the labels.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.display_blanks = "gap"
    for series, role in zip(chart.series, ROLES, strict=True):
        style = SERIES_STYLE[role]
        series.smooth = False
        series.graphicalProperties.line.solidFill = style["colour"]
        series.graphicalProperties.line.width = int(style["width"] * EMU_PER_POINT)
        series.graphicalProperties.line.dashStyle = style["dash"]
        series.marker.symbol = "circle"
        series.marker.size = 7 if role == "council" else 5
        series.marker.graphicalProperties.solidFill = style["colour"]
        series.marker.graphicalProperties.line.solidFill = style["colour"]
    return chart


def _chart_title(text: str) -> Title:
    """A 12-point bold title: Excel's default 18 points crowds a chart this size."""
    size = CharacterProperties(sz=1200, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=size), r=[RegularTextRun(rPr=size, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _notes(sheet: Worksheet, pack: Pack) -> None:
    sheet["A1"] = "Notes"
    sheet["A1"].font = TITLE
    widths = [26, 34, 110]
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    _header(sheet, 3, ["Section", "Term", "Note"])
    row = 3
    for note in pack.notes:
        row += 1
        sheet.cell(row, 1, note.section).alignment = WRAP
        sheet.cell(row, 2, note.term or None).alignment = WRAP
        sheet.cell(row, 3, note.text).alignment = WRAP
        if note.section == FLAGS:
            for column in range(1, 4):
                sheet.cell(row, column).fill = FLAG_FILL
        lines = max(_lines(note.text, widths[2] * PROSE_CHARS), _lines(note.term, widths[1] * PROSE_CHARS))
        sheet.row_dimensions[row].height = LINE_HEIGHT * lines + 2
    sheet.freeze_panes = "A4"
    _print_setup(sheet, "3:3")
