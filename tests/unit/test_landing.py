"""The landing zone's door: one decision per path, with the reason, and nothing outside it read.

Each class of awkward input gets one case: the decision, the words of its reason, and, through an
audit hook, proof that deciding never opens a file (so nothing outside the landing zone, nor inside
it, is read at the door). What these decisions do to a real run (earlier loads intact, published
tables identical, the summary and alerts) is tested end to end in tests/integration/test_landing_zone.py.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orchestration.lib import landing, paths
from orchestration.lib.sources import la_codes

TODAY = dt.date(2026, 12, 1)
SECRET = "root:x:0:0:this-must-never-be-read"

_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@contextmanager
def files_opened() -> Iterator[list[str]]:
    """Every file path opened in the block (Python's `open` audit event)."""
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


@pytest.fixture
def zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty landing zone, with a folder beside it holding a secret no one may read."""
    root = tmp_path / "raw"
    (root / "returns").mkdir(parents=True)
    (root / "dfe" / "csww_indicators").mkdir(parents=True)
    (root / "ofsted").mkdir()
    outside = tmp_path / "outside"
    (outside / "2023").mkdir(parents=True)
    (outside / "secret.xml").write_text(SECRET)
    (outside / "2023" / "csww_2023.xml").write_text(SECRET)
    monkeypatch.setenv("WORKFORCE_RAW_DIR", str(root))
    la_codes.local_authorities()  # the seed is read once, before anything is watched
    la_codes.successor_codes("909")
    return root


def put(root: Path, relative: str, text: str = "<Message/>") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def decide(root: Path) -> dict[str, landing.Decision]:
    with files_opened() as opened:
        zone = landing.decide(root, today=TODAY)
    assert opened == [], f"deciding opened {opened}"
    for decision in zone.decisions:
        assert SECRET not in decision.reason
    return {d.relative: d for d in zone.decisions}


def assert_decided(decision: landing.Decision, action: str, *words: str) -> None:
    assert decision.action == action, decision.describe()
    for word in words:
        assert word.lower() in decision.reason.lower(), decision.describe()


def test_an_office_lock_file_is_ignored_and_does_not_displace_the_return(zone: Path) -> None:
    put(zone, "returns/301/2023/csww_2023.xml")
    put(zone, "returns/301/2023/~$csww_2023.xml", "lock")

    decisions = decide(zone)

    assert_decided(decisions["returns/301/2023/~$csww_2023.xml"], landing.IGNORE, "Office lock file")
    assert_decided(decisions["returns/301/2023/csww_2023.xml"], landing.LOAD)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        (".DS_Store", "macOS"),
        ("Thumbs.db", "Windows thumbnail"),
        ("THUMBS.DB", "Windows thumbnail"),
        ("desktop.ini", "Windows folder-settings"),
        (".csww_2023.xml.swp", "swap file"),
        ("csww_2023.xml~", "backup"),
        (".~lock.csww_2023.xml#", "LibreOffice lock"),
    ],
)
def test_system_lock_and_swap_files_are_ignored_and_listed(zone: Path, name: str, words: str) -> None:
    put(zone, "returns/301/2023/csww_2023.xml")
    put(zone, f"returns/301/2023/{name}", "junk")

    decisions = decide(zone)

    assert_decided(decisions[f"returns/301/2023/{name}"], landing.IGNORE, words)
    assert_decided(decisions["returns/301/2023/csww_2023.xml"], landing.LOAD)
    assert f"returns/301/2023/{name}" not in landing.decide(zone, today=TODAY).fingerprint()


def test_an_upper_case_extension_is_a_return(zone: Path) -> None:
    put(zone, "returns/301/2023/CSWW_2023.XML")
    put(zone, "dfe/csww_indicators/RELEASE.CSV", "a,b\n")

    decisions = decide(zone)

    assert_decided(decisions["returns/301/2023/CSWW_2023.XML"], landing.LOAD)
    assert decisions["returns/301/2023/CSWW_2023.XML"].la_year == "301|2023"
    assert_decided(decisions["dfe/csww_indicators/RELEASE.CSV"], landing.LOAD)


def test_a_symlink_out_of_the_landing_zone_is_refused_without_being_read(zone: Path) -> None:
    put(zone, "returns/301/2023/csww_2023.xml")
    link = zone / "returns" / "302" / "2023" / "csww_2023.xml"
    link.parent.mkdir(parents=True)
    link.symlink_to(zone.parent / "outside" / "secret.xml")

    decisions = decide(zone)

    assert_decided(decisions["returns/302/2023/csww_2023.xml"], landing.REFUSE, "symbolic link", "outside", "copy")
    assert landing.decide(zone, today=TODAY).files_to_load(landing.RETURNS) == [zone / "returns/301/2023/csww_2023.xml"]


def test_a_symlink_inside_the_landing_zone_is_refused_too(zone: Path) -> None:
    real = put(zone, "returns/301/2023/csww_2023.xml")
    link = zone / "returns" / "301" / "2022" / "csww_2022.xml"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)

    decisions = decide(zone)

    assert_decided(decisions["returns/301/2022/csww_2022.xml"], landing.REFUSE, "symbolic link", "inside")
    assert_decided(decisions["returns/301/2023/csww_2023.xml"], landing.LOAD)


def test_a_symlinked_folder_is_refused_and_nothing_under_it_is_looked_at(zone: Path) -> None:
    (zone / "returns" / "302").mkdir()
    (zone / "returns" / "302" / "2023").symlink_to(zone.parent / "outside" / "2023", target_is_directory=True)

    decisions = decide(zone)

    assert_decided(decisions["returns/302/2023"], landing.REFUSE, "symbolic link", "folder")
    assert not [path for path in decisions if path.startswith("returns/302/2023/")]


def test_two_returns_in_one_folder_are_both_refused_naming_each_other(zone: Path) -> None:
    put(zone, "returns/301/2023/csww_2023.xml")
    put(zone, "returns/301/2023/csww_2023 (1).xml", "<Message>resubmitted?</Message>")
    put(zone, "returns/301/2023/~$csww_2023.xml", "lock")  # ignored: does not compete
    put(zone, "returns/302/2023/csww_2023.xml")

    decisions = decide(zone)

    for name in ("csww_2023.xml", "csww_2023 (1).xml"):
        decision = decisions[f"returns/301/2023/{name}"]
        assert_decided(decision, landing.REFUSE, "2 files compete for 301 2023", "csww_2023.xml", "csww_2023 (1).xml")
        assert_decided(decision, landing.REFUSE, "loaded before for this LA-year stays")
        assert decision.la_year == "301|2023"
    assert_decided(decisions["returns/302/2023/csww_2023.xml"], landing.LOAD)


def test_an_unknown_la_code_is_refused_with_the_closest_codes(zone: Path) -> None:
    put(zone, "returns/999/2023/csww_2023.xml")
    put(zone, "returns/Sunderlnd/2023/csww_2023.xml")

    decisions = decide(zone)

    assert_decided(decisions["returns/999/2023/csww_2023.xml"], landing.REFUSE, "999 is not a DfE old LA code")
    assert "did you mean" in decisions["returns/999/2023/csww_2023.xml"].reason
    assert_decided(
        decisions["returns/Sunderlnd/2023/csww_2023.xml"],
        landing.REFUSE,
        "not a 3-digit DfE old LA code",
        "did you mean 394 Sunderland",
    )


def test_a_council_that_no_longer_existed_on_the_census_date_is_refused(zone: Path) -> None:
    put(zone, "returns/909/2023/csww_2023.xml")
    put(zone, "returns/909/2022/csww_2022.xml")

    decisions = decide(zone)

    cumbria = decisions["returns/909/2023/csww_2023.xml"]
    assert_decided(
        cumbria, landing.REFUSE, "909 Cumbria did not exist on 30 September 2023", "942 Cumberland", "943 Westmorland"
    )
    assert cumbria.la_year == "909|2023", "the refusal shows against Cumbria's 2023 in the UI"
    assert_decided(decisions["returns/909/2022/csww_2022.xml"], landing.LOAD)


@pytest.mark.parametrize(
    ("relative", "words"),
    [
        ("returns/301/csww_2023.xml", "returns/<old_la_code>/<year>/<file>.xml"),
        ("returns/csww_2023.xml", "directly in the returns folder"),
        ("returns/301/2023/old/csww_2023.xml", "returns/<old_la_code>/<year>/<file>.xml"),
        ("returns/301/2022-23/csww_2023.xml", "not a collection year"),
        ("returns/301/2031/csww_2031.xml", "has not come yet"),
        ("returns/301/2015/csww_2015.xml", "from 2017"),
        ("csww_2023.xml", "ofsted/<file>.csv"),
        ("dfe/release.csv", "dfe/csww_indicators/<file>.csv"),
        ("misc/notes.txt", "returns/<old_la_code>/<year>/<file>.xml"),
        ("dfe/csww_indicators/2024/release.csv", "not in a sub-folder"),
        ("returns/301/2023/csww_2023.xlsx", "XML files"),
    ],
)
def test_a_file_outside_the_layout_is_refused_with_the_layout_it_should_have(
    zone: Path, relative: str, words: str
) -> None:
    put(zone, relative)

    decisions = decide(zone)

    assert_decided(decisions[relative], landing.REFUSE, words)


@pytest.mark.parametrize(
    ("relative", "read_from"),
    [
        ("dfe/csww_indicators/csww_indicators_2025.xlsx", "read from CSV files only"),
        ("ofsted/outcomes.pdf", "read from CSV, XLSX or ODS files only"),
        ("ofsted/outcomes", "read from CSV, XLSX or ODS files only"),
    ],
)
def test_a_release_of_a_type_not_read_yet_is_refused_never_silently_ignored(
    zone: Path, relative: str, read_from: str
) -> None:
    put(zone, relative, "PK\x03\x04")

    decisions = decide(zone)

    assert_decided(decisions[relative], landing.REFUSE, read_from, "not read yet")
    assert landing.decide(zone, today=TODAY).files_to_load(landing.source_of(relative)) == []


def test_a_pipe_is_refused_without_being_opened(zone: Path) -> None:
    fifo = zone / "returns" / "301" / "2023" / "csww_2023.xml"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)  # opening it to read would wait for a writer for ever

    decisions = decide(zone)

    assert_decided(decisions["returns/301/2023/csww_2023.xml"], landing.REFUSE, "not a regular file")


def test_the_generators_sidecars_and_the_readme_are_ignored(zone: Path) -> None:
    put(zone, "README.md", "# The landing zone")
    put(zone, "returns/301/2023/csww_2023.xml")
    put(zone, "returns/301/2023/csww_2023.generated.json", "{}")

    decisions = decide(zone)

    assert_decided(decisions["README.md"], landing.IGNORE, "documentation")
    assert_decided(decisions["returns/301/2023/csww_2023.generated.json"], landing.IGNORE, "sidecar")


def test_every_path_gets_exactly_one_decision_and_the_fingerprint_follows_changes(zone: Path) -> None:
    put(zone, "returns/301/2023/csww_2023.xml")
    put(zone, "returns/301/2023/.DS_Store")
    put(zone, "returns/909/2023/csww_2023.xml")
    before = landing.decide(zone, today=TODAY)
    files = sorted(str(p.relative_to(zone)) for p in zone.rglob("*") if p.is_file())

    assert sorted(d.relative for d in before.decisions) == files
    put(zone, "returns/301/2023/~$csww_2023.xml", "lock")
    assert landing.decide(zone, today=TODAY).fingerprint() == before.fingerprint(), "a lock file changes nothing"
    put(zone, "returns/301/2023/csww_2023.xml", "<Message>corrected</Message>")
    changed = landing.decide(zone, today=TODAY).fingerprint()
    assert changed["returns/301/2023/csww_2023.xml"] != before.fingerprint()["returns/301/2023/csww_2023.xml"]


def test_a_missing_landing_zone_has_nothing_to_decide(tmp_path: Path) -> None:
    assert landing.decide(tmp_path / "nowhere", today=TODAY).decisions == ()


def test_the_generator_writes_where_the_door_loads_from(zone: Path) -> None:
    from synthetic.landing import return_path, sidecar_path

    xml = return_path(zone / "returns", "301", 2023)
    put(zone, str(xml.relative_to(zone)))
    put(zone, str(sidecar_path(xml).relative_to(zone)), "{}")

    decisions = decide(zone)

    assert [d.la_year for d in decisions.values() if d.action == landing.LOAD] == ["301|2023"]
    assert [d.action for d in decisions.values() if d.relative.endswith(".json")] == [landing.IGNORE]


def test_the_watch_on_opened_files_does_see_a_file_being_read(zone: Path) -> None:
    secret = zone.parent / "outside" / "secret.xml"
    with files_opened() as opened:
        secret.read_text()
    assert opened == [str(secret)], "without this, 'deciding opened nothing' would prove nothing"


def test_the_landing_zone_readme_shows_the_layout_the_door_applies() -> None:
    readme = (paths.PROJECT_ROOT / "raw" / "README.md").read_text(encoding="utf-8")
    for source in landing.SOURCES:
        assert source.layout in readme, f"raw/README.md does not show {source.layout}"
