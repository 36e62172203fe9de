"""The pack as an Excel workbook: summary, comparison, comparators, neighbours, ranking, charts, data,
returns, notes.

Cells hold the published figure rounded to DfE's decimals, and the number format only adds the
unit, so what a reader sees is what a formula gets. A withheld figure is its symbol (c, x, ...)
as text, as in DfE's own tables, except in the chart data: a line chart draws text as zero, so
there the cell is left empty (a gap) and the symbol sits in the next column. A flag beside a
shown value (DfE's u, a small base) is its own column. Every table has a workbook-level name
(comparison, comparators, headline, key_counts, neighbours, ranking_<measure>, trend_<measure>)
so it can be found. Every sheet prints on A4 landscape, fitted to the page width, with its name,
page numbers and, for synthetic data, a warning in the page header.
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
from openpyxl.worksheet.pagebreak import Break
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
from orchestration.lib.publish.packs.model import (
    MISSING_SYMBOL,
    ROLES,
    SYNTHETIC_BANNER,
    SYNTHETIC_PAGE_MARK,
    Measure,
    Pack,
)
from orchestration.lib.publish.packs.notes import FLAGS, RETURNS, ofsted_lines, source_text, symbol_key

NAVY = "0B3C5D"
MAROON = "7A1F1F"
# Named on every style: a font left unnamed falls back to a serif face in some spreadsheet programs.
FONT = "Calibri"
TITLE = Font(name=FONT, size=16, bold=True, color=NAVY)
SUBTITLE = Font(name=FONT, size=11, color="333333")
META = Font(name=FONT, size=9, color="666666")
HEADING = Font(name=FONT, size=12, bold=True, color=NAVY)
HEADER_FONT = Font(name=FONT, size=10, bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", start_color=NAVY, end_color=NAVY)
BANNER_FONT = Font(name=FONT, size=11, bold=True, color="FFFFFF")
BANNER_FILL = PatternFill("solid", start_color=MAROON, end_color=MAROON)
PREVIOUS_FILL = PatternFill("solid", start_color="F3F3F3", end_color="F3F3F3")
FLAG_FILL = PatternFill("solid", start_color="FFF4D6", end_color="FFF4D6")
OWN_FILL = PatternFill("solid", start_color="DCEBF5", end_color="DCEBF5")
SYMBOL_FONT = Font(name=FONT, italic=True, color="666666")
FLAG_FONT = Font(name=FONT, bold=True, color=MAROON)
BOLD = Font(name=FONT, bold=True)
MONO = Font(name="Consolas", size=9)
RULE = Border(bottom=Side(style="thin", color="D0D0D0"))
WRAP = Alignment(wrap_text=True, vertical="top")
RIGHT = Alignment(horizontal="right")
CENTRE = Alignment(horizontal="center")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="bottom", horizontal="center")

# Excel does not size rows to wrapped text in merged cells, so heights are set here: points per
# line of 11-point text, and characters of running text per unit of column width (one digit wide).
LINE_HEIGHT = 15
PROSE_CHARS = 1.15
# Top and bottom page margins (inches): the page header and footer print inside them.
MARGIN_TOP_BOTTOM = 0.75
# The height a page prints at full scale (points): A4 landscape, 595 points high, less its margins.
PRINTABLE_HEIGHT = 595 - 72 * 2 * MARGIN_TOP_BOTTOM
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
    _comparators(workbook, workbook.create_sheet("Comparators"), pack)
    _neighbours(workbook, workbook.create_sheet("Neighbours"), pack)
    _ranking(workbook, workbook.create_sheet("Ranking"), pack)
    charts = workbook.create_sheet("Charts")
    data = workbook.create_sheet("Chart data")
    _charts(workbook, charts, data, pack)
    _returns(workbook.create_sheet("Returns"), pack)
    _notes(workbook.create_sheet("Notes"), pack)
    workbook.save(target)
    return target


def _name(
    workbook: Workbook, name: str, sheet: Worksheet, first_row: int, last_row: int, last_col: int, first_col: int = 1
) -> None:
    first, last = get_column_letter(first_col), get_column_letter(last_col)
    reference = f"{quote_sheetname(sheet.title)}!${first}${first_row}:${last}${last_row}"
    workbook.defined_names[name] = DefinedName(name, attr_text=reference)


def _print_setup(sheet: Worksheet, pack: Pack, title_rows: str | None = None, one_page: bool = False) -> None:
    """A4 landscape, fitted to the page width (and height for one-page sheets), with room for the
    header and footer so neither is clipped."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 1 if one_page else 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    margins = sheet.page_margins
    margins.left = margins.right = 0.45
    margins.top = margins.bottom = MARGIN_TOP_BOTTOM
    margins.header = margins.footer = 0.3
    if title_rows:
        sheet.print_title_rows = title_rows
    if pack.is_synthetic:
        sheet.oddHeader.center.text = SYNTHETIC_PAGE_MARK
        sheet.oddHeader.center.color = MAROON
        sheet.oddHeader.center.size = 9
    sheet.oddFooter.left.text = f"{pack.unit.name}, {pack.year}: &A"
    sheet.oddFooter.left.size = 8
    sheet.oddFooter.right.text = "Page &P of &N"
    sheet.oddFooter.right.size = 8


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


