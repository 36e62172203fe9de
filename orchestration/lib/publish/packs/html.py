"""The pack as one self-contained HTML page: inline CSS and SVG, no scripts, fonts or network.

Every figure cell carries data-year, data-role, data-measure and data-field attributes (and
data-area for a listed neighbour or a ranked council), so the page can be checked (and scraped)
figure by figure. It prints on A4 landscape: sections start on a new page where a table would
otherwise split, wide tables shrink to the page, and synthetic data says so on every printed page.
"""

from __future__ import annotations

import html
from pathlib import Path

from orchestration.lib.publish.packs import charts
from orchestration.lib.publish.packs.format import BAND_FILLS, change_text, is_missing, value_text
from orchestration.lib.publish.packs.lookup import year_span
from orchestration.lib.publish.packs.model import ROLES, SYMBOLS, SYNTHETIC_BANNER, SYNTHETIC_PAGE_MARK, Pack
from orchestration.lib.publish.packs.notes import FLAGS, RETURNS, ofsted_lines, source_text, symbol_key

CSS = """
@page { size: A4 landscape; margin: 11mm 11mm 14mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 9px Arial, sans-serif; color: #555; } }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, "Liberation Sans", sans-serif; color: #1b1b1b; margin: 0 auto;
  max-width: 1240px; padding: 24px; font-size: 14px; line-height: 1.4; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 2px solid #0b3c5d; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.subtitle { font-size: 16px; color: #333; margin: 0 0 6px; }
.meta { color: #555; font-size: 12.5px; margin: 0; }
.synthetic { background: #7a1f1f; color: #fff; font-weight: bold; padding: 8px 14px; margin: 0 0 12px;
  letter-spacing: 0.02em; }
.flags { background: #fff4d6; border-left: 5px solid #e0a800; padding: 8px 14px; margin: 16px 0; }
.flags ul { margin: 4px 0; padding-left: 18px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; }
.facts dt { font-weight: bold; }
.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #d0d0d0; padding: 5px 7px; vertical-align: top; }
thead th { background: #0b3c5d; color: #fff; text-align: right; font-weight: bold; vertical-align: bottom; }
thead th.text, td.text, th.text { text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.symbol { color: #666; font-style: italic; }
td.flag { color: #7a1f1f; font-weight: bold; text-align: center; white-space: nowrap; }
td.why { color: #444; font-size: 12px; }
tr.year-previous td { color: #444; background: #f7f7f7; }
tr.year-current td { border-top: 1px solid #9a9a9a; }
tr.this-council td { background: #dcebf5; font-weight: bold; }
td.measure { font-weight: bold; }
td.band { text-align: center; font-weight: bold; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 18px 28px; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 12px; color: #444; }
details { font-size: 12px; margin-top: 2px; }
details table { font-size: 12px; }
.key { font-size: 12px; color: #444; margin: 6px 0 0; }
.notes h3 { margin-top: 14px; }
.notes ul { margin: 4px 0; padding-left: 18px; }
.notes li { margin-bottom: 3px; }
.sha { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 11px; word-break: break-all; }
footer { margin-top: 28px; font-size: 12px; color: #555; border-top: 1px solid #ccc; padding-top: 6px; }
@media print {
  body { padding: 0; max-width: none; font-size: 10.5px; }
  table { font-size: 9.5px; line-height: 1.3; }
  th, td { padding: 2px 4px; }
  h1 { font-size: 20px; }
  h2 { font-size: 15px; margin-top: 14px; break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  td.why, .key, figcaption { font-size: 9.5px; }
  .sha { font-size: 8.5px; }
  ul.key { break-before: avoid; page-break-before: avoid; }
  .notes li { margin-bottom: 1px; }
  footer { margin-top: 10px; break-before: avoid; page-break-before: avoid; }
  .synthetic { padding: 5px 10px; }
  .charts { grid-template-columns: 1fr 1fr 1fr; gap: 8px 16px; }
  details { display: none; }
  section.neighbours, section.ranking, section.trends, section.notes { break-before: page;
    page-break-before: always; }
  section.counts table, section.comparators table, section.returns table { break-inside: avoid;
    page-break-inside: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
}
"""

# Printed at the foot of every page of a pack built from synthetic returns.
SYNTHETIC_PAGE_CSS = f"""
@page {{ @bottom-left {{ content: "{SYNTHETIC_PAGE_MARK}"; font: bold 9px Arial, sans-serif; color: #7a1f1f; }} }}
"""

