"""Validation issues found in a CSWW return, and the reports a council analyst reads.

An Issue says where the problem is (file, line, worker record, element), what the offending value
was, which rule it broke (a short stable id) and, in plain English, what to fix. Errors stop the
return from loading; warnings are reported and the return still loads.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

MAX_VALUE_CHARS = 60
"""Offending values are cut to this length: enough to recognise, not enough to flood a report."""
MAX_ISSUES_PER_RULE = 1_000
"""Beyond this, a rule's issues are only counted, so a huge file full of errors cannot exhaust memory."""


@dataclass(frozen=True)
class Rule:
    """A validation rule: its stable id, severity and a one-line description for report headings."""

    id: str
    severity: Severity
    summary: str


@dataclass(frozen=True)
class Issue:
    file: str
    line: int | None
    record: int | None
    """1-based position of the CSWWWorker in the file; None for header, LA-level and file problems."""
    element: str | None
    value: str | None
    rule: str
    message: str
    severity: Severity
    more: int = 0
    """Only on the one summary issue a rule gets when it hits the cap: how many more were found."""


def shorten(value: str | None) -> str | None:
    if value is None or len(value) <= MAX_VALUE_CHARS:
        return value
    return value[: MAX_VALUE_CHARS - 1] + "…"


class IssueLog:
    """Collects the issues of one file, keeping at most MAX_ISSUES_PER_RULE per rule."""

    def __init__(self, file: str, max_per_rule: int = MAX_ISSUES_PER_RULE) -> None:
        self.file = file
        self.max_per_rule = max_per_rule
        self._issues: list[Issue] = []
        self._counts: Counter[str] = Counter()
        self._capped: dict[str, Rule] = {}

    def add(
        self,
        rule: Rule,
        message: str,
        *,
        line: int | None = None,
        record: int | None = None,
        element: str | None = None,
        value: str | None = None,
    ) -> None:
        count = self._counts[rule.id] = self._counts[rule.id] + 1
        if count > self.max_per_rule:
            self._capped[rule.id] = rule
            return
        self._issues.append(Issue(self.file, line, record, element, shorten(value), rule.id, message, rule.severity))

    def issues(self) -> list[Issue]:
        """The kept issues, then one summary issue per rule that hit the cap."""
        summaries = [
            Issue(
                self.file,
                None,
                None,
                None,
                None,
                rule.id,
                f"…and {self._counts[rule.id] - self.max_per_rule:,} more {rule.id} issues like the ones "
                f"above, not listed. Fix the cause of those and send the return again to see the rest.",
                rule.severity,
                more=self._counts[rule.id] - self.max_per_rule,
            )
            for rule in self._capped.values()
        ]
        return self._issues + summaries


def issue_counts(issues: Iterable[Issue]) -> Counter[tuple[str, str]]:
    """(severity, rule) → number of issues found, counting those a summary issue stands for."""
    counts: Counter[tuple[str, str]] = Counter()
    for issue in issues:
        counts[issue.severity, issue.rule] += issue.more or 1
    return counts


def write_report_csv(issues: Iterable[Issue], path: Path) -> None:
    """One row per issue, columns in Issue field order, UTF-8 with a header row."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f.name for f in fields(Issue)])
        for issue in issues:
            writer.writerow(["" if v is None else v for v in astuple(issue)])


def _header_value(header_info: object, name: str) -> object:
    if header_info is None:
        return None
    if isinstance(header_info, Mapping):
        return header_info.get(name)
    return getattr(header_info, name, None)


def _one_line(issue: Issue) -> str:
    where = []
    if issue.line is not None:
        where.append(f"line {issue.line}")
    if issue.record is not None:
        where.append(f"worker {issue.record}")
    if issue.element is not None:
        where.append(f"{issue.element} = {issue.value!r}" if issue.value is not None else issue.element)
    prefix = ", ".join(where)
    return f"  [{issue.severity}] {prefix + ': ' if prefix else ''}{issue.message} ({issue.rule})"


def format_report_text(file: str, header_info: object, issues: list[Issue], limit: int = 50) -> str:
    """A short plain-text report: the file, its LA and year, counts by rule, then the first issues.

    `header_info` is a ReturnHeader, a mapping with "old_la_code" and "year", or None when the file had no
    usable header. Errors are listed before warnings, each group in file order.
    """
    old_la_code = _header_value(header_info, "old_la_code") or "unknown"
    year = _header_value(header_info, "year") or "unknown"
    counts = issue_counts(issues)
    errors = sum(n for (severity, _), n in counts.items() if severity == ERROR)
    warnings = sum(n for (severity, _), n in counts.items() if severity == WARNING)
    if errors:
        verdict = (
            f"NOT LOADED: {errors:,} errors, {warnings:,} warnings. Fix the errors in your return and send it again."
        )
    elif warnings:
        verdict = f"LOADED with {warnings:,} warnings. Please check them; they may affect your figures."
    else:
        verdict = "LOADED: no problems found."
    lines = [f"CSWW return {file}: LA {old_la_code}, collection year {year}", verdict]
    if counts:
        lines.append("Issues by rule:")
        for (severity, rule), n in sorted(counts.items(), key=lambda kv: (kv[0][0] != ERROR, -kv[1], kv[0][1])):
            lines.append(f"  {severity:<7} {rule:<28} {n:>9,}")
        ordered = sorted(issues, key=lambda i: (i.severity != ERROR, i.line is None, i.line or 0))
        shown = ordered[:limit]
        lines.append(f"First {len(shown)} of {len(issues):,} listed issues:")
        lines.extend(_one_line(issue) for issue in shown)
    return "\n".join(lines) + "\n"