def _flag(cell, flag: str) -> None:
    if flag:
        cell.value = flag
        cell.font = FLAG_FONT
        cell.alignment = CENTRE


def _header(sheet: Worksheet, row: int, labels: list[str], first_col: int = 1) -> None:
    """A header row tall enough for its longest wrapped label at the columns' widths."""
    lines = 1
    for column, label in enumerate(labels, start=first_col):
        cell = sheet.cell(row, column, label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGN if column > first_col else Alignment(wrap_text=True, vertical="bottom")
        width = sheet.column_dimensions[get_column_letter(column)].width or 8.43
        lines = max(lines, _lines(label, width))  # bold header text is about as wide as plain 11-point
    # Tables side by side share a header row: the tallest header decides.
    sheet.row_dimensions[row].height = max(sheet.row_dimensions[row].height or 0, LINE_HEIGHT * lines + 4)


def _lines(text: str, width: float) -> int:
    """Lines a text wraps to in a column `width` characters wide, breaking at spaces as Excel does."""
    count, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            count, used = count + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return count


def _widths(sheet: Worksheet, widths: list[float]) -> float:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    return sum(widths) * PROSE_CHARS


def _wrapped(sheet: Worksheet, row: int, text: str, last_col: int, width_chars: float, first_col: int = 1) -> None:
    """Text across merged columns, with a row height that shows all of it."""
    cell = sheet.cell(row, first_col, text)
    cell.alignment = WRAP
    sheet.merge_cells(start_row=row, start_column=first_col, end_row=row, end_column=last_col)
    lines = _lines(text, width_chars)
    sheet.row_dimensions[row].height = LINE_HEIGHT * lines + 2


def _title(sheet: Worksheet, pack: Pack, title: str, last_col: int, width_chars: float) -> int:
    """The synthetic-data banner (when it applies), title, subtitle and identity; returns the next free row."""
    row = 1
    if pack.is_synthetic:
        # Bold text runs wider than plain: wrap as if the row were a fifth narrower.
        _wrapped(sheet, row, SYNTHETIC_BANNER, last_col, width_chars * 0.8)
        sheet.row_dimensions[row].height += 6
        for column in range(1, last_col + 1):
            sheet.cell(row, column).fill = BANNER_FILL
        sheet.cell(row, 1).font = BANNER_FONT
        sheet.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="center")
        row += 2
    sheet.cell(row, 1, title).font = TITLE
    sheet.row_dimensions[row].height = 24
    sheet.cell(
        row + 1,
        1,
        f"How {pack.unit.name} compares with its statistical neighbours, the {pack.region_name} region and "
        f"England at 30 September {pack.year}",
    ).font = SUBTITLE
    version = f" · published figures version {pack.published_version}" if pack.published_version else ""
    sheet.cell(row + 2, 1, f"DfE LA code {pack.unit.code} · {pack.region_name}{version}").font = META
    return row + 4