# Specific enough to colour the previous year's band over its grey row as well.
BAND_CSS = "\n".join(f"tr td.band-{band} {{ background: #{fill}; }}" for band, fill in BAND_FILLS.items())


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cell(*, year: int, role: str, measure: str, field: str, text: str, classes: str = "num", area: str = "") -> str:
    missing = text in SYMBOLS
    css = f"{classes} symbol" if missing else classes
    where = f' data-area="{_e(area)}"' if area else ""
    return (
        f'<td class="{css}" data-year="{year}" data-role="{role}" data-measure="{measure}"{where} '
        f'data-field="{field}">{_e(text)}</td>'
    )


def write_html(pack: Pack, target: Path) -> Path:
    target.write_text(render(pack), encoding="utf-8")
    return target


def render(pack: Pack) -> str:
    title = f"{pack.unit.name}: children's social work workforce, {pack.year}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}{BAND_CSS}{SYNTHETIC_PAGE_CSS if pack.is_synthetic else ''}</style>",
        "</head>",
        "<body>",
        _synthetic(pack),
        _header(pack, title),
        _flags(pack),
        _ofsted(pack),
        _comparison(pack),
        _comparators(pack),
        _counts(pack),
        _neighbours(pack),
        _ranking(pack),
        _trends(pack),
        _returns(pack),
        _notes(pack),
        "<footer>Contains public sector information licensed under the Open Government Licence v3.0. "
        "Aggregate figures only; no worker-level data.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def _synthetic(pack: Pack) -> str:
    """A banner at the top (and, in print, SYNTHETIC_PAGE_CSS at the foot of every page)."""
    return f'<p class="synthetic">{_e(SYNTHETIC_BANNER)}</p>' if pack.is_synthetic else ""


def _header(pack: Pack, title: str) -> str:
    published = f" · published figures version {_e(pack.published_version)}" if pack.published_version else ""
    return (
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="subtitle">How {_e(pack.unit.name)} compares with its statistical neighbours, the '
        f"{_e(pack.region_name)} region and England at 30 September {pack.year}</p>"
        f'<p class="meta">DfE LA code {_e(pack.unit.code)} · {_e(pack.region_name)}{published}</p></header>'
    )


def _flags(pack: Pack) -> str:
    flags = [note.text for note in pack.notes if note.section == FLAGS and note.text != SYNTHETIC_BANNER]
    if not flags:
        return ""
    items = "".join(f"<li>{_e(text)}</li>" for text in flags)
    return f'<section class="flags"><strong>Read with these notes</strong><ul>{items}</ul></section>'


def _ofsted(pack: Pack) -> str:
    rows = "".join(f"<dt>{_e(label)}</dt><dd>{_e(text)}</dd>" for label, text in ofsted_lines(pack))
    return f'<section class="ofsted"><h2>Ofsted</h2><dl class="facts">{rows}</dl></section>'


def _band_text(spec: object, band: str, symbol: str, not_ranked: bool) -> str:
    """The band; the symbol of a withheld value; 'not ranked' for a shown value without a rank."""
    if band:
        return band
    if symbol:
        return symbol
    return "not ranked" if not_ranked else ""


