"""Validation issues found in a CSWW return.

An Issue says where the problem is (file, line, worker record, element), what the offending value
was, which rule it broke (an id from the catalogue, rules.yml) and, in plain English, what to fix.
Its severity is the rule's: errors stop the return from loading; queries are reported and the
return still loads. The reports that carry issues to a council are in `report`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from orchestration.lib.sources.csww.rules import ERROR, QUERY, RuleId, Severity, rule

MAX_VALUE_CHARS = 60
"""Offending values are cut to this length: enough to recognise, not enough to flood a report."""
MAX_ISSUES_PER_RULE = 1_000
"""Beyond this, a rule's issues are only counted, so a huge file full of errors cannot exhaust memory."""


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
    """Collects the issues of one file, keeping at most MAX_ISSUES_PER_RULE per rule.

    Once the return's collection year is known (`year`), a rule the catalogue does not apply in
    that year is not recorded.
    """

    def __init__(self, file: str, max_per_rule: int = MAX_ISSUES_PER_RULE) -> None:
        self.file = file
        self.max_per_rule = max_per_rule
        self.year: int | None = None
        self._issues: list[Issue] = []
        self._counts: Counter[str] = Counter()
        self._capped: list[str] = []

    def add(
        self,
        rule_id: RuleId,
        message: str,
        *,
        line: int | None = None,
        record: int | None = None,
        element: str | None = None,
        value: str | None = None,
    ) -> None:
        described = rule(rule_id)
        if not described.applies_in(self.year):
            return
        count = self._counts[described.id] = self._counts[described.id] + 1
        if count > self.max_per_rule:
            if count == self.max_per_rule + 1:
                self._capped.append(described.id)
            return
        self._issues.append(
            Issue(self.file, line, record, element, shorten(value), described.id, message, described.severity)
        )

    def issues(self) -> list[Issue]:
        """The kept issues, then one summary issue per rule that hit the cap."""
        summaries = [
            Issue(
                self.file,
                None,
                None,
                None,
                None,
                rule_id,
                f"…and {self._counts[rule_id] - self.max_per_rule:,} more {rule_id} issues like the ones "
                f"above, not listed. Fix the cause of those and send the return again to see the rest.",
                rule(rule_id).severity,
                more=self._counts[rule_id] - self.max_per_rule,
            )
            for rule_id in self._capped
        ]
        return self._issues + summaries


def issue_counts(issues: Iterable[Issue]) -> Counter[tuple[str, str]]:
    """(severity, rule) → number of issues found, counting those a summary issue stands for."""
    counts: Counter[tuple[str, str]] = Counter()
    for issue in issues:
        counts[issue.severity, issue.rule] += issue.more or 1
    return counts


def severity_counts(issues: Iterable[Issue]) -> dict[str, int]:
    """{"error": n, "query": m}, counting those a summary issue stands for."""
    totals = dict.fromkeys((ERROR, QUERY), 0)
    for (severity, _), n in issue_counts(issues).items():
        totals[severity] += n
    return totals
