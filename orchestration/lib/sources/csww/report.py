"""The validation report of one CSWW return, and the formats it is written in.

One report serves everyone who reads it: `workforce validate` prints or saves it for a council
before they send a return, the portal shows it for an upload, and the loader writes it beside a
quarantined return (or a loaded one with queries). Only the council's own copy names workers by
their SWE number (`swe_numbers`); a report the warehouse keeps never does.

Formats (FORMATS): `text` for a terminal, `json` for machines, `csv` one row per issue, `html` a
self-contained page, `xlsx` a workbook with a summary and a filterable issues sheet. The HTML and
XLSX renderers are in `report_html` and `report_xlsx`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.lib.private_files import private_dir, write_private_bytes
from orchestration.lib.sources import la_codes
from orchestration.lib.sources.csww.issues import Issue, issue_counts, severity_counts
from orchestration.lib.sources.csww.rules import ERROR, QUERY, catalogue

if TYPE_CHECKING:  # the parser pulls in lxml and pyarrow, which the CLI's --help should not pay for
    from orchestration.lib.sources.csww.parser import ParseOutcome

FORMATS: dict[str, str] = {
    "text": "report.txt",
    "json": "report.json",
    "csv": "issues.csv",
    "html": "report.html",
    "xlsx": "report.xlsx",
}
"""Every report format, with the file name it gets in a report folder."""
STORED_FORMATS = ("text", "csv", "html")
"""What the loader writes beside a quarantined (or queried) return."""


@dataclass(frozen=True)
class RuleCount:
    rule: str
    severity: str
    count: int
    summary: str
    fix: str


@dataclass
class ValidationReport:
    file: str
    old_la_code: str | None
    year: int | None
    workers: int
    issues: list[Issue]
    notes: list[str] = field(default_factory=list)
    swe_numbers: Mapping[int, str] = field(default_factory=dict)
    """Record → SWENo as written: the council's own copy only, never a report the warehouse keeps."""
    checked_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))

    @classmethod
    def from_outcome(
        cls,
        file: str,
        outcome: ParseOutcome,
        *,
        issues: Sequence[Issue] | None = None,
        old_la_code: str | None = None,
        year: int | None = None,
        swe_numbers: Mapping[int, str] | None = None,
    ) -> ValidationReport:
        """The report of a parse; `issues` replaces the parse's own (the loader adds table checks)."""
        header = outcome.header
        return cls(
            file=file,
            old_la_code=(header.old_la_code if header and header.old_la_code else None) or old_la_code,
            year=(header.year if header and header.year else None) or year,
            workers=outcome.workers,
            issues=list(outcome.issues if issues is None else issues),
            notes=list(outcome.notes),
            swe_numbers=dict(swe_numbers or {}),
        )

    @property
    def counts(self) -> dict[str, int]:
        return severity_counts(self.issues)

    @property
    def accepted(self) -> bool:
        """True when nothing stops the return from loading (queries may remain)."""
        return self.counts[ERROR] == 0

    @property
    def la_name(self) -> str | None:
        authority = la_codes.lookup(self.old_la_code) if self.old_la_code else None
        return authority.name if authority else None

    @property
    def council(self) -> str:
        if not self.old_la_code:
            return "unknown"
        return f"{self.old_la_code} {self.la_name}" if self.la_name else self.old_la_code

    @property
    def verdict(self) -> str:
        errors, queries = self.counts[ERROR], self.counts[QUERY]
        if errors:
            return (
                f"Not accepted: {_plural(errors, 'error')} and {_plural(queries, 'query', 'queries')}. The return "
                "cannot be loaded until the errors are fixed: fix them and send it again."
            )
        if queries:
            return (
                f"Accepted with {_plural(queries, 'query', 'queries')}: the return can be loaded. Check each query, "
                "and correct the return or confirm that it is right."
            )
        return "Accepted: no errors and no queries."

    def ordered(self) -> list[Issue]:
        """Errors, then queries; each in file order, issues without a line after those with one."""
        return sorted(self.issues, key=lambda i: (i.severity != ERROR, i.line is None, i.line or 0, i.record or 0))

    def by_rule(self) -> list[RuleCount]:
        """Issues counted by rule: errors first, then the most frequent."""
        rules = catalogue()
        counted = sorted(issue_counts(self.issues).items(), key=lambda kv: (kv[0][0] != ERROR, -kv[1], kv[0][1]))
        return [
            RuleCount(
                rule_id,
                severity,
                n,
                rules[rule_id].summary if rule_id in rules else "a check on the loaded table",
                rules[rule_id].fix if rule_id in rules else "",
            )
            for (severity, rule_id), n in counted
        ]

    def swe_number(self, issue: Issue) -> str | None:
        return self.swe_numbers.get(issue.record) if issue.record is not None else None


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def where(issue: Issue) -> str:
    parts = []
    if issue.line is not None:
        parts.append(f"line {issue.line}")
    if issue.record is not None:
        parts.append(f"worker {issue.record}")
    return ", ".join(parts)