def _comparison(pack: Pack) -> str:
    table = pack.comparison()
    region = _e(pack.region_name)
    head = (
        "<thead><tr>"
        '<th class="text">Measure</th><th>Year</th>'
        f"<th>{_e(pack.unit.name)}</th><th>Flag</th><th>Change on previous year</th>"
        "<th>Statistical neighbours (pooled)</th><th>Neighbours: mean (LAIT)</th>"
        "<th>Neighbours: median (dashboard)</th><th>Neighbours in mean</th>"
        f"<th>{region}</th><th>England</th><th>Rank (1 = best)</th><th>Quartile band (A = best)</th>"
        "</tr></thead>"
    )
    body = []
    for measure in pack.benchmark_measures:
        rows = table[table.measure == measure]
        spec = pack.measures[measure]
        for position, row in enumerate(rows.itertuples(index=False)):
            year = row.time_period
            cells = []
            if position == 0:
                cells.append(f'<td class="text measure" rowspan="{len(rows)}">{_e(spec.label)}</td>')
            cells.append(f'<td class="num">{_e(pack.year_label(year))}</td>')
            cells.append(
                _cell(
                    year=year,
                    role="council",
                    measure=measure,
                    field="value",
                    text=value_text(spec, row.value, row.symbol),
                )
            )
            cells.append(_cell(year=year, role="council", measure=measure, field="flag", text=row.flag, classes="flag"))
            figures = [
                ("council", "change_from_previous_year", change_text(spec, row.change_from_previous_year)),
                ("statistical_neighbours", "value", value_text(spec, row.statistical_neighbours_value)),
                ("statistical_neighbours", "sn_mean_value", value_text(spec, row.sn_mean_value)),
                ("statistical_neighbours", "sn_median_value", value_text(spec, row.sn_median_value)),
                ("statistical_neighbours", "sn_neighbour_count", str(row.sn_neighbour_count)),
                ("region", "value", value_text(spec, row.region_value)),
                ("england", "value", value_text(spec, row.england_value)),
            ]
            cells += [_cell(year=year, role=r, measure=measure, field=f, text=t) for r, f, t in figures]
            cells.append(_rank_cell(row, measure))
            band = row.quartile_band
            band_text = _band_text(spec, band, row.symbol, bool(row.not_ranked_reason))
            cells.append(
                _cell(
                    year=year,
                    role="council",
                    measure=measure,
                    field="quartile_band",
                    text=band_text,
                    classes=f"band band-{band}" if band else "band symbol",
                )
            )
            current = "year-current" if year == pack.year else "year-previous"
            body.append(f'<tr class="{current}">{"".join(cells)}</tr>')
    key = symbol_key(pack)
    why = _not_ranked_lines(pack)
    return (
        f'<section class="comparison"><h2>How {_e(pack.unit.name)} compares</h2>'
        f"<table>{head}<tbody>{''.join(body)}</tbody></table>"
        + (f'<p class="key">{_e(key)}</p>' if key else "")
        + (f'<ul class="key">{why}</ul>' if why else "")
        + "</section>"
    )


def _not_ranked_lines(pack: Pack) -> str:
    """Why each shown value of the pack's year has no rank, where it is not a neutral measure's."""
    table = pack.comparison()
    table = table[(table.time_period == pack.year) & (table.not_ranked_reason != "") & (table.symbol == "")]
    lines = [
        f"<li>{_e(pack.measures[row.measure].label)}: {_e(row.not_ranked_reason)}.</li>"
        for row in table.itertuples(index=False)
        if pack.measures[row.measure].polarity != "neutral"
    ]
    return "".join(lines)


def _rank_cell(row: object, measure: str) -> str:
    year = row.time_period
    attributes = f'data-year="{year}" data-role="council" data-measure="{measure}"'
    if is_missing(row.rank):
        # Unranked (a neutral measure, a flagged value) or withheld: the band column says which.
        return '<td class="num"></td>'
    return (
        f'<td class="num"><span {attributes} data-field="rank">{row.rank}</span> of '
        f'<span {attributes} data-field="ranked_units">{row.ranked_units}</span></td>'
    )


def _comparators(pack: Pack) -> str:
    """Region and England for the pack's year: the figure shown, the recomputed one, the difference, whose."""
    table = pack.comparison()
    table = table[table.time_period == pack.year]
    head = (
        '<thead><tr><th class="text">Measure</th>'
        f"<th>{_e(pack.region_name)}</th><th>Recomputed</th><th>Difference</th>"
        '<th>England</th><th>Recomputed</th><th>Difference</th><th class="text">Figures shown</th></tr></thead>'
    )
    body = []
    for row in table.itertuples(index=False):
        spec = pack.measures[row.measure]
        cells = [f'<td class="text">{_e(spec.label)}</td>']
        sources = []
        for role in ("region", "england"):
            cells += [
                _cell(
                    year=pack.year,
                    role=role,
                    measure=row.measure,
                    field="value",
                    text=value_text(spec, getattr(row, f"{role}_value")),
                ),
                _cell(
                    year=pack.year,
                    role=role,
                    measure=row.measure,
                    field="recomputed_value",
                    text=value_text(spec, getattr(row, f"{role}_recomputed_value")),
                ),
                _cell(
                    year=pack.year,
                    role=role,
                    measure=row.measure,
                    field="difference",
                    text=change_text(spec, getattr(row, f"{role}_difference")),
                ),
            ]
            source = getattr(row, f"{role}_value_source")
            flag = getattr(row, f"{role}_flag")
            sources.append(f"{pack.role_name(role)}: {source_text(source)}" + (f" (DfE: {flag})" if flag else ""))
        cells.append(f'<td class="why">{_e("; ".join(sources))}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<section class="comparators"><h2>Region and England, {pack.year}: DfE\'s figures and the recomputed '
        "ones</h2><p>The comparators above are DfE's own published figures wherever DfE published them. Beside "
        "them: the figure recomputed here from the councils' figures, and the difference (recomputed minus "
        f"shown).</p><table>{head}<tbody>{''.join(body)}</tbody></table></section>"
    )


