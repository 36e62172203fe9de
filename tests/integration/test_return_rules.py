"""One case per class of return rule, through the loader: what DfE's schema allows loads (with a
query where it is worth confirming), what is impossible is quarantined, and every report says which
rule, in words a council can act on. Earlier loads stay as they were when a file is refused.

Classes: file, message, element, value, worker, return (rules.py) and continuity (continuity.py).
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.lib import paths, warehouse
from orchestration.lib.checks.expectations import Validator
from orchestration.lib.load.outcomes import FileOutcome
from orchestration.lib.load.returns import ReturnFile, ensure_tables
from orchestration.lib.sources.csww import rules
from tests.integration.conftest import load_landing_zone as load
from tests.integration.conftest import load_returns

SWE_NUMBER = re.compile(r"\b[A-Za-z]{2}\d{10}\b")


def place(generated: Path, year: int, *, la_folder: str = "301") -> Path:
    target = paths.returns_dir() / la_folder / str(year) / f"csww_{year}.xml"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(generated / "301" / str(year) / f"csww_{year}.xml", target)
    return target


def loaded_rows() -> list[tuple]:
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            "select old_la_code, collection_year, file_sha256, count(*) from raw_csww.workers group by all order by all"
        ).fetchall()


# -- spoiling a clean return -------------------------------------------------------------------------


def _workers(text: str) -> list[re.Match[str]]:
    return list(re.finditer(r"  <CSWWWorker>\n.*?</CSWWWorker>\n", text, flags=re.S))


def _in_post(block: str) -> bool:
    return "<AgencyWorker>0" in block and "<FTE30>" in block and "<RoleEndDate>" not in block


def _leaver(block: str) -> bool:
    return "<AgencyWorker>0" in block and "<RoleEndDate>" in block and "<FTE30>" not in block


def edit_worker(which: Callable[[str], bool], change: Callable[[str], str]) -> Callable[[str], str]:
    """Change the first worker `which` picks."""

    def spoil(text: str) -> str:
        match = next(m for m in _workers(text) if which(m.group(0)))
        changed = change(match.group(0))
        assert changed != match.group(0)
        return text[: match.start()] + changed + text[match.end() :]

    return spoil


def sub(pattern: str, replacement: str | Callable[[re.Match[str]], str]) -> Callable[[str], str]:
    def change(text: str) -> str:
        return re.sub(pattern, replacement, text, count=1, flags=re.S)

    return change


def _utf16(text: str) -> bytes:
    return text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")


def _duplicate_first_worker(text: str) -> str:
    first = _workers(text)[0].group(0)
    return text.replace(first, first + first, 1)


@dataclass(frozen=True)
class Case:
    level: str
    spoil: Callable[[str], str | bytes]
    loads: bool
    rule: str | None
    """The rule the report must name (None: the file must load without any issue of its own)."""
    words: str = ""


CASES: dict[str, Case] = {
    "UTF-16 declared and encoded": Case("file", _utf16, True, None),
    "UTF-16 bytes declared UTF-8": Case(
        "file", lambda t: t.encode("utf-16"), False, "xml-encoding", 'declaration says encoding="utf-8"'
    ),
    "padded LEA": Case("message", sub("<LEA>301</LEA>", "<LEA> 301 </LEA>"), False, "header-lea", "spaces"),
    "second Source with another LEA": Case(
        "message",
        sub("</Source>", "</Source>\n    <Source>\n      <LEA>302</LEA>\n    </Source>"),
        False,
        "header-lea-conflict",
        "second Source with LEA 302",
    ),
    "a Header part twice": Case(
        "message", sub("<Year>2022</Year>", "<Year>2022</Year><Year>2022</Year>"), False, "header-repeated", "once"
    ),
    "an element twice in one worker": Case(
        "element",
        edit_worker(_in_post, sub(r"(<FTE>[\d.]+</FTE>)", r"\1\1")),
        False,
        "element-repeated",
        "more than once",
    ),
    "age 12": Case(
        "value",
        edit_worker(_in_post, sub(r"<PersonBirthDate>[\d-]+<", "<PersonBirthDate>2010-01-01<")),
        False,
        "age-impossible",
        "12 on 30 September 2022",
    ),
    "480 cases": Case(
        "value", edit_worker(_in_post, sub(r"<Cases30>\d+<", "<Cases30>480<")), True, "cases-high", "480"
    ),
    "FTE30 0 on a leaver": Case(
        "value", edit_worker(_leaver, sub(r"(</ReasonLeave>\n)", r"\1    <FTE30>0.000000</FTE30>\n")), True, None
    ),
    "in post without FTE30": Case(
        "worker", edit_worker(_in_post, sub(r"\s*<FTE30>[\d.]+</FTE30>", "")), False, "fte30-missing", "No FTE30"
    ),
    "FTE30 0 in post": Case(
        "worker",
        edit_worker(_in_post, sub(r"<FTE30>[\d.]+<", "<FTE30>0.000000<")),
        True,
        "fte30-zero",
        "not in post",
    ),
    "role end after the reference date": Case(
        "worker",
        edit_worker(_in_post, sub(r"(\s*<FTE30>)", r"\n    <RoleEndDate>2022-10-15</RoleEndDate>\1")),
        False,
        "role-end-after-reference",
        "had not ended",
    ),
    "the same worker-role twice": Case("return", _duplicate_first_worker, False, "duplicate-role", "same worker-role"),
}


def report_rows(outcome: FileOutcome) -> list[dict[str, str]]:
    with (outcome.report_path / "issues.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_report(outcome: FileOutcome, rule: str, words: str) -> None:
    rows = report_rows(outcome)
    assert rule in {row["rule"] for row in rows}, rows[:3]
    message = next(row["message"] for row in rows if row["rule"] == rule)
    assert words.lower() in message.lower(), message
    for name in ("report.txt", "report.html"):
        text = (outcome.report_path / name).read_text(encoding="utf-8")
        assert rule in text
        assert not SWE_NUMBER.search(text), f"{name} names a worker by SWE number"


@pytest.mark.parametrize("case", list(CASES), ids=lambda c: f"{CASES[c].level}: {c}")
def test_each_class_of_rule(case: str, workspace: Path, generated: Path, validator: Validator) -> None:
    spec = CASES[case]
    target = place(generated, 2022)
    load(validator)
    before = loaded_rows()
    spoiled = spec.spoil(target.read_text(encoding="utf-8"))
    target.write_bytes(spoiled if isinstance(spoiled, bytes) else spoiled.encode("utf-8"))

    [outcome] = load(validator, run_id="second").outcomes
    if not spec.loads:
        assert outcome.status == "quarantined"
        assert rules.rule(spec.rule).severity == "error"
        assert_report(outcome, spec.rule, spec.words)
        assert loaded_rows() == before, "what was loaded before stays"
        return
    assert outcome.status == "loaded" and outcome.errors == 0
    assert loaded_rows() != before and loaded_rows()[0][2] == outcome.sha256
    if spec.rule is None:
        assert outcome.queries == 0 and outcome.report_path is None
        return
    assert rules.rule(spec.rule).severity == "query" and outcome.queries >= 1
    assert_report(outcome, spec.rule, spec.words)
    with warehouse.connect(read_only=True) as con:
        counts = con.execute(
            "select h.query_count, r.query_count from raw_csww.load_history h join raw_csww.returns r using "
            "(old_la_code, collection_year, file_sha256) where h.status = 'loaded'"
        ).fetchall()
    assert counts == [(outcome.queries, outcome.queries)]


def test_message_a_council_that_no_longer_existed(workspace: Path, generated: Path, validator: Validator) -> None:
    """Cumbria (909) was abolished on 31 March 2023: a 2023 return under its code is refused, naming
    the councils that replaced it, instead of failing dbt later for every council. The landing
    zone's door refuses it first (test_landing.py); the return rules do too, for any other caller."""
    target = place(generated, 2023, la_folder="909")
    target.write_text(target.read_text(encoding="utf-8").replace("<LEA>301</LEA>", "<LEA>909</LEA>"), encoding="utf-8")
    assert load(validator).outcomes == []

    [outcome] = load_returns(validator, [ReturnFile(target, "909", 2023)]).outcomes

    assert outcome.status == "quarantined"
    assert_report(outcome, "lea-not-in-existence", "942 Cumberland, 943 Westmorland and Furness")