def _summary(workbook: Workbook, sheet: Worksheet, pack: Pack) -> None:
    widths = [40, 16, 8, 14, 16, 16, 14, 14, 12]
    text_width = _widths(sheet, widths)
    row = _title(
        sheet, pack, f"{pack.unit.name}: children's social work workforce, {pack.year}", len(widths), text_width
    )
    flags = [note.text for note in pack.notes if note.section == FLAGS and note.text != SYNTHETIC_BANNER]
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
            "Flag",
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
        _flag(sheet.cell(row, 3), record.flag)
        _put(sheet.cell(row, 4), spec, record.change_from_previous_year, change=True)
        _put(sheet.cell(row, 5), spec, record.statistical_neighbours_value)
        _put(sheet.cell(row, 6), spec, record.region_value)
        _put(sheet.cell(row, 7), spec, record.england_value)
        rank = sheet.cell(row, 8, None if is_missing(record["rank"]) else f"{record['rank']} of {record.ranked_units}")
        rank.alignment = RIGHT
        band = sheet.cell(row, 9, _band_text(record))
        band.alignment = CENTRE
        for column in range(1, len(widths) + 1):
            sheet.cell(row, column).border = RULE
    _band_colours(sheet, f"I{header + 1}:I{row}")
    _name(workbook, "headline", sheet, header, row, len(widths))
    row += 2

    sheet.cell(row, 1, f"Key counts for {pack.unit.name}").font = HEADING
    row += 1
    header = row
    labels = ["Count"]
    for year in pack.comparison_years:
        labels += [pack.year_label(year), "Flag"]
    _header(sheet, header, labels)
    for record in pack.counts().to_dict("records"):
        spec = pack.measures[record["measure"]]
        row += 1
        sheet.cell(row, 1, spec.label).border = RULE
        for position, year in enumerate(pack.comparison_years):
            column = 2 + 2 * position
            _put(sheet.cell(row, column), spec, record.get(f"value_{year}"), record.get(f"symbol_{year}", ""))
            _flag(sheet.cell(row, column + 1), record.get(f"flag_{year}", ""))
            sheet.cell(row, column).border = sheet.cell(row, column + 1).border = RULE
    _name(workbook, "key_counts", sheet, header, row, len(labels))
    row += 2
    _wrapped(
        sheet,
        row,
        "Sheets: Comparison (every benchmarked measure, this year and last), Comparators (DfE's region and England "
        "figures beside the recomputed ones), Neighbours (each statistical neighbour's value), Ranking (every "
        "council ranked), Charts (trends over every year held), Chart data (the figures behind the charts), "
        "Returns (which return each year's figures come from), Notes (sources, definitions, missing values). "
        "Contains public sector information licensed under the Open Government Licence v3.0.",
        len(widths),
        text_width,
    )
    sheet.cell(row, 1).font = META
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, pack, one_page=True)


def _band_text(record: object) -> str | None:
    """The band; the symbol of a withheld value; 'not ranked' for a shown value without a rank."""
    if record.quartile_band:
        return record.quartile_band
    if record.symbol:
        return record.symbol
    return "not ranked" if record.not_ranked_reason else None


def _band_colours(sheet: Worksheet, cells: str) -> None:
    """Fill each quartile band's cells; EXACT because Excel compares text case-blind and the
    symbol c (withheld) would otherwise take band C's colour."""
    first = cells.split(":")[0]
    for band, colour in BAND_FILLS.items():
        fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid", bgColor=colour)
        rule = FormulaRule(formula=[f'EXACT({first},"{band}")'], fill=fill, font=Font(bold=True))
        sheet.conditional_formatting.add(cells, rule)


COMPARISON_COLUMNS = (
    ("Measure", 44),
    ("Year", 7),
    ("{unit}", 13),
    ("Flag", 7),
    ("Change on previous year", 11),
    ("Statistical neighbours (pooled)", 13),
    ("Neighbours: mean (LAIT)", 12),
    ("Neighbours: median (dashboard)", 12),
    ("Neighbours in mean", 10),
    ("{region}", 12),
    ("England", 10),
    ("Rank (1 = best)", 8),
    ("Councils ranked", 9),
    ("Quartile band (A = best)", 11),
)


