"""docs/validation_rules.md, the council-facing list of return rules, written from the catalogue.

    .venv/bin/python -m orchestration.lib.sources.csww.rules_doc

rewrites it; a test fails when the committed file differs from what the catalogue gives.
"""

from __future__ import annotations

from orchestration.lib import paths
from orchestration.lib.sources.csww.rules import ERROR, LEVELS, Rule, catalogue

DOC_PATH = paths.PROJECT_ROOT / "docs" / "validation_rules.md"

LEVEL_TITLES = {
    "file": "The file",
    "message": "The Header, the LA-level block and the list of workers",
    "element": "Each element",
    "value": "Each value",
    "worker": "Each worker's values together",
    "return": "Across the workers of a return",
    "continuity": "Against the council's previous return",
}

INTRO = """\
# CSWW return rules

Every rule a children's social work workforce (CSWW) return is checked against, before it is
loaded and when you run `workforce validate`. Severities are DfE's:

- **error**: the return is not loaded (it is kept aside with a report) until the error is fixed;
- **query**: the value is possible but unusual: the return loads, and the query comes back to you
  to correct or confirm.

DfE's schema is the floor: a value the schema accepts is refused only when it is impossible (an
age of 12, a role ending after the census date) or when the file cannot be this council's return
for this year; every such rule is listed under [stricter than DfE's schema](#stricter-than-dfes-schema)
with its reason. Years are the collection years a rule applies to ("2018-": from 2018 on).
Each report names the rule id, so you can find it here.

This file is generated from `orchestration/lib/sources/csww/rules.yml`
(`.venv/bin/python -m orchestration.lib.sources.csww.rules_doc`); do not edit it by hand.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(rules: list[Rule]) -> list[str]:
    lines = ["| Rule | Severity | Years | What it finds | What to fix |", "|---|---|---|---|---|"]
    for rule in rules:
        severity = "**error**" if rule.severity == ERROR else "query"
        lines.append(
            f"| `{rule.id}` | {severity} | {rule.years} | {_cell(rule.summary[:1].upper() + rule.summary[1:])} "
            f"| {_cell(rule.fix)} |"
        )
    return lines


def render_markdown() -> str:
    rules = list(catalogue().values())
    lines = [INTRO]
    for level in LEVELS:
        at_level = [r for r in rules if r.level == level]
        if at_level:
            lines += [f"## {LEVEL_TITLES[level]}", "", *_table(at_level), ""]
    lines += ["## Stricter than DfE's schema", ""]
    lines += [f"- `{r.id}` ({r.severity}): {_cell(r.why)}" for r in rules if r.stricter_than_schema]
    return "\n".join(lines) + "\n"


def main() -> None:
    DOC_PATH.write_text(render_markdown(), encoding="utf-8")
    print(DOC_PATH)


if __name__ == "__main__":
    main()
