"""The landing zone's door, end to end: awkward files never change what was loaded or published.

One warehouse is built from three good returns (one of them named in upper case, `.XML`), then one
file of every awkward class is added and the pipeline runs again, as `workforce run` does, with
alerts pointed at local listeners. For every class the tests check the outcome and the words of its
reason in the run summary; and, for all of them together, that the run published, that the earlier
loads and the published tables are byte for byte what they were, that an alert went out, and that
nothing outside the landing zone was opened by the run (Python's `open` audit event, in this process,
where the door and the loaders run) or copied anywhere under data/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator

import pytest

from orchestration import runner
from orchestration.lib import paths, warehouse
from orchestration.lib.publish import publication
from synthetic import generate_returns
from tests.conftest import TEST_PSEUDONYM_KEY
from tests.integration.helpers import published_tables, run_pipeline
from tests.listeners import alert_environment

MARKER = "OUTSIDE-THE-LANDING-ZONE-7f3a"
"""In every file outside the landing zone: it must appear in nothing the run writes."""

_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)

# class: (path in the landing zone, decision in the run summary, words its reason must contain)
CASES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "Office lock file": ("returns/301/2023/~$csww_2023.xml", "ignore", ("Office lock file",)),
    ".DS_Store": ("returns/.DS_Store", "ignore", ("macOS",)),
    "Thumbs.db": ("returns/302/2023/Thumbs.db", "ignore", ("Windows thumbnail",)),
    "swap file": ("returns/303/2023/.CSWW_2023.XML.swp", "ignore", ("swap file",)),
    "symlink out of the landing zone": (
        "returns/304/2023/csww_2023.xml",
        "refuse",
        ("symbolic link", "outside the landing zone", "never followed"),
    ),
    "symlinked folder": ("returns/305", "refuse", ("symbolic link", "copy the folder")),
    "two files in one LA-year folder": (
        "returns/302/2023/csww_2023 (1).xml",
        "refuse",
        ("2 files compete for 302 2023", "csww_2023.xml", "loaded before for this LA-year stays"),
    ),
    "unknown LA code": ("returns/999/2023/csww_2023.xml", "refuse", ("999 is not a DfE old LA code", "did you mean")),
    "Cumbria 2023": (
        "returns/909/2023/csww_2023.xml",
        "refuse",
        ("909 Cumbria did not exist on 30 September 2023", "942 Cumberland", "943 Westmorland and Furness"),
    ),
    "file outside the layout": ("returns/301/csww_2023.xml", "refuse", ("returns/<old_la_code>/<year>/<file>.xml",)),
    "unsupported release type": (
        "dfe/csww_indicators/csww_indicators_2025.xlsx",
        "refuse",
        ("a .xlsx file", "read from CSV files only", "not read yet"),
    ),
}


def _warehouse_state() -> dict[str, list[tuple]]:
    with warehouse.connect(read_only=True) as con:
        return {
            table: con.execute(f"select * exclude (loaded_at) from raw_csww.{table} order by all").fetchall()
            for table in ("returns", "workers", "la_level")
        }


def _published_bytes() -> dict[str, bytes]:
    folder = paths.published_dir()
    return {f"{t}.parquet": (folder / f"{t}.parquet").read_bytes() for t in publication.PUBLISHED_TABLES}


def _variant(text: str, old_la_code: str, software: str) -> str:
    """The same return sent under another code, with its software code changed (so its bytes differ)."""
    changed = text.replace("<LEA>301</LEA>", f"<LEA>{old_la_code}</LEA>", 1)
    software_code = f"<SoftwareCode>{software}</SoftwareCode>"
    changed = re.sub(r"<SoftwareCode>[^<]*</SoftwareCode>", software_code, changed, count=1)
    assert changed != text
    return changed


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A baseline run on three good returns, then a run with one file of every awkward class added."""
    root = tmp_path_factory.mktemp("door")
    raw, outside = root / "raw", root / "outside"
    generated = root / "generated"
    generate_returns(out_dir=generated, seed=5, years=[2023], la_codes=["301", "302", "303"])
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in {
            "WORKFORCE_DATA_DIR": root / "data",
            "WORKFORCE_RAW_DIR": raw,
            "DAGSTER_HOME": root / "data" / "dagster_home",
            "WORKFORCE_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
        }.items():
            monkeypatch.setenv(name, str(value))
        for folder in ("dfe", "ofsted"):
            shutil.copytree(paths.PROJECT_ROOT / "raw" / folder, raw / folder)
        returns = raw / "returns"
        for code in ("301", "302"):
            (returns / code / "2023").mkdir(parents=True)
            shutil.copy(generated / code / "2023" / "csww_2023.xml", returns / code / "2023" / "csww_2023.xml")
        (returns / "303" / "2023").mkdir(parents=True)
        shutil.copy(generated / "303" / "2023" / "csww_2023.xml", returns / "303" / "2023" / "CSWW_2023.XML")

        baseline = run_pipeline()
        before = {"warehouse": _warehouse_state(), "published": _published_bytes(), "tables": published_tables()}

        text = (returns / "301" / "2023" / "csww_2023.xml").read_text(encoding="utf-8")
        (outside / "305" / "2023").mkdir(parents=True)
        (outside / "secret.xml").write_text(_variant(text, "304", MARKER), encoding="utf-8")
        (outside / "305" / "2023" / "csww_2023.xml").write_text(_variant(text, "305", MARKER), encoding="utf-8")
        files = {
            # The lock file holds a full return: had it been loaded, 301's figures would change.
            "returns/301/2023/~$csww_2023.xml": _variant(text, "301", "lock"),
            "returns/.DS_Store": "\0\0\0\1Bud1",
            "returns/302/2023/Thumbs.db": "thumbnails",
            "returns/303/2023/.CSWW_2023.XML.swp": "b0VIM 9.0",
            "returns/302/2023/csww_2023 (1).xml": _variant(text, "302", "resubmitted?"),
            "returns/999/2023/csww_2023.xml": _variant(text, "999", "unknown"),
            "returns/909/2023/csww_2023.xml": _variant(text, "909", "Cumbria"),
            "returns/301/csww_2023.xml": _variant(text, "301", "no year folder"),
            "dfe/csww_indicators/csww_indicators_2025.xlsx": "PK\3\4 not a CSV",
        }
        for relative, content in files.items():
            (raw / relative).parent.mkdir(parents=True, exist_ok=True)
            (raw / relative).write_text(content, encoding="utf-8")
        (returns / "304" / "2023").mkdir(parents=True)
        (returns / "304" / "2023" / "csww_2023.xml").symlink_to(outside / "secret.xml")
        (returns / "305").symlink_to(outside / "305", target_is_directory=True)

        global _opened
        with alert_environment(monkeypatch) as (smtp, hook):
            _opened = []
            try:
                report = run_pipeline()
                summary_path = runner.finish(report)
            finally:
                opened, _opened = _opened, None
        yield {
            "root": root,
            "outside": outside,
            "baseline": baseline,
            "before": before,
            "report": report,
            "summary": json.loads(summary_path.read_text()),
            "opened": opened,
            "emails": smtp.messages,
            "posts": hook.posts,
            "after": {"warehouse": _warehouse_state(), "published": _published_bytes(), "tables": published_tables()},
        }