def _comparison(workbook: Workbook, sheet: Worksheet, pack: Pack) -> None:
    labels = [label.format(unit=pack.unit.name, region=pack.region_name) for label, _ in COMPARISON_COLUMNS]
    widths = [width for _, width in COMPARISON_COLUMNS]
    # The council's name heads a column: wide enough for its longest word, which print would break.
    widths[2] = max(widths[2], max(len(word) for word in pack.unit.name.split()) + 2)
    text_width = _widths(sheet, widths)
    top = _title(
        sheet, pack, f"How {pack.unit.name} compares, {year_span(list(pack.comparison_years))}", len(labels), text_width
    )
    legend = (
        "Rank 1 is best among all councils ranked; quartile band A is the best quarter. Region and England are DfE's "
        "published figures (Comparators sheet: the recomputed ones). Notes sheet: definitions."
    )
    borrowed = [pack.year_label(y) for y in pack.comparison_years if str(y) != pack.year_label(y)]
    if borrowed:
        legend += f" Figures for {', '.join(borrowed)} are the replaced council's."
    key = symbol_key(pack)
    _wrapped(sheet, top, f"{legend} {key}".strip(), len(labels), text_width)
    sheet.cell(top, 1).font = META
    header = top + 1
    _header(sheet, header, labels)
    table = pack.comparison()
    row = header
    for record in table.itertuples(index=False):
        spec = pack.measures[record.measure]
        row += 1
        sheet.cell(row, 1, spec.label).alignment = Alignment(wrap_text=True)  # bottom, level with the figures
        # Bold labels (this year's rows) run wider than plain text: wrap at the column's width in digits.
        sheet.row_dimensions[row].height = LINE_HEIGHT * _lines(spec.label, COMPARISON_COLUMNS[0][1]) + 2
        sheet.cell(row, 2, int(record.time_period))
        _put(sheet.cell(row, 3), spec, record.value, record.symbol)
        _flag(sheet.cell(row, 4), record.flag)
        _put(sheet.cell(row, 5), spec, record.change_from_previous_year, change=True)
        _put(sheet.cell(row, 6), spec, record.statistical_neighbours_value)
        _put(sheet.cell(row, 7), spec, record.sn_mean_value)
        _put(sheet.cell(row, 8), spec, record.sn_median_value)
        sheet.cell(row, 9, int(record.sn_neighbour_count))
        _put(sheet.cell(row, 10), spec, record.region_value)
        _put(sheet.cell(row, 11), spec, record.england_value)
        if not is_missing(record.rank):
            sheet.cell(row, 12, int(record.rank))
            sheet.cell(row, 13, int(record.ranked_units))
        band = sheet.cell(row, 14, _band_text(record))
        band.alignment = CENTRE
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
    _band_colours(sheet, f"N{header + 1}:N{row}")
    _name(workbook, "comparison", sheet, header, row, len(labels))
    row += 2
    for line in _not_ranked_lines(pack):
        _wrapped(sheet, row, line, len(labels), text_width)
        sheet.cell(row, 1).font = META
        row += 1
    sheet.freeze_panes = sheet.cell(header + 1, 3)
    sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(labels))}{header + len(table)}"
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, pack, f"{header}:{header}")


def _not_ranked_lines(pack: Pack) -> list[str]:
    """Why each shown value of the pack's year has no rank, where it is not a neutral measure's."""
    table = pack.comparison()
    table = table[(table.time_period == pack.year) & (table.not_ranked_reason != "") & (table.symbol == "")]
    return [
        f"{pack.measures[row.measure].label}: {row.not_ranked_reason}."
        for row in table.itertuples(index=False)
        if pack.measures[row.measure].polarity != "neutral"
    ]