def _counts(pack: Pack) -> str:
    counts = pack.counts()
    years = pack.comparison_years
    head = '<th class="text">Count</th>' + "".join(
        f"<th>{_e(pack.year_label(year))}</th><th>Flag</th>" for year in years
    )
    rows = []
    for row in counts.to_dict("records"):
        spec = pack.measures[row["measure"]]
        cells = "".join(
            _cell(
                year=year,
                role="council",
                measure=spec.name,
                field="value",
                text=value_text(spec, row.get(f"value_{year}"), row.get(f"symbol_{year}", "")),
            )
            + _cell(
                year=year,
                role="council",
                measure=spec.name,
                field="flag",
                text=row.get(f"flag_{year}", ""),
                classes="flag",
            )
            for year in years
        )
        rows.append(f'<tr><td class="text">{_e(spec.label)}</td>{cells}</tr>')
    return (
        f'<section class="counts"><h2>Key counts for {_e(pack.unit.name)}</h2>'
        f'<table style="width:auto; min-width:50%"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></section>"
    )


def _neighbours(pack: Pack) -> str:
    """Each listed neighbour's value of every trend measure, as DfE's LAIT lists them."""
    grid = pack.neighbour_grid()
    if grid.empty:
        return ""
    measures = pack.trend_measures
    head = '<th class="text">#</th><th class="text">Statistical neighbour</th>' + "".join(
        f"<th>{_e(pack.measures[m].label)}</th>" for m in measures
    )
    body = []
    for row in grid.to_dict("records"):
        code = row["neighbour_old_la_code"]
        name = row["neighbour_name"] + (f" (figures of {row['standing_for']})" if row["standing_for"] else "")
        cells = [f'<td class="text">{row["neighbour_rank"]}</td>', f'<td class="text">{_e(name)}</td>']
        for measure in measures:
            spec = pack.measures[measure]
            text = value_text(spec, row.get(f"value_{measure}"))
            flag = row.get(f"flag_{measure}", "")
            cells.append(
                _cell(
                    year=pack.year,
                    role="neighbour",
                    measure=measure,
                    field="value",
                    text=f"{text} {flag}".strip() if flag else text,
                    area=code,
                )
            )
        body.append(f"<tr>{''.join(cells)}</tr>")
    means = []
    for measure in measures:
        spec = pack.measures[measure]
        record = pack.comparison()
        record = record[(record.measure == measure) & (record.time_period == pack.year)]
        means.append(value_text(spec, record.iloc[0].sn_mean_value if len(record) else None))
    mean_row = (
        '<tr class="this-council"><td></td><td class="text">Mean of the neighbours in the mean (LAIT)</td>'
        + "".join(
            _cell(year=pack.year, role="statistical_neighbours", measure=m, field="sn_mean_value", text=text)
            for m, text in zip(measures, means, strict=True)
        )
        + "</tr>"
    )
    own = pack.figures[(pack.figures.role == "council") & (pack.figures.time_period == pack.year)].set_index("measure")
    own_row = (
        f'<tr class="this-council"><td></td><td class="text">{_e(pack.unit.name)}</td>'
        + "".join(
            _cell(
                year=pack.year,
                role="council",
                measure=m,
                field="value",
                text=value_text(pack.measures[m], own.at[m, "value"], own.at[m, "symbol"]),
            )
            for m in measures
        )
        + "</tr>"
    )
    return (
        f'<section class="neighbours"><h2>Statistical neighbours, {pack.year}</h2>'
        f"<p>The {len(grid)} councils DfE's {pack.sn_model} model lists as most similar to {_e(pack.unit.name)}, "
        "most similar first, each counted once. A flag beside a value (u, x, small base) leaves it out of the mean "
        "and median.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}{mean_row}{own_row}</tbody></table></section>"
    )


