"""The validation report as one self-contained HTML page, in the look of the GOV.UK Design System.

What a council data officer opens: the verdict, an error summary linking to each rule's issues (the
GOV.UK error-summary pattern), counts by rule, then each rule's issues in an accessible table.
GOV.UK's colours and components are copied as CSS here; the system font stands in for GDS
Transport, and nothing is fetched (no web fonts, scripts or CDN). It prints on A4 landscape.
"""

from __future__ import annotations

import html
from itertools import groupby

from orchestration.lib.sources.csww.issues import Issue
from orchestration.lib.sources.csww.report import RuleCount, ValidationReport
from orchestration.lib.sources.csww.rules import ERROR, QUERY

CSS = """
@page { size: A4 landscape; margin: 12mm; }
* { box-sizing: border-box; }
html { background: #f3f2f1; }
body { margin: 0; color: #0b0c0c; background: #fff; font-size: 16px; line-height: 1.4;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  -webkit-font-smoothing: antialiased; }
a { color: #1d70b8; text-decoration: underline; text-underline-offset: 0.1em; }
a:visited { color: #4c2c92; }
a:hover { color: #003078; text-decoration-thickness: 3px; }
a:focus { outline: 3px solid transparent; color: #0b0c0c; background: #ffdd00;
  box-shadow: 0 -2px #ffdd00, 0 4px #0b0c0c; text-decoration: none; }
.app-header { background: #0b0c0c; color: #fff; border-bottom: 10px solid #1d70b8; }
.app-header__inner, .app-width { max-width: 1180px; margin: 0 auto; padding: 0 30px; }
.app-header__inner { padding-top: 12px; padding-bottom: 10px; font-weight: 700; font-size: 19px; }
.app-header__inner span { font-weight: 400; font-size: 16px; margin-left: 12px; color: #f3f2f1; }
main { padding: 30px 0 40px; }
.govuk-caption-l { display: block; color: #505a5f; font-size: 19px; margin-bottom: 5px; }
h1 { font-size: 36px; line-height: 1.1; margin: 0 0 30px; font-weight: 700; overflow-wrap: anywhere; }
h2 { font-size: 27px; line-height: 1.15; margin: 40px 0 20px; font-weight: 700; }
h3 { font-size: 21px; line-height: 1.2; margin: 30px 0 10px; font-weight: 700; }
p { margin: 0 0 15px; }
.govuk-body-s { font-size: 14px; }
.govuk-hint { color: #505a5f; }
.govuk-summary-list { display: table; width: 100%; margin: 0 0 30px; border-collapse: collapse; }
.govuk-summary-list__row { display: table-row; border-bottom: 1px solid #b1b4b6; }
.govuk-summary-list__key, .govuk-summary-list__value { display: table-cell; padding: 10px 20px 10px 0;
  margin: 0; vertical-align: top; }
.govuk-summary-list__key { font-weight: 700; width: 30%; }
.govuk-error-summary { color: #0b0c0c; padding: 20px; margin-bottom: 40px; border: 5px solid #d4351c; }
.govuk-error-summary__title { margin: 0 0 15px; font-size: 24px; }
.govuk-error-summary__list { margin: 0; padding: 0; list-style: none; }
.govuk-error-summary__list li { margin-bottom: 5px; }
.govuk-error-summary__list a { color: #d4351c; font-weight: 700; }
.govuk-error-summary__list a:focus { color: #0b0c0c; }
.govuk-notification-banner { border: 5px solid #1d70b8; background: #1d70b8; margin-bottom: 40px; }
.govuk-notification-banner__header { padding: 2px 15px 5px; color: #fff; font-weight: 700; font-size: 19px; }
.govuk-notification-banner__content { background: #fff; padding: 15px 20px; }
.govuk-notification-banner__heading { font-size: 24px; font-weight: 700; margin: 0 0 10px; }
.govuk-notification-banner--success { border-color: #00703c; background: #00703c; }
.govuk-inset-text { padding: 15px; margin: 0 0 30px; border-left: 10px solid #b1b4b6; }
.govuk-inset-text p:last-child { margin-bottom: 0; }
.govuk-tag { display: inline-block; padding: 2px 8px 3px; font-weight: 400; font-size: 16px;
  line-height: 1.25; border-radius: 0; white-space: nowrap; }
.govuk-tag--red { color: #2a0b06; background: #f4d7d2; }
.govuk-tag--yellow { color: #594d00; background: #fff7bf; }
.govuk-table { width: 100%; border-collapse: collapse; border-spacing: 0; margin-bottom: 30px; font-size: 16px; }
.govuk-table__caption { text-align: left; font-weight: 700; font-size: 19px; margin-bottom: 10px; }
.govuk-table__header, .govuk-table__cell { padding: 10px 20px 10px 0; border-bottom: 1px solid #b1b4b6;
  text-align: left; vertical-align: top; }
.govuk-table__header { font-weight: 700; white-space: nowrap; }
.govuk-table__header:last-child { white-space: normal; }
.govuk-table__header--numeric, .govuk-table__cell--numeric { text-align: right;
  font-variant-numeric: tabular-nums; }
.govuk-table__header:last-child, .govuk-table__cell:last-child { padding-right: 0; }
.app-issues .govuk-table__cell { font-size: 15px; }
.app-issues td.app-where { white-space: nowrap; }
.app-issues td.app-value { overflow-wrap: anywhere; max-width: 14em; }
.app-nowrap { white-space: nowrap; }
.govuk-visually-hidden { position: absolute !important; width: 1px !important; height: 1px !important;
  margin: 0 !important; padding: 0 !important; overflow: hidden !important; clip: rect(0 0 0 0) !important;
  clip-path: inset(50%) !important; border: 0 !important; white-space: nowrap !important; }
code, .app-code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.92em; }
.app-rule { border-top: 2px solid #1d70b8; }
.app-rule--query { border-top-color: #b1b4b6; }
footer { border-top: 1px solid #b1b4b6; padding: 20px 0 30px; color: #505a5f; font-size: 14px; }
@media print {
  html, body { background: #fff; font-size: 11px; }
  .app-header { border-bottom-width: 4px; }
  .app-header__inner, .app-width { max-width: none; padding: 0; }
  main { padding: 12px 0; }
  h1 { font-size: 22px; margin-bottom: 12px; }
  h2 { font-size: 17px; margin: 18px 0 8px; break-after: avoid; page-break-after: avoid; }
  h3 { font-size: 14px; margin: 14px 0 6px; break-after: avoid; page-break-after: avoid; }
  .govuk-caption-l, .app-header__inner, .app-header__inner span { font-size: 13px; }
  .govuk-table, .app-issues .govuk-table__cell, .govuk-tag, .govuk-body-s { font-size: 10.5px; }
  .govuk-table__caption { font-size: 12px; }
  .govuk-summary-list { margin-bottom: 14px; }
  .govuk-summary-list__key, .govuk-summary-list__value { padding: 3px 12px 3px 0; }
  .govuk-error-summary, .govuk-notification-banner { padding: 10px; margin-bottom: 16px; border-width: 3px; }
  .govuk-notification-banner__content { padding: 8px 10px; }
  .govuk-error-summary__title, .govuk-notification-banner__heading { font-size: 15px; margin-bottom: 8px; }
  .govuk-inset-text { padding: 6px 10px; margin-bottom: 14px; border-left-width: 5px; }
  .govuk-table__header, .govuk-table__cell { padding: 4px 10px 4px 0; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: #0b0c0c; text-decoration: none; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


SHORT_VALUE = 24
"""Values up to this long (dates, codes, numbers) are kept on one line."""


def _anchor(rule_id: str) -> str:
    return "rule-" + "".join(c if c.isalnum() or c == "-" else "-" for c in rule_id)


def _tag(severity: str) -> str:
    if severity == ERROR:
        return '<strong class="govuk-tag govuk-tag--red">Error</strong>'
    return '<strong class="govuk-tag govuk-tag--yellow">Query</strong>'


def _summary_list(report: ValidationReport) -> str:
    rows = [
        ("File", report.file),
        ("Council", report.council),
        ("Collection year", report.year or "unknown"),
        ("Worker records", f"{report.workers:,}"),
        ("Errors", f"{report.counts[ERROR]:,}"),
        ("Queries", f"{report.counts[QUERY]:,}"),
        ("Checked", report.checked_at.strftime("%-d %B %Y at %H:%M UTC")),
    ]
    items = "".join(
        f'<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{_e(key)}</dt>'
        f'<dd class="govuk-summary-list__value">{_e(value)}</dd></div>'
        for key, value in rows
    )
    return f'<dl class="govuk-summary-list">{items}</dl>'


def _verdict(report: ValidationReport, counts: list[RuleCount]) -> str:
    errors = [c for c in counts if c.severity == ERROR]
    if errors:
        links = "".join(
            f'<li><a href="#{_anchor(c.rule)}">{_e(_sentence(c.summary))} ({c.count:,})</a></li>' for c in errors
        )
        return (
            '<div class="govuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1">'
            '<h2 class="govuk-error-summary__title" id="error-summary-title">There is a problem</h2>'
            f'<div class="govuk-error-summary__body"><p>{_e(report.verdict)}</p>'
            f'<ul class="govuk-error-summary__list">{links}</ul></div></div>'
        )
    success = "" if report.counts[QUERY] else " govuk-notification-banner--success"
    title = "Queries to check" if report.counts[QUERY] else "Success"
    return (
        f'<div class="govuk-notification-banner{success}" role="region" aria-labelledby="banner-title">'
        f'<div class="govuk-notification-banner__header" id="banner-title">{title}</div>'
        '<div class="govuk-notification-banner__content">'
        f'<p class="govuk-notification-banner__heading">{_e(report.verdict)}</p></div></div>'
    )


def _notes(report: ValidationReport) -> str:
    if not report.notes:
        return ""
    paragraphs = "".join(f"<p>{_e(note)}</p>" for note in report.notes)
    return f'<div class="govuk-inset-text">{paragraphs}</div>'


def _counts_table(counts: list[RuleCount]) -> str:
    rows = "".join(
        '<tr class="govuk-table__row">'
        f'<td class="govuk-table__cell app-nowrap"><a href="#{_anchor(c.rule)}"><code>{_e(c.rule)}</code></a></td>'
        f'<td class="govuk-table__cell">{_tag(c.severity)}</td>'
        f'<td class="govuk-table__cell govuk-table__cell--numeric">{c.count:,}</td>'
        f'<td class="govuk-table__cell">{_e(_sentence(c.summary))}</td>'
        f'<td class="govuk-table__cell">{_e(c.fix)}</td></tr>'
        for c in counts
    )
    return (
        '<table class="govuk-table"><caption class="govuk-table__caption">Errors stop the return from loading; '
        "queries do not, but each needs checking.</caption>"
        '<thead><tr class="govuk-table__row">'
        '<th scope="col" class="govuk-table__header">Rule</th>'
        '<th scope="col" class="govuk-table__header">Severity</th>'
        '<th scope="col" class="govuk-table__header govuk-table__header--numeric">Issues</th>'
        '<th scope="col" class="govuk-table__header">What it means</th>'
        '<th scope="col" class="govuk-table__header">How to fix it</th></tr></thead>'
        f'<tbody class="govuk-table__body">{rows}</tbody></table>'
    )


def _issue_row(report: ValidationReport, issue: Issue) -> str:
    swe = f'<td class="govuk-table__cell app-code">{_e(report.swe_number(issue) or "")}</td>'
    value = "" if issue.value is None else f"<code>{_e(issue.value)}</code>"
    value_class = " app-nowrap" if issue.value is not None and len(issue.value) <= SHORT_VALUE else ""
    return (
        '<tr class="govuk-table__row">'
        f'<td class="govuk-table__cell govuk-table__cell--numeric">{_e(issue.line or "")}</td>'
        f'<td class="govuk-table__cell govuk-table__cell--numeric">{_e(issue.record or "")}</td>'
        f"{swe if report.swe_numbers else ''}"
        f'<td class="govuk-table__cell">{_e(issue.element or "")}</td>'
        f'<td class="govuk-table__cell app-value{value_class}">{value}</td>'
        f'<td class="govuk-table__cell">{_e(issue.message)}</td></tr>'
    )


def _rule_section(report: ValidationReport, count: RuleCount, issues: list[Issue]) -> str:
    swe_header = '<th scope="col" class="govuk-table__header">SWE number</th>' if report.swe_numbers else ""
    rows = "".join(_issue_row(report, issue) for issue in issues)
    shown = sum(1 for issue in issues if not issue.more)
    listed = f"{count.count:,}" if shown == count.count else f"{shown:,} of {count.count:,}"
    query = " app-rule--query" if count.severity == QUERY else ""
    return (
        f'<section class="app-rule{query}" aria-labelledby="{_anchor(count.rule)}">'
        f'<h3 id="{_anchor(count.rule)}">{_tag(count.severity)} {_e(_sentence(count.summary))}'
        "</h3>"
        f'<p class="govuk-body-s govuk-hint">Rule <code>{_e(count.rule)}</code>. {_e(count.fix)}</p>'
        '<table class="govuk-table app-issues">'
        f'<caption class="govuk-table__caption govuk-visually-hidden">{_e(_sentence(count.summary))}: '
        f"{listed} listed</caption>"
        '<thead><tr class="govuk-table__row">'
        '<th scope="col" class="govuk-table__header govuk-table__header--numeric">Line</th>'
        '<th scope="col" class="govuk-table__header govuk-table__header--numeric">Worker</th>'
        f"{swe_header}"
        '<th scope="col" class="govuk-table__header">Element</th>'
        '<th scope="col" class="govuk-table__header">Value</th>'
        '<th scope="col" class="govuk-table__header">What is wrong and what to do</th></tr></thead>'
        f'<tbody class="govuk-table__body">{rows}</tbody></table></section>'
    )


def _issues(report: ValidationReport, counts: list[RuleCount]) -> str:
    by_rule = {rule: list(issues) for rule, issues in groupby(sorted(report.ordered(), key=_rule_of), key=_rule_of)}
    parts = []
    for severity, heading in ((ERROR, "Errors"), (QUERY, "Queries")):
        sections = [_rule_section(report, c, by_rule.get(c.rule, [])) for c in counts if c.severity == severity]
        if sections:
            parts.append(f"<h2>{heading}</h2>" + "".join(sections))
    return "".join(parts)


def _rule_of(issue: Issue) -> str:
    return issue.rule


def render_html(report: ValidationReport) -> str:
    counts = report.by_rule()
    where_note = (
        "Workers are numbered in file order (worker 1 is the first CSWWWorker). This copy names workers by "
        "their SWE number: keep it within your council."
        if report.swe_numbers
        else "Workers are numbered in file order (worker 1 is the first CSWWWorker)."
    )
    body = [
        _summary_list(report),
        _verdict(report, counts),
        _notes(report),
    ]
    if counts:
        body += ["<h2>Issues by rule</h2>", _counts_table(counts), f"<p>{_e(where_note)}</p>", _issues(report, counts)]
    title = "Validation report"
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}: {_e(report.file)}</title><style>{CSS}</style></head><body>"
        '<header class="app-header"><div class="app-header__inner">CSWW return validation'
        "<span>Children's social work workforce census</span></div></header>"
        f'<main class="app-width" id="main-content"><span class="govuk-caption-l">{_e(report.file)}</span>'
        f"<h1>{title}</h1>{''.join(body)}</main>"
        '<footer><div class="app-width">Checked against the CSWW return rules of the children\'s social work '
        "workforce warehouse (docs/validation_rules.md lists every rule). Errors and queries are DfE's terms: "
        "an error stops a return from loading, a query asks you to check a value.</div></footer></body></html>\n"
    )