def _comparators(workbook: Workbook, sheet: Worksheet, pack: Pack) -> None:
    widths = [44, 12, 12, 11, 12, 12, 11, 60]
    text_width = _widths(sheet, widths)
    top = _title(
        sheet, pack, f"Region and England, {pack.year}: DfE's figures and the recomputed ones", len(widths), text_width
    )
    _wrapped(
        sheet,
        top,
        "The region and England figures in this pack are DfE's own published figures wherever DfE published them. "
        "Beside them: the figure recomputed here from the councils' figures, and the difference (recomputed minus "
        "shown).",
        len(widths),
        text_width,
    )
    sheet.cell(top, 1).font = META
    header = top + 1
    _header(
        sheet,
        header,
        [
            "Measure",
            pack.region_name,
            "Recomputed",
            "Difference",
            "England",
            "Recomputed",
            "Difference",
            "Figures shown",
        ],
    )
    table = pack.comparison()
    table = table[table.time_period == pack.year]
    row = header
    for record in table.itertuples(index=False):
        spec = pack.measures[record.measure]
        row += 1
        sheet.cell(row, 1, spec.label)
        sources = []
        for offset, role in ((2, "region"), (5, "england")):
            _put(sheet.cell(row, offset), spec, getattr(record, f"{role}_value"))
            _put(sheet.cell(row, offset + 1), spec, getattr(record, f"{role}_recomputed_value"))
            _put(sheet.cell(row, offset + 2), spec, getattr(record, f"{role}_difference"), change=True)
            flag = getattr(record, f"{role}_flag")
            sources.append(
                f"{pack.role_name(role)}: {source_text(getattr(record, f'{role}_value_source'))}"
                + (f" (DfE: {flag})" if flag else "")
            )
        sheet.cell(row, 8, "; ".join(sources)).alignment = WRAP
        sheet.row_dimensions[row].height = LINE_HEIGHT * _lines("; ".join(sources), widths[-1] * PROSE_CHARS) + 2
        for column in range(1, len(widths) + 1):
            sheet.cell(row, column).border = RULE
    _name(workbook, "comparators", sheet, header, row, len(widths))
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, pack, f"{header}:{header}", one_page=True)


def _neighbours(workbook: Workbook, sheet: Worksheet, pack: Pack) -> None:
    measures = pack.trend_measures
    widths = [5, 44] + [12, 7] * len(measures)
    text_width = _widths(sheet, widths)
    top = _title(sheet, pack, f"Statistical neighbours of {pack.unit.name}, {pack.year}", len(widths), text_width)
    _wrapped(
        sheet,
        top,
        f"The councils DfE's {pack.sn_model} model lists as most similar to {pack.unit.name}, most similar first, "
        "each counted once. A flag beside a value (u, x, small base) leaves it out of the mean and median.",
        len(widths),
        text_width,
    )
    sheet.cell(top, 1).font = META
    header = top + 1
    labels = ["#", "Statistical neighbour"]
    for measure in measures:
        labels += [pack.measures[measure].label, "Flag"]
    _header(sheet, header, labels)
    row = header
    for record in pack.neighbour_grid().to_dict("records"):
        row += 1
        sheet.cell(row, 1, int(record["neighbour_rank"])).alignment = CENTRE
        name = record["neighbour_name"] + (f" (figures of {record['standing_for']})" if record["standing_for"] else "")
        sheet.cell(row, 2, name).alignment = Alignment(wrap_text=True)  # bottom, level with the figures
        for position, measure in enumerate(measures):
            column = 3 + 2 * position
            _put(sheet.cell(row, column), pack.measures[measure], record.get(f"value_{measure}"))
            _flag(sheet.cell(row, column + 1), record.get(f"flag_{measure}", ""))
        for column in range(1, len(labels) + 1):
            sheet.cell(row, column).border = RULE
    comparison = pack.comparison()
    comparison = comparison[comparison.time_period == pack.year].set_index("measure")
    for label, field in (("Mean of the neighbours in the mean (LAIT)", "sn_mean_value"), (pack.unit.name, "value")):
        row += 1
        sheet.cell(row, 2, label).font = BOLD
        for position, measure in enumerate(measures):
            column = 3 + 2 * position
            record = comparison.loc[measure]
            _put(
                sheet.cell(row, column),
                pack.measures[measure],
                record[field],
                record.symbol if field == "value" else "",
            )
            if field == "value":
                _flag(sheet.cell(row, column + 1), record.flag)
        for column in range(1, len(labels) + 1):
            sheet.cell(row, column).fill = OWN_FILL
    _name(workbook, "neighbours", sheet, header, row, len(labels))
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, pack, f"{header}:{header}", one_page=True)