def _another_month(match: re.Match[str]) -> str:
    year, month, _ = match.group(0)[len("<PersonBirthDate>") : -1].split("-")
    return f"<PersonBirthDate>{year}-{1 if month != '01' else 2:02d}-15<"


def _in_post_swe_numbers(text: str) -> set[str]:
    return {re.search(r"<SWENo>(\w+)<", m.group(0)).group(1) for m in _workers(text) if _in_post(m.group(0))}


def test_continuity_queries_against_last_years_return(workspace: Path, generated: Path, validator: Validator) -> None:
    place(generated, 2022)
    load(validator)
    target = place(generated, 2023)
    text = target.read_text(encoding="utf-8")
    both_years = _in_post_swe_numbers(text) & _in_post_swe_numbers(place(generated, 2022).read_text(encoding="utf-8"))
    swe = sorted(both_years)[0]
    # The same worker (SWENo) born in another month than last year says; and a third of those in post gone.
    text = edit_worker(lambda block: f"<SWENo>{swe}<" in block, sub(r"<PersonBirthDate>[\d-]+<", _another_month))(text)
    in_post = [m.group(0) for m in _workers(text) if _in_post(m.group(0)) and f"<SWENo>{swe}<" not in m.group(0)]
    for block in in_post[: len(in_post) // 3]:
        text = text.replace(block, "", 1)
    target.write_text(text, encoding="utf-8")

    [outcome] = [o for o in load(validator, run_id="second").outcomes if o.partition[1] == 2023]

    assert outcome.status == "loaded" and outcome.errors == 0
    found = {row["rule"]: row for row in report_rows(outcome)}
    assert {"headcount-change", "fte-change", "birth-month-changed"} <= set(found)
    assert "against" in found["headcount-change"]["message"] and "%" in found["headcount-change"]["message"]
    assert "born in another month" in found["birth-month-changed"]["message"]
    assert all(rules.rule(rule).severity == "query" for rule in found)
    report = (outcome.report_path / "report.txt").read_text(encoding="utf-8")
    assert "Continuity: compared with the 2022 return for LA 301" in report


def test_continuity_without_a_previous_return_says_so(workspace: Path, generated: Path, validator: Validator) -> None:
    target = place(generated, 2022)
    target.write_text(CASES["480 cases"].spoil(target.read_text(encoding="utf-8")), encoding="utf-8")

    [outcome] = load(validator).outcomes

    assert outcome.status == "loaded"
    assert {row["rule"] for row in report_rows(outcome)} == {"cases-high"}, "no continuity issue"
    report = (outcome.report_path / "report.txt").read_text(encoding="utf-8")
    assert "Continuity: no 2021 return for LA 301 is loaded" in report


def test_a_warehouse_from_an_earlier_version_has_its_columns_renamed(workspace: Path) -> None:
    """Counts of queries were once `warning_count`, and the council code `la_code`: rows keep their values."""
    with warehouse.connect() as con:
        con.execute("create schema raw_csww")
        con.execute("create table raw_csww.returns (la_code varchar, warning_count integer)")
        con.execute("insert into raw_csww.returns values ('301', 3)")
        con.execute("create table raw_csww.workers (la_code varchar, collection_year integer)")
        con.execute("insert into raw_csww.workers values ('301', 2022)")
        con.execute("create table raw_csww.load_history (la_code varchar, warning_count integer)")
        ensure_tables(con)
        assert con.execute("select old_la_code, query_count from raw_csww.returns").fetchall() == [("301", 3)]
        assert con.execute("select old_la_code from raw_csww.workers").fetchall() == [("301",)]
        for table in ("returns", "workers", "load_history"):
            names = set(warehouse.table_columns(con, f"raw_csww.{table}"))
            assert "la_code" not in names and "warning_count" not in names and "old_la_code" in names, table
        assert "query_count" in warehouse.table_columns(con, "raw_csww.load_history")