def test_the_baseline_loads_every_good_return_including_an_upper_case_xml(door: dict) -> None:
    baseline = door["baseline"]
    assert baseline.succeeded and baseline.published_version, baseline.describe()
    assert baseline.exit_code == runner.EXIT_CLEAN
    assert baseline.loads["raw/csww_returns"]["files_loaded"] == 3
    loaded = {(la, year, file) for la, year, file, *_ in door["before"]["warehouse"]["returns"]}
    assert ("303", 2023, "returns/303/2023/CSWW_2023.XML") in loaded


@pytest.mark.parametrize("case", list(CASES))
def test_each_awkward_file_is_named_with_its_outcome_and_reason(door: dict, case: str) -> None:
    relative, decision, words = CASES[case]
    entries = {entry["file"]: entry for entry in door["summary"]["not_loaded"]}

    assert relative in entries, f"{relative} is not named in the run summary"
    assert entries[relative]["decision"] == decision
    for word in words:
        assert word.lower() in entries[relative]["reason"].lower(), entries[relative]
    assert relative in door["report"].describe(), "the printed summary names it too"


def test_the_run_publishes_others_and_says_files_were_refused(door: dict) -> None:
    report = door["report"]

    assert report.succeeded and report.published_version, report.describe()
    assert door["summary"]["exit_code"] == runner.EXIT_FILES_NOT_LOADED == report.exit_code
    assert door["summary"]["alerts"] == ["refused"]
    refused = {entry["file"] for entry in door["summary"]["not_loaded"] if entry["decision"] == "refuse"}
    # The other competing file is refused with it; the stray at the top is named too.
    assert "returns/302/2023/csww_2023.xml" in refused
    assert report.loads["raw/csww_returns"]["files_unchanged"] == 2, "301 and 303 were looked at and kept"


def test_an_alert_went_out_by_email_and_webhook(door: dict) -> None:
    [message] = door["emails"]
    assert message["Subject"] == "workforce: full_rebuild refused"
    assert "909 Cumbria did not exist" in message.get_payload()
    [post] = door["posts"]
    assert post["json"]["run_id"] == door["report"].run_id
    assert post["json"]["files"]["refused"] == door["summary"]["files"]["refused"]


def test_earlier_loads_are_intact(door: dict) -> None:
    assert door["after"]["warehouse"] == door["before"]["warehouse"]


def test_published_tables_are_byte_identical(door: dict) -> None:
    assert door["report"].published_version != door["baseline"].published_version, "a new version was published"
    assert door["after"]["published"] == door["before"]["published"]
    assert door["after"]["tables"] == door["before"]["tables"]


def test_nothing_outside_the_landing_zone_is_read_or_copied(door: dict) -> None:
    outside = str(door["outside"])
    assert door["opened"], "the audit hook saw the run open files"
    assert not [path for path in door["opened"] if path.startswith(outside)]
    assert MARKER not in door["report"].describe()
    assert MARKER not in json.dumps(door["summary"]) + json.dumps(door["posts"])
    for path in (door["root"] / "data").rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert MARKER.encode() not in path.read_bytes(), f"{path} holds a file from outside the landing zone"