def _ranking(workbook: Workbook, sheet: Worksheet, pack: Pack) -> None:
    """Every council ranked on each headline measure, side by side, this council highlighted."""
    measures = pack.ranked_trend_measures
    block = [5, 27, 7, 1]  # rank, council, value, gap: narrow, as five blocks share the page's width
    widths = block * len(measures)
    text_width = _widths(sheet, widths)
    top = _title(sheet, pack, f"Every council ranked, {pack.year}", len(widths), text_width)
    notes = [f"All councils with a ranked value, best first, as DfE's LAIT shows them; {pack.unit.name} highlighted."]
    own = pack.figures[(pack.figures.role == "council") & (pack.figures.time_period == pack.year)].set_index("measure")
    notes += [
        f"{pack.measures[m].label}: {pack.unit.name} is {own.at[m, 'not_ranked_reason'] or 'not ranked'}."
        for m in measures
        if is_missing(own.at[m, "rank"])
    ]
    for line in notes:
        _wrapped(sheet, top, line, len(widths), text_width)
        sheet.cell(top, 1).font = META
        top += 1
    header = top
    lines: dict[int, int] = {}  # row -> lines its longest council name wraps to
    for position, measure in enumerate(measures):
        first = 1 + len(block) * position
        spec = pack.measures[measure]
        _header(sheet, header, ["Rank", spec.label, "Value"], first_col=first)
        table = pack.ranking_of(measure)
        for offset, record in enumerate(table.itertuples(index=False), start=1):
            row = header + offset
            sheet.cell(row, first, int(record.rank)).alignment = CENTRE
            # A long name (two councils' joint return) wraps rather than running under the value.
            sheet.cell(row, first + 1, record.la_name).alignment = Alignment(indent=1, wrap_text=True)
            lines[row] = max(lines.get(row, 1), _lines(record.la_name, (block[1] - 1) * PROSE_CHARS))
            _put(sheet.cell(row, first + 2), spec, record.value)
            for column in range(first, first + 3):
                cell = sheet.cell(row, column)
                cell.border = RULE
                if record.is_this_council:
                    cell.fill = OWN_FILL
                    cell.font = BOLD
        _name(workbook, f"ranking_{measure}", sheet, header, header + len(table), first + 2, first_col=first)
    for row, count in lines.items():
        if count > 1:
            sheet.row_dimensions[row].height = LINE_HEIGHT * count
    sheet.freeze_panes = sheet.cell(header + 1, 1)
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, pack, f"{header}:{header}")


def _charts(workbook: Workbook, charts: Worksheet, data: Worksheet, pack: Pack) -> None:
    widths = [9] * 20
    top = _title(
        charts,
        pack,
        f"Trends, {year_span(list(pack.trend_years))}: {pack.unit.name} against its comparators",
        len(widths),
        _widths(charts, widths),
    )
    charts.cell(top, 1).value = (
        "Gaps are figures that are missing or withheld (the Chart data sheet says which). Rates are percentages; "
        "caseload is cases per FTE case holder."
    )
    charts.cell(top, 1).font = META
    data_widths = [8, 34, 24, 22, 12, 40]
    data_top = _title(data, pack, "Figures behind the charts", len(data_widths), _widths(data, data_widths))
    data.cell(data_top, 1, "Blank: missing or withheld; the last column says which.").font = META
    names = [series_label(pack, role) for role in ROLES]
    row = data_top + 2
    tables = []
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
                # Indented, so it does not run into England's figure beside it.
                data.cell(
                    row_cells, 6, "; ".join(f"{pack.role_name(r.role)}: {r.symbol}" for r in missing.itertuples())
                ).alignment = Alignment(horizontal="left", wrap_text=True, vertical="top", indent=1)
        last = header + len(pack.trend_years)
        tables.append((row, last))
        _name(workbook, f"trend_{measure}", data, header, last, 6)
        charts.add_chart(_line_chart(data, spec, header, last), _anchor(position, top + 1))
        row = last + 2
    charts.sheet_view.showGridLines = False
    _print_setup(charts, pack, one_page=True)
    _print_setup(data, pack)
    _keep_whole(data, tables)


