"""`workforce validate`: a council checks a return before sending it, without loading anything.

Exit 0 without errors, 1 with errors, 2 when the command cannot run; continuity queries when the
working warehouse holds last year's return and can be opened read-only, and a note (never a
failure) when it cannot.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration import cli
from orchestration.lib import paths
from orchestration.lib.checks.expectations import Validator
from orchestration.lib.sources.csww.validate import validate_file
from synthetic import generate_returns
from tests.integration.conftest import load_landing_zone

FIXTURES = paths.PROJECT_ROOT / "tests" / "fixtures" / "returns"
SAMPLE = FIXTURES / "social_work_workforce_2022_sample.xml"

SAMPLE_COUNTS = {
    ("error", "role-end-after-reference"): 11,
    ("error", "role-start-after-reference"): 7,
    ("error", "fte30-missing"): 4,
    ("error", "leaver-in-post"): 4,
    ("error", "role-end-before-year"): 2,
    ("query", "contract-weeks-range"): 19,
    ("query", "fte-zero"): 13,
    ("query", "qual-inst-missing"): 12,
    ("query", "cases-high"): 10,
    ("query", "role-start-missing"): 4,
}
"""What the public messy sample breaks (tests/unit/test_csww_parser.py says which workers)."""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_public_sample_prints_its_errors_then_its_queries(workspace: Path, capsys) -> None:
    code, out, _ = run(capsys, str(SAMPLE))

    assert code == 1
    counts = {
        (m[1], m[2]): int(m[3].replace(",", "")) for m in re.finditer(r"^  (error|query) +(\S+) +([\d,]+) ", out, re.M)
    }
    assert counts == SAMPLE_COUNTS
    issue_lines = [line for line in out.splitlines() if line.startswith("  [")]
    assert len(issue_lines) == sum(SAMPLE_COUNTS.values())
    severities = [line[3:8] for line in issue_lines]
    assert severities == sorted(severities), "errors, then queries"
    assert "line 49, worker 2, SWENo Yk7226043359, RoleEndDate = '2019-09-23'" in out, (
        "the SWE number the council knows"
    )
    assert "Continuity: skipped, because there is no working warehouse" in out


def test_json_report_to_a_file(workspace: Path, tmp_path: Path, capsys) -> None:
    out_file = tmp_path / "sample.json"
    code, out, _ = run(capsys, str(SAMPLE), "--format", "json", "--out", str(out_file), "--la", "301", "--year", "2022")

    assert code == 1 and out.splitlines() == [out.splitlines()[0], str(out_file)]
    document = json.loads(out_file.read_text())
    counted: dict[tuple[str, str], int] = {}
    for issue in document["issues"]:
        counted[issue["severity"], issue["rule"]] = counted.get((issue["severity"], issue["rule"]), 0) + 1
    assert counted == SAMPLE_COUNTS and document["counts"] == {"error": 28, "query": 58}
    assert out_file.stat().st_mode & 0o777 == 0o600, "the council's copy names workers: owner only"


def test_html_and_xlsx_default_to_the_current_folder(workspace: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for fmt, suffix in (("html", ".html"), ("xlsx", ".xlsx")):
        code, out, _ = run(capsys, str(SAMPLE), "--format", fmt)
        written = tmp_path / f"social_work_workforce_2022_sample_validation{suffix}"
        assert code == 1 and out.splitlines()[-1] == str(written) and written.stat().st_size > 1000


def test_a_clean_return_exits_0(workspace: Path, capsys) -> None:
    code, out, _ = run(capsys, str(FIXTURES / "valid_2022.xml"), "--la", "301")
    assert code == 0 and "Accepted: no errors and no queries." in out


def test_a_return_for_another_council_than_chosen_is_an_error(workspace: Path, capsys) -> None:
    code, out, _ = run(capsys, str(FIXTURES / "valid_2022.xml"), "--la", "302", "--year", "2022")
    assert code == 1 and "(lea-mismatch)" in out and "LA 302" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nowhere.xml"], "does not exist"),
        ([str(FIXTURES)], "is not a file"),
        ([str(SAMPLE), "--la", "30"], "not a 3-digit DfE LA code"),
    ],
)
def test_usage_problems_exit_2(workspace: Path, capsys, args: list[str], words: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and words in err and out == ""


def test_an_unknown_format_is_a_usage_error(workspace: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["validate", str(SAMPLE), "--format", "pdf"])
    assert exit_info.value.code == 2


# -- continuity against the working warehouse ------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate_returns(out_dir=out, seed=11, years=[2022, 2023], la_codes=["301"])
    return out


def _load_2022(generated: Path) -> None:
    folder = paths.returns_dir() / "301" / "2022"
    folder.mkdir(parents=True)
    shutil.copy(generated / "301" / "2022" / "csww_2022.xml", folder)
    [outcome] = load_landing_zone(Validator(), run_id="t").outcomes
    assert outcome.status == "loaded"


def test_continuity_against_last_years_loaded_return(workspace: Path, generated: Path, tmp_path: Path) -> None:
    _load_2022(generated)
    text = (generated / "301" / "2023" / "csww_2023.xml").read_text(encoding="utf-8")
    last_year = (generated / "301" / "2022" / "csww_2022.xml").read_text(encoding="utf-8")
    swe = next(s for s in re.findall(r"<SWENo>(\w+)</SWENo>", text) if f"<SWENo>{s}<" in last_year)
    block = re.search(rf"<SWENo>{swe}</SWENo>.*?</CSWWWorker>", text, re.S).group(0)
    born = re.search(r"<PersonBirthDate>(\d{4})-(\d{2})-\d{2}<", block)
    month = "01" if born.group(2) != "01" else "02"
    changed = block.replace(born.group(0), f"<PersonBirthDate>{born.group(1)}-{month}-15<")
    path = tmp_path / "csww_2023.xml"
    path.write_text(text.replace(block, changed), encoding="utf-8")

    report = validate_file(path)

    assert report.accepted, [i.message for i in report.issues if i.severity == "error"]
    moved = [i for i in report.issues if i.rule == "birth-month-changed"]
    assert len(moved) == 1 and report.swe_number(moved[0]) == swe
    assert "Continuity: compared with the 2022 return for LA 301" in "\n".join(report.notes)


def test_continuity_is_skipped_not_failed_while_a_load_holds_the_warehouse(workspace: Path) -> None:
    path = paths.warehouse_path()
    path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        report = validate_file(FIXTURES / "valid_2022.xml")
    finally:
        holder.kill()
        holder.wait()
    assert report.accepted
    assert any("Continuity: skipped" in note and "another process" in note for note in report.notes), report.notes
