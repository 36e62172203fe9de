"""Peer packs without a pipeline: which council a request means, the small-number rule, how a
figure is written, and where each year's figures are said to come from."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import pytest

from orchestration.lib import measures as registry
from orchestration.lib.publish.packs import default_path
from orchestration.lib.publish.packs.format import change_text, published, value_text
from orchestration.lib.publish.packs.lookup import PackError, choose_year, councils, predecessors, resolve
from orchestration.lib.publish.packs.model import Measure, YearSource
from orchestration.lib.publish.packs.notes import source_flags
from orchestration.lib.publish.packs.suppression import PEOPLE_BASES, is_small

# A few rows of dim_local_authorities: code, name, ONS code, status, joint units, predecessors, successors.
COUNCILS = [
    ("314", "Kingston upon Thames", "E09000021", "live", ["314 / 318"], [], []),
    ("318", "Richmond upon Thames", "E09000027", "live", ["314 / 318"], [], []),
    (
        "314 / 318",
        "Kingston upon Thames / Richmond upon Thames",
        "E09000021 / E09000027",
        "joint reporting unit",
        [],
        [],
        [],
    ),
    ("810", "Kingston upon Hull, City of", "E06000010", "live", [], [], []),
    ("835", "Dorset", "E10000009", "terminated", [], [], ["838", "839"]),
    ("838", "Dorset", "E06000059", "live", [], ["835"], []),
    ("928", "Northamptonshire", "E10000021", "terminated", [], [], ["940", "941"]),
    ("940", "North Northamptonshire", "E06000061", "live", ["940 / 941"], ["928"], []),
    ("941", "West Northamptonshire", "E06000062", "live", ["940 / 941"], ["928"], []),
    (
        "940 / 941",
        "North Northamptonshire / West Northamptonshire",
        "E06000061 / E06000062",
        "joint reporting unit",
        [],
        [],
        [],
    ),
]
YEARS = {"314 / 318": range(2017, 2025), "928": range(2017, 2021), "940 / 941": range(2021, 2025)}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """An in-memory stand-in for the two published tables the lookup reads."""
    db = duckdb.connect()
    db.execute(
        """
        create table dim_local_authorities (
            old_la_code varchar, la_name varchar, new_la_code varchar, la_status varchar, region_code varchar,
            region_name varchar, is_joint_reporting_unit boolean, member_old_la_codes varchar[],
            joint_reporting_unit_codes varchar[], predecessor_old_la_codes varchar[],
            successor_old_la_codes varchar[], statistical_neighbours_2021 varchar[],
            statistical_neighbours_2025 varchar[], first_year_with_data integer, last_year_with_data integer
        )
        """
    )
    for code, name, ons, status, joint, before, after in COUNCILS:
        members = code.split(" / ")
        db.execute(
            "insert into dim_local_authorities values (?, ?, ?, ?, 'E12', 'Region', ?, ?, ?, ?, ?, [], [], null, null)",
            [code, name, ons, status, len(members) > 1, members, joint, before, after],
        )
    db.execute(
        "create table fct_workforce_indicators (time_period integer, geographic_level varchar, area_code varchar)"
    )
    for code, years in YEARS.items():
        for year in years:
            db.execute("insert into fct_workforce_indicators values (?, 'Local authority', ?)", [year, code])
    return db


@pytest.mark.parametrize(
    ("asked", "unit", "asked_for"),
    [
        ("928", "928", "928"),
        ("northamptonshire", "928", "928"),
        ("E10000021", "928", "928"),
        ("940", "940 / 941", "940"),
        ("West Northamptonshire", "940 / 941", "941"),
        ("940/941", "940 / 941", "940 / 941"),
        ("Kingston upon Thames", "314 / 318", "314"),
        ("Dorset", "838", "838"),  # the live Dorset; the old county is still reachable as 835
        ("835", "835", "835"),
    ],
)
def test_a_request_resolves_to_its_reporting_unit(con, asked: str, unit: str, asked_for: str) -> None:
    request = resolve(councils(con), asked)
    assert (request.unit.code, request.asked_for.code) == (unit, asked_for)


def test_an_unknown_name_fails_with_the_closest_names_and_their_codes(con) -> None:
    with pytest.raises(PackError) as failure:
        resolve(councils(con), "Kingston")
    message = str(failure.value)
    assert failure.value.exit_code == 2
    assert "No council in the published tables matches 'Kingston'" in message
    lines = message.splitlines()
    # Names containing what was typed come first.
    assert lines[1].split() == ["314", "Kingston", "upon", "Thames"]
    assert any(line.split()[:1] == ["810"] for line in lines)


def test_an_unknown_code_suggests_the_nearest_codes(con) -> None:
    with pytest.raises(PackError) as failure:
        resolve(councils(con), "939")
    assert "  940  North Northamptonshire" in str(failure.value)


def test_year_defaults_to_the_latest_and_an_unknown_year_lists_those_available(con) -> None:
    every = councils(con)
    joint = every["940 / 941"]
    assert predecessors(every, joint) == ("928",)
    assert choose_year(con, joint, None, ("928",)) == 2024
    with pytest.raises(PackError) as failure:
        choose_year(con, joint, 2019, ("928",))
    assert str(failure.value).startswith("North Northamptonshire / West Northamptonshire (940 / 941) has no figures")
    assert "Years available: 2021\N{EN DASH}2024. Before 2021 ask for the council it replaced: 928." in str(
        failure.value
    )
    with pytest.raises(PackError) as failure:
        choose_year(con, every["928"], 2022, ())
    assert "From 2021 ask for the councils that replaced it: 940, 941." in str(failure.value)


def test_small_counts_and_the_rates_built_from_them_are_withheld() -> None:
    counts = {"inpost_headcount": 40, "leavers_headcount": 3, "starters_headcount": 0, "agency_headcount": 2}
    assert is_small("leavers_fte", counts, {})
    assert is_small("turnover_rate_fte", counts, {}), "3 leavers over a known in-post count give the count back"
    assert not is_small("starters_headcount", counts, {}), "zero describes nobody"
    assert not is_small("inpost_fte", counts, {})
    assert is_small("agency_rate_fte", counts, {})
    assert not is_small("caseload_fte", counts, {}), "case holders: 40 in post plus 2 agency"
    assert not is_small("vacancy_fte", counts, {}), "vacancies are posts, not people"
    assert is_small("absence_rate_fte", {**counts, "inpost_headcount": 4}, {})
    assert is_small("inpost_fte", {**counts, "inpost_headcount": None}, {"inpost_headcount": "c"})
    assert not is_small("inpost_fte", {**counts, "inpost_headcount": None}, {"inpost_headcount": "u"})


def test_every_measure_has_a_suppression_rule() -> None:
    assert set(PEOPLE_BASES) == set(registry.measures())


def _measure(name: str, unit: str, decimals: int) -> Measure:
    """As dim_measures publishes it; only the unit and decimals matter to how a figure is written."""
    return Measure(name, name, "count", unit, decimals, None, False, False, "")


def test_figures_are_written_at_published_precision_with_their_unit() -> None:
    measures = {
        m.name: m
        for m in (
            _measure("turnover_rate_fte", "%", 1),
            _measure("vacancy_rate_fte", "%", 1),
            _measure("cases", "cases", 0),
            _measure("inpost_fte", "FTE", 1),
            _measure("caseload_fte", "cases per FTE", 1),
        )
    }
    assert value_text(measures["turnover_rate_fte"], 12.5) == "12.5%"
    assert value_text(measures["cases"], 4254.0) == "4,254"
    assert value_text(measures["inpost_fte"], 1234.5) == "1,234.5"
    assert value_text(measures["caseload_fte"], 15.0) == "15.0"
    assert value_text(measures["caseload_fte"], None, "u") == "u"
    assert value_text(measures["caseload_fte"], float("nan")) == "x"
    assert change_text(measures["vacancy_rate_fte"], -5.2) == "-5.2 pp"
    assert change_text(measures["vacancy_rate_fte"], 0.0) == "0.0 pp"
    assert change_text(measures["caseload_fte"], 0.7) == "+0.7"
    assert change_text(measures["caseload_fte"], None) == ""


def test_each_years_source_is_flagged_with_the_return_used_and_why() -> None:
    """Years are told newest first, years with the same story together, in the published note's words."""
    quarantined = (
        "A later return (received 2025-02-01) failed validation with 3 error(s) and was quarantined, so the return "
        "loaded on 2025-01-10 is used."
    )
    dfe = "No return loaded: DfE's published figures are used."
    pack = SimpleNamespace(
        year_sources={
            2024: YearSource(2024, "330", "Birmingham", "council_return", "quarantined", quarantined, "aaa"),
            2023: YearSource(2023, "330", "Birmingham", "dfe_published", "not_received", dfe),
            2022: YearSource(2022, "330", "Birmingham", "dfe_published", "not_received", dfe),
        }
    )
    assert source_flags(pack) == [f"2024: {quarantined}", f"2022\N{EN DASH}2023: {dfe}"]


def test_display_rounding_is_half_up_on_the_exact_value() -> None:
    """DfE rounds half up: 23 / 80 = 28.75 shows as 28.8. The warehouse publishes the double nearest
    the exact value (2300 / 80); Python's round() would give 28.7 for 28.65's double and round
    ties to even (28.25 to 28.2)."""
    assert published(2300 / 80, 1) == 28.8
    assert published(28.65, 1) == 28.7
    assert published(28.25, 1) == 28.3
    assert published(-0.05, 1) == -0.1  # a change: ties away from zero, as DfE's rounding of a negative
    assert published(12.5, 0) == 13.0
    assert published(12.449999, 1) == 12.4
    assert published(None, 1) is None


def test_default_path_is_under_the_data_folder(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("WORKFORCE_DATA_DIR", str(tmp_path))
    assert default_path("940 / 941", 2024, "xlsx") == tmp_path / "packs" / "940-941_2024.xlsx"