# -- text ------------------------------------------------------------------------------------------


def _text_line(report: ValidationReport, issue: Issue) -> str:
    place = [where(issue)] if where(issue) else []
    if swe := report.swe_number(issue):
        place.append(f"SWENo {swe}")
    if issue.element is not None:
        place.append(f"{issue.element} = {issue.value!r}" if issue.value is not None else issue.element)
    prefix = ", ".join(place)
    return f"  [{issue.severity}] {prefix + ': ' if prefix else ''}{issue.message} ({issue.rule})"


def render_text(report: ValidationReport, limit: int | None = None) -> str:
    """A plain-text report: the file, its council and year, the verdict, notes, counts by rule, then the
    issues (the first `limit`, or all)."""
    lines = [
        f"CSWW return {report.file}: LA {report.council}, collection year {report.year or 'unknown'}, "
        f"{_plural(report.workers, 'worker record')}",
        report.verdict,
    ]
    lines += report.notes
    counts = report.by_rule()
    if counts:
        lines.append("Issues by rule:")
        lines += [f"  {c.severity:<6} {c.rule:<28} {c.count:>9,}  {c.summary}" for c in counts]
        ordered = report.ordered()
        shown = ordered[:limit]
        if len(shown) < len(ordered):
            lines.append(f"First {len(shown):,} of {len(ordered):,} listed issues (errors first):")
        else:
            lines.append("Issues (errors first):")
        lines += [_text_line(report, issue) for issue in shown]
    return "\n".join(lines) + "\n"


# -- json and csv ----------------------------------------------------------------------------------


def _issue_fields(report: ValidationReport, issue: Issue) -> dict[str, object]:
    fields: dict[str, object] = {
        "severity": issue.severity,
        "rule": issue.rule,
        "line": issue.line,
        "worker": issue.record,
    }
    if report.swe_numbers:
        fields["swe_number"] = report.swe_number(issue)
    fields |= {"element": issue.element, "value": issue.value, "message": issue.message}
    if issue.more:
        fields["more"] = issue.more
    return fields


def render_json(report: ValidationReport) -> str:
    document = {
        "file": report.file,
        "old_la_code": report.old_la_code,
        "la_name": report.la_name,
        "collection_year": report.year,
        "worker_records": report.workers,
        "checked_at": report.checked_at.isoformat(),
        "accepted": report.accepted,
        "verdict": report.verdict,
        "counts": report.counts,
        "notes": report.notes,
        "rules": [vars(c) for c in report.by_rule()],
        "issues": [_issue_fields(report, issue) for issue in report.ordered()],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_csv(report: ValidationReport) -> str:
    """One row per issue, errors first, UTF-8 with a header row."""
    rows = [_issue_fields(report, issue) | {"more": issue.more} for issue in report.ordered()]
    out = io.StringIO()
    columns = ["severity", "rule", "line", "worker", *(["swe_number"] if report.swe_numbers else [])]
    writer = csv.DictWriter(out, [*columns, "element", "value", "message", "more"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return out.getvalue()


# -- files -----------------------------------------------------------------------------------------


def render(report: ValidationReport, fmt: str) -> bytes:
    """The report in one format, as the bytes of its file."""
    if fmt == "xlsx":
        from orchestration.lib.sources.csww.report_xlsx import render_xlsx

        return render_xlsx(report)
    if fmt == "html":
        from orchestration.lib.sources.csww.report_html import render_html

        return render_html(report).encode("utf-8")
    renderers = {"text": render_text, "json": render_json, "csv": render_csv}
    return renderers[fmt](report).encode("utf-8")


def write_report(report: ValidationReport, folder: Path, formats: Iterable[str] = STORED_FORMATS) -> list[Path]:
    """Write the report into `folder` in each format (file names from FORMATS); the paths written.

    Owner-only, folder and files: a report names workers by record and quotes values from the return.
    """
    private_dir(folder)
    written = []
    for fmt in formats:
        written.append(write_private_bytes(folder / FORMATS[fmt], render(report, fmt)))
    return written