def _keep_whole(sheet: Worksheet, tables: list[tuple[int, int]]) -> None:
    """Page breaks so that no table (first row, last row) splits across printed pages, for a sheet
    that prints at full scale (its columns fit the page's width)."""
    ends = dict(tables)
    used = 0.0
    for row in range(1, sheet.max_row + 1):
        if row in ends:
            height = sum(_row_height(sheet, r) for r in range(row, ends[row] + 1))
            if used and used + height > PRINTABLE_HEIGHT:
                sheet.row_breaks.append(Break(id=row - 1))
                used = 0.0
        used += _row_height(sheet, row)


def _row_height(sheet: Worksheet, row: int) -> float:
    return sheet.row_dimensions[row].height or LINE_HEIGHT


def _anchor(position: int, top: int) -> str:
    # Two charts a row; each is about 9 columns wide and 20 rows tall at the default sizes.
    column = "A" if position % 2 == 0 else "K"
    return f"{column}{top + (position // 2) * 21}"


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


def _returns(sheet: Worksheet, pack: Pack) -> None:
    """Which return each year's figures come from and why; file hashes as text (they are identifiers)."""
    widths = [16, 56, 68, 17, 68]  # a sha256 in a monospaced font that may be wider than Consolas
    text_width = _widths(sheet, widths)
    top = _title(sheet, pack, "Returns used", len(widths), text_width)
    header = top
    _header(
        sheet, header, ["Year", "Figures from", "Return file (sha256)", "Loaded (UTC)", "Quarantined file (sha256)"]
    )
    row = header
    for year, source in sorted(pack.year_sources.items(), reverse=True):
        row += 1
        sheet.cell(row, 1, pack.year_label(year)).alignment = WRAP
        sheet.cell(row, 2, source.return_note).alignment = WRAP
        for column, sha in ((3, source.return_file_sha256), (5, source.quarantined_file_sha256)):
            cell = sheet.cell(row, column, sha or None)
            cell.font = MONO
            cell.alignment = Alignment(vertical="top")
        loaded = f"{source.return_loaded_at:%Y-%m-%d %H:%M}" if source.return_loaded_at else None
        sheet.cell(row, 4, loaded).alignment = Alignment(horizontal="left", vertical="top", wrap_text=True, indent=1)
        lines = _lines(source.return_note, widths[1] * PROSE_CHARS)
        sheet.row_dimensions[row].height = LINE_HEIGHT * lines + 2
        for column in range(1, len(widths) + 1):
            sheet.cell(row, column).border = RULE
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, pack, f"{header}:{header}")


def _notes(sheet: Worksheet, pack: Pack) -> None:
    widths = [22, 30, 110]
    text_width = _widths(sheet, widths)
    top = _title(sheet, pack, "Notes", len(widths), text_width)
    header = top
    _header(sheet, header, ["Section", "Term", "Note"])
    row = header
    for note in pack.notes:
        if note.section == RETURNS:
            continue  # the Returns sheet
        row += 1
        sheet.cell(row, 1, note.section).alignment = WRAP
        sheet.cell(row, 2, note.term or None).alignment = WRAP
        sheet.cell(row, 3, note.text).alignment = WRAP
        if note.section == FLAGS:
            for column in range(1, 4):
                sheet.cell(row, column).fill = FLAG_FILL
        lines = max(
            _lines(note.text, widths[2] * PROSE_CHARS),
            _lines(note.term, widths[1] * PROSE_CHARS),
            _lines(note.section, widths[0] * PROSE_CHARS),
        )
        sheet.row_dimensions[row].height = LINE_HEIGHT * lines + 2
    sheet.freeze_panes = sheet.cell(header + 1, 1)
    _print_setup(sheet, pack, f"{header}:{header}")
