"""`workforce generate` in the landing zone: deterministic bytes, never overwriting what it did not write,
year variants from whatever releases are there."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from orchestration.lib import paths
from synthetic import generate_returns
from tests.unit.test_generate_support import aggregate, parse_return, return_rule_breaks

REAL_RELEASES = paths.PROJECT_ROOT / "raw" / "dfe" / "csww_indicators"


@pytest.fixture
def real_releases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKFORCE_RAW_DIR", str(paths.PROJECT_ROOT / "raw"))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _generate(out: Path, seed: int = 5, la_codes: list[str] | None = None, years: list[int] | None = None, **kw):
    return generate_returns(out, seed=seed, years=years or [2017], la_codes=la_codes or ["392", "420"], **kw)


@pytest.mark.usefixtures("real_releases")
def test_same_seed_same_bytes_and_another_seed_other_bytes(tmp_path):
    _generate(tmp_path / "a")
    _generate(tmp_path / "b")
    _generate(tmp_path / "c", seed=6)
    first, second, other = (_files(tmp_path / name) for name in "abc")
    assert first == second
    assert len(first) == 4  # two returns, each with its sidecar
    assert first["392/2017/csww_2017.xml"] != other["392/2017/csww_2017.xml"]


@pytest.mark.usefixtures("real_releases")
def test_a_return_does_not_depend_on_which_other_councils_are_asked_for(tmp_path):
    _generate(tmp_path / "alone", la_codes=["392"])
    _generate(tmp_path / "with_others", la_codes=["392", "330", "420"])
    path = "392/2017/csww_2017.xml"
    assert _files(tmp_path / "alone")[path] == _files(tmp_path / "with_others")[path]


@pytest.mark.usefixtures("real_releases")
def test_never_overwrites_a_file_it_did_not_write(tmp_path):
    foreign = tmp_path / "392" / "2017" / "csww_2017.xml"
    foreign.parent.mkdir(parents=True)
    foreign.write_bytes(b"<Message>a council's real return</Message>\n")
    _generate(tmp_path, la_codes=["420"])
    edited = tmp_path / "420" / "2017" / "csww_2017.xml"
    edited.write_bytes(edited.read_bytes().replace(b"<Cases30>", b"<Cases30>1"))
    before = _files(tmp_path)

    summary = _generate(tmp_path)

    assert _files(tmp_path) == before
    assert sorted(summary.not_ours) == [foreign, edited]
    assert summary.written == 0
    assert "2 not ours" in summary.describe()


@pytest.mark.usefixtures("real_releases")
def test_an_identical_return_of_ours_is_left_untouched(tmp_path):
    _generate(tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.xml")}

    summary = _generate(tmp_path)

    assert (summary.written, summary.unchanged, summary.not_ours) == (0, 2, [])
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.xml")} == stamps
    assert summary.records > 0


@pytest.mark.usefixtures("real_releases")
def test_a_return_of_ours_from_another_seed_is_replaced(tmp_path):
    _generate(tmp_path, seed=1)
    summary = _generate(tmp_path, seed=2)
    assert summary.written == 2
    assert json.loads((tmp_path / "392/2017/csww_2017.generated.json").read_text())["seed"] == 2


@pytest.mark.usefixtures("real_releases")
def test_scale_multiplies_the_workforce_and_says_so(tmp_path):
    messages: list[str] = []
    summary = _generate(tmp_path, la_codes=["392"], scale=3, progress=messages.append)
    side = json.loads((tmp_path / "392/2017/csww_2017.generated.json").read_text())
    assert side["calibrated_to_dfe"] is False
    assert int(side["published"]["inpost_headcount"]) * 3 == int(side["targets"]["inpost_headcount"])
    counts = aggregate(parse_return(tmp_path / "392/2017/csww_2017.xml"))
    assert counts["inpost_headcount"] == 3 * 97
    assert "scale=3" in parse_return(tmp_path / "392/2017/csww_2017.xml").software_code
    assert "scale 3" in summary.describe()
    assert any(message.startswith("2017:") for message in messages)


@pytest.mark.usefixtures("real_releases")
def test_unknown_years_and_councils_are_refused(tmp_path):
    with pytest.raises(ValueError, match="2031"):
        _generate(tmp_path, years=[2031])
    with pytest.raises(ValueError, match="999"):
        _generate(tmp_path, la_codes=["999"])


def _small_release_with_2025(raw: Path) -> None:
    """North Tyneside and its region from the real release, plus a newer release carrying 2025."""
    with next(REAL_RELEASES.glob("*.csv")).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    keep = [r for r in rows if r["old_la_code"] in ("", "392") and r["region_code"] in ("", "E12000001")]
    folder = raw / "dfe" / "csww_indicators"
    folder.mkdir(parents=True)
    for name, selected in (
        ("csww_indicators_2017_to_2024.csv", keep),
        ("csww_indicators_2025.csv", [{**r, "time_period": "2025"} for r in keep if r["time_period"] == "2024"]),
    ):
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(selected)


def test_a_newer_release_brings_its_year_and_that_years_elements(tmp_path, monkeypatch):
    _small_release_with_2025(tmp_path / "raw")
    monkeypatch.setenv("WORKFORCE_RAW_DIR", str(tmp_path / "raw"))

    summary = generate_returns(tmp_path / "out", seed=3, years=None, la_codes=["392"])

    assert summary.written == 9  # 2017-2025, no year hard-coded
    old, new = (parse_return(tmp_path / f"out/392/{y}/csww_{y}.xml") for y in (2024, 2025))
    assert old.block_name == "LALevelVacancies" and new.block_name == "LALevel"
    assert "PayHousing" in new.la_level and "PayHousing" not in old.la_level
    names = {tag for worker in new.workers for tag, _ in worker}
    assert {"BaseSalary", "RRPayments", "OtherPayments", "Sex"} <= names
    assert not {"QualInst", "CFKSSstatus", "GenderCurrent"} & names
    assert return_rule_breaks(new) == []
    assert aggregate(new)["inpost_headcount"] == 180
