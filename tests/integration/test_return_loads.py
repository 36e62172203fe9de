"""Loading council returns: idempotent per LA-year, resubmissions kept in history, and every kind of
bad input quarantined with a report a council can act on, while what was loaded before stays.

These tests drive the loader (`ReturnLoader`) directly against a temporary warehouse; the
Dagster wiring around it is exercised by the end-to-end tests.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestration.lib import paths, warehouse
from orchestration.lib.checks.expectations import Validator
from tests.integration.conftest import load_landing_zone as load

SAMPLE = paths.PROJECT_ROOT / "tests" / "fixtures" / "returns" / "social_work_workforce_2022_sample.xml"


def warehouse_state() -> dict[str, object]:
    with warehouse.connect(read_only=True) as con:
        return {
            "returns": con.execute(
                "select old_la_code, collection_year, file_sha256 from raw_csww.returns order by 1, 2"
            ).fetchall(),
            "workers": con.execute(
                "select old_la_code, collection_year, count(*), sum(fte) from raw_csww.workers "
                "group by 1, 2 order by 1, 2"
            ).fetchall(),
            "la_level": con.execute("select * exclude (loaded_at) from raw_csww.la_level order by 1, 2").fetchall(),
        }


def history() -> list[tuple]:
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            "select old_la_code, collection_year, status, file_sha256 from raw_csww.load_history "
            "order by loaded_at, status"
        ).fetchall()


def test_a_good_return_loads_with_provenance_and_pseudonyms(landing: Path, validator: Validator) -> None:
    summary = load(validator)

    assert [o.status for o in summary.outcomes] == ["loaded", "loaded"]
    with warehouse.connect(read_only=True) as con:
        missing_provenance = con.execute(
            "select count(*) from raw_csww.workers "
            "where source_file is null or file_sha256 is null or loaded_at is null"
        ).fetchone()[0]
        raw_swe_numbers = con.execute(
            "select count(*) from raw_csww.workers where regexp_matches(swe_pseudonym, '[A-Z]{2}[0-9]{10}')"
        ).fetchone()[0]
        days = con.execute("select distinct day(birth_month) from raw_csww.workers").fetchall()
    assert missing_provenance == 0
    assert raw_swe_numbers == 0
    assert days == [(1,)], "birth dates are cut to the month"


def test_reloading_the_same_bytes_changes_nothing(landing: Path, validator: Validator) -> None:
    load(validator)
    before = warehouse_state()

    summary = load(validator, run_id="second")

    assert [o.status for o in summary.outcomes] == ["unchanged", "unchanged"]
    assert warehouse_state() == before


def test_a_resubmission_supersedes_and_history_keeps_both(landing: Path, validator: Validator) -> None:
    load(validator)
    original = landing / "301" / "2022" / "csww_2022.xml"
    first_sha = warehouse_state()["returns"][0][2]
    # The council sends a corrected file in place of the first: one worker's sickness days change.
    text = original.read_text(encoding="utf-8")
    original.write_text(re.sub(r"<WorkingDaysLost>[\d.]+<", "<WorkingDaysLost>3.50<", text, count=1), encoding="utf-8")

    summary = load(validator, run_id="resubmission")

    statuses = {(o.partition[1], o.path.name): o.status for o in summary.outcomes}
    assert statuses == {(2022, "csww_2022.xml"): "loaded", (2023, "csww_2023.xml"): "unchanged"}
    new_sha = warehouse_state()["returns"][0][2]
    assert new_sha != first_sha
    records = [(la, year, status, sha) for la, year, status, sha in history() if year == 2022]
    assert ("301", 2022, "superseded", first_sha) in records
    assert ("301", 2022, "loaded", new_sha) in records


def _replace(pattern: str, replacement: str, count: int = 1) -> Callable[[str], str]:
    def change(text: str) -> str:
        changed = re.sub(pattern, replacement, text, count=count, flags=re.S)
        assert changed != text, f"fixture did not contain {pattern!r}"
        return changed

    return change


def _duplicate_first_worker(text: str) -> str:
    first = re.search(r"<CSWWWorker>.*?</CSWWWorker>", text, flags=re.S).group(0)
    return text.replace(first, first + first, 1)


def _without_workers(text: str) -> str:
    return re.sub(r"\s*<CSWWWorker>.*?</CSWWWorker>", "", text, flags=re.S)


XXE = '<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]>\n"
)

BAD_INPUTS: dict[str, tuple[Callable[[str], str] | bytes, str, str]] = {
    # case: (how to spoil the good 2022 return, rule id expected, words the message must contain)
    "not xml": (b"LEA,Year,Workers\n301,2022,212\n", "xml-malformed", "not"),
    "truncated": (lambda t: t[: len(t) // 2], "xml-malformed", "cut short"),
    "wrong root": (_replace(r"<Message>(.*)</Message>", r"<CINMessage>\1</CINMessage>"), "wrong-root", "'CINMessage'"),
    "missing header": (_replace(r"<Header>.*?</Header>", ""), "header-missing", "no Header"),
    "missing LEA": (_replace(r"<LEA>301</LEA>", ""), "header-lea", "LEA"),
    "LEA differs from folder": (_replace(r"<LEA>301</LEA>", "<LEA>302</LEA>"), "lea-mismatch", "302"),
    "year differs from folder": (_replace(r"<Year>2022</Year>", "<Year>2023</Year>"), "year-mismatch", "2023"),
    "unknown code": (_replace(r"<Ethnicity>\w+</Ethnicity>", "<Ethnicity>XXXX</Ethnicity>"), "unknown-code", "XXXX"),
    "FTE above 1": (_replace(r"<FTE>[\d.]+</FTE>", "<FTE>1.400000</FTE>"), "fte-range", "FTE must be"),
    "date in the future": (
        _replace(r"<RoleStartDate>[\d-]+</RoleStartDate>", "<RoleStartDate>2091-01-01</RoleStartDate>"),
        "date-future",
        "future",
    ),
    "date before 1950": (
        _replace(r"<RoleStartDate>[\d-]+</RoleStartDate>", "<RoleStartDate>1949-12-31</RoleStartDate>"),
        "date-too-early",
        "1950",
    ),
    "same worker-role twice": (_duplicate_first_worker, "duplicate-role", "same worker-role"),
    "no workers": (_without_workers, "no-workers", "no CSWWWorker"),
    "non-UTF-8 bytes": (
        lambda t: t.replace("<SoftwareCode>", "<SoftwareCode>Caf\udce9 ", 1),
        "xml-encoding",
        "UTF-8",
    ),
    "external entity": (lambda t: XXE + t.split("?>", 1)[1].replace("<Message>", "<Message>&secret;", 1),
                        "xml-doctype", "DOCTYPE"),
    "entity expansion": (lambda t: LAUGHS + t.split("?>", 1)[1].replace("<Message>", "<Message>&i;", 1),
                         "xml-doctype", "DOCTYPE"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_quarantined_with_a_report_and_loses_nothing(
    case: str, landing: Path, validator: Validator
) -> None:
    load(validator)
    before, history_before = warehouse_state(), history()
    target = landing / "301" / "2022" / "csww_2022.xml"
    spoil, rule, words = BAD_INPUTS[case]
    if isinstance(spoil, bytes):
        target.write_bytes(spoil)
    else:
        target.write_bytes(spoil(target.read_text(encoding="utf-8")).encode("utf-8", "surrogateescape"))

    summary = load(validator, run_id="bad")

    [outcome] = summary.with_status("quarantined")
    assert outcome.partition == ("301", 2022)
    report_rows = list(csv.DictReader((outcome.report_path / "issues.csv").open(encoding="utf-8")))
    assert rule in {row["rule"] for row in report_rows}, report_rows[:3]
    message = next(row["message"] for row in report_rows if row["rule"] == rule)
    assert words.lower() in message.lower()
    report = (outcome.report_path / "report.txt").read_text(encoding="utf-8")
    assert "csww_2022.xml" in report and rule in report
    assert (outcome.report_path / "csww_2022.xml").read_bytes() == target.read_bytes(), "the file is kept as sent"
    assert "/etc/passwd" not in report and "root:" not in report
    # What was loaded before is still there, byte for byte, and the attempt is on record.
    assert warehouse_state() == before
    assert history()[: len(history_before)] == history_before
    assert history()[-1][2] == "quarantined"


def test_public_sample_is_quarantined_with_exactly_its_faults(workspace: Path, validator: Validator) -> None:
    folder = paths.returns_dir() / "301" / "2022"
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE, folder / SAMPLE.name)

    summary = load(validator)

    [outcome] = summary.with_status("quarantined")
    counts: dict[str, int] = {}
    for row in csv.DictReader((outcome.report_path / "issues.csv").open(encoding="utf-8")):
        counts[row["rule"]] = counts.get(row["rule"], 0) + 1
    assert counts == {
        "role-end-after-reference": 11,
        "role-start-after-reference": 7,
        "fte30-missing": 4,
        "leaver-in-post": 4,
        "role-end-before-year": 2,
        "contract-weeks-range": 19,
        "fte-zero": 13,
        "qual-inst-missing": 12,
        "cases-high": 10,
        "role-start-missing": 4,
    }
    assert outcome.errors == 28 and outcome.queries == 58
    with warehouse.connect(read_only=True) as con:
        assert con.execute("select count(*) from raw_csww.workers").fetchone()[0] == 0