def _ranking(pack: Pack) -> str:
    """Every council ranked on each headline measure, this council highlighted."""
    measures = pack.ranked_trend_measures
    if pack.ranking.empty:
        return ""
    figures = []
    for measure in measures:
        spec = pack.measures[measure]
        table = pack.ranking_of(measure)
        rows = "".join(
            ('<tr class="this-council">' if row.is_this_council else "<tr>")
            + _cell(
                year=pack.year, role="ranking", measure=measure, field="rank", text=str(row.rank), area=row.old_la_code
            )
            + f'<td class="text">{_e(row.la_name)}</td>'
            + _cell(
                year=pack.year,
                role="ranking",
                measure=measure,
                field="value",
                text=value_text(spec, row.value),
                area=row.old_la_code,
            )
            + "</tr>"
            for row in table.itertuples(index=False)
        )
        own = pack.figures[
            (pack.figures.role == "council")
            & (pack.figures.time_period == pack.year)
            & (pack.figures.measure == measure)
        ]
        caption = ""
        if len(own) and is_missing(own.iloc[0]["rank"]):
            reason = own.iloc[0].not_ranked_reason or "not ranked"
            caption = f"<figcaption>{_e(pack.unit.name)} is {_e(reason)}.</figcaption>"
        figures.append(
            f"<figure>{charts.ranking_svg(pack, measure)}{caption}"
            f"<details><summary>Every council's rank</summary><table>"
            '<thead><tr><th>Rank</th><th class="text">Council</th><th>Value</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></details></figure>"
        )
    return (
        f'<section class="ranking"><h2>Every council ranked, {pack.year}</h2>'
        f"<p>All councils with a ranked value, best first, as DfE's LAIT shows them; {_e(pack.unit.name)} in "
        "blue.</p>"
        f'<div class="charts ranking">{"".join(figures)}</div></section>'
    )


def _trends(pack: Pack) -> str:
    figures = []
    for measure in pack.trend_measures:
        spec = pack.measures[measure]
        table = pack.trend(measure)
        symbols = pack.figures[(pack.figures.measure == measure) & pack.figures.time_period.isin(pack.trend_years)]
        symbol_of = {(r.time_period, r.role): r.symbol for r in symbols.itertuples(index=False)}
        head = "".join(f"<th>{_e(charts.series_label(pack, role))}</th>" for role in ROLES)
        rows = []
        for year in pack.trend_years:
            cells = "".join(
                _cell(
                    year=year,
                    role=role,
                    measure=measure,
                    field="value",
                    text=value_text(spec, table.at[year, role], symbol_of.get((year, role), "")),
                )
                for role in ROLES
            )
            rows.append(f'<tr><td class="num">{year}</td>{cells}</tr>')
        figures.append(
            f"<figure>{charts.trend_svg(pack, measure)}"
            f"<details><summary>Figures behind the chart</summary><table>"
            f'<thead><tr><th class="text">Year</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table></details></figure>"
        )
    borrowed = sorted(y for y, s in pack.year_sources.items() if s.area_code != pack.unit.code)
    caption = ""
    if borrowed:
        caption = (
            f"<p>Open markers: figures of {_e(pack.year_sources[borrowed[0]].area_name)}, the council "
            f"{_e(pack.unit.name)} replaced, for {year_span(borrowed)}.</p>"
        )
    years = year_span(list(pack.trend_years))
    return (
        f'<section class="trends"><h2>Trends, {years}</h2>{caption}'
        "<p>Gaps are figures that are missing or withheld (see the notes).</p>"
        f'<div class="charts">{"".join(figures)}</div></section>'
    )


def _returns(pack: Pack) -> str:
    """Which return each year's figures come from, and why."""
    rows = []
    for year, source in sorted(pack.year_sources.items(), reverse=True):
        loaded = f"{source.return_loaded_at:%Y-%m-%d}" if source.return_loaded_at else ""
        rows.append(
            f'<tr><td class="num">{_e(pack.year_label(year))}</td><td class="text">{_e(source.return_note)}</td>'
            f'<td class="sha">{_e(source.return_file_sha256 or "")}</td><td class="num">{_e(loaded)}</td>'
            f'<td class="sha">{_e(source.quarantined_file_sha256 or "")}</td></tr>'
        )
    return (
        '<section class="returns"><h2>Returns used</h2>'
        '<table><thead><tr><th>Year</th><th class="text">Figures from</th><th class="text">Return file (sha256)</th>'
        '<th>Loaded</th><th class="text">Quarantined file (sha256)</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _notes(pack: Pack) -> str:
    sections: dict[str, list[str]] = {}
    for note in pack.notes:
        if note.section not in (FLAGS, RETURNS):
            term = f"<strong>{_e(note.term)}</strong>: " if note.term else ""
            sections.setdefault(note.section, []).append(term + _e(note.text))
    blocks = "".join(
        f"<h3>{_e(section)}</h3><ul>{''.join(f'<li>{text}</li>' for text in texts)}</ul>"
        for section, texts in sections.items()
    )
    return f'<section class="notes"><h2>Notes</h2>{blocks}</section>'
