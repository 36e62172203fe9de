"""Synthetic returns re-aggregate to DfE's figures, follow the record rules and carry people over time.

One generation of a handful of councils over every published year is shared by the module (the
whole of England is simulated behind it, as always, so this takes a few seconds).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from pathlib import Path

import pytest

from orchestration.lib import paths
from synthetic import generate_returns
from tests.unit.test_generate_support import (
    ParsedReturn,
    aggregate,
    calibration_misses,
    first,
    flags,
    parse_return,
    published_rows,
    rates,
    return_rule_breaks,
)

COUNCILS = ["392", "394", "330", "213", "207", "420", "802", "835", "836", "837", "838", "839", "928", "940",
            "909", "942", "943", "301", "314"]  # fmt: skip
JOINT_AREA = {"314": "314 / 318", "940": "940 / 941"}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("returns")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_RAW_DIR", str(paths.PROJECT_ROOT / "raw"))
        generate_returns(out, seed=11, years=None, la_codes=COUNCILS)
    return out


@pytest.fixture(scope="module")
def returns(landing: Path) -> dict[tuple[str, int], ParsedReturn]:
    parsed = [parse_return(path) for path in sorted(landing.glob("*/*/csww_*.xml"))]
    return {(p.old_la_code, p.year): p for p in parsed}


@pytest.fixture(scope="module")
def published() -> dict[tuple[str, int], dict[str, str]]:
    return published_rows(paths.PROJECT_ROOT / "raw" / "dfe" / "csww_indicators")


def sidecar(landing: Path, old_la_code: str, year: int) -> dict:
    return json.loads((landing / old_la_code / str(year) / f"csww_{year}.generated.json").read_text())


def test_one_return_per_published_la_year_under_the_lead_code(returns, published):
    expected = {
        (old_la_code, year)
        for (area, year) in published
        for old_la_code in COUNCILS
        if area == JOINT_AREA.get(old_la_code, old_la_code)
    }
    assert set(returns) == expected
    assert ("940", 2021) in returns and ("941", 2021) not in returns
    assert ("838", 2019) in returns and ("835", 2019) not in returns


@pytest.mark.parametrize(
    ("old_la_code", "year"),
    [("392", 2024), ("838", 2019), ("942", 2023), ("940", 2021), ("314", 2017), ("330", 2024), ("420", 2017),
     ("420", 2018), ("213", 2024), ("394", 2023)],
)  # fmt: skip
def test_counts_and_rates_reproduce_dfe(returns, published, old_la_code, year):
    """North Tyneside 2024 is the row whose rates the rounded counts alone get wrong."""
    counts = aggregate(returns[(old_la_code, year)])
    assert calibration_misses(counts, published[(JOINT_AREA.get(old_la_code, old_la_code), year)]) == []


def test_every_return_misses_only_what_its_sidecar_owns_up_to(landing, returns, published):
    for (old_la_code, year), parsed in returns.items():
        misses = calibration_misses(aggregate(parsed), published[(JOINT_AREA.get(old_la_code, old_la_code), year)])
        assert {m.split(":")[0] for m in misses} == set(sidecar(landing, old_la_code, year)["unmet_rates"]), (
            old_la_code,
            year,
        )
        assert misses == [], (old_la_code, year)


def test_birmingham_2024_suppressed_values_come_from_the_west_midlands_residual(landing, returns):
    side = sidecar(landing, "330", 2024)
    imputed = {i["measure"]: i for i in side["imputed"]}
    assert {"agency_fte", "agency_headcount", "agency_cover_fte", "case_holders_fte", "cases"} <= set(imputed)
    assert "residual" in imputed["agency_fte"]["method"]
    counts = aggregate(returns[("330", 2024)])
    assert float(round(counts["agency_fte"], 1)) == pytest.approx(569.5 - 519.7)  # DfE's region total less the rest
    assert counts["agency_headcount"] == 52
    assert "imputed=" in returns[("330", 2024)].software_code
    assert "agency_fte" in returns[("330", 2024)].software_code
    # The sidecar's rates for the suppressed cells are the ones the file itself gives.
    achieved = rates(counts, 2024)
    for name in ("agency_rate_fte", "caseload_fte", "absence_rate_fte"):
        assert side["rates"][name]["published"] is None
        assert float(achieved[name]) == pytest.approx(side["rates"][name]["achieved"], abs=1e-3)
    assert 10 <= float(achieved["caseload_fte"]) <= 25


def test_isles_of_scilly_and_westminster_imputations_are_recorded_and_plausible(landing, returns):
    scilly = {i["measure"]: i for i in sidecar(landing, "420", 2017)["imputed"]}
    assert scilly["working_days_lost_fte"]["symbol"] == "c"
    north_somerset = {i["measure"]: i for i in sidecar(landing, "802", 2017)["imputed"]}
    assert "257.6" in north_somerset["working_days_lost_fte"]["method"]
    westminster = sidecar(landing, "213", 2024)
    measures = {i["measure"] for i in westminster["imputed"]}
    assert {"agency_fte", "agency_cover_fte"} <= measures
    counts = aggregate(returns[("213", 2024)])
    assert 0 < counts["agency_fte"] <= counts["agency_headcount"]
    assert counts["agency_cover_fte"] <= counts["agency_fte"]
    assert sidecar(landing, "392", 2024)["imputed"] == []


def test_every_record_follows_the_rules(returns):
    breaks = {key: return_rule_breaks(parsed)[:3] for key, parsed in returns.items()}
    assert {key: found for key, found in breaks.items() if found} == {}


def test_year_variant_elements(returns):
    assert returns[("392", 2023)].block_name == "LALevelVacancies"
    names_2023 = {tag for worker in returns[("392", 2023)].workers for tag, _ in worker}
    names_2024 = {tag for worker in returns[("392", 2024)].workers for tag, _ in worker}
    assert "GenderCurrent" in names_2023 and "Sex" not in names_2023
    assert "Sex" in names_2024 and "GenderCurrent" not in names_2024
    assert {"QualInst", "CFKSSstatus"} <= names_2024
    assert not {"BaseSalary", "RRPayments", "OtherPayments"} & names_2024


def test_people_in_post_last_year_are_mostly_still_there(returns):
    shares = []
    for (old_la_code, year), parsed in returns.items():
        previous = returns.get((old_la_code, year - 1))
        now = _in_post(parsed)
        if previous is None or not now:
            continue
        before = _in_post(previous)
        shares.append(len(now & before) / len(now))
        # Same person, same post: the start date of a continuing post does not change.
        starts_now, starts_before = _in_post_starts(parsed), _in_post_starts(previous)
        assert all(starts_before[swe] == starts_now[swe] for swe in now & before if swe in starts_before)
    assert statistics.mean(shares) > 0.75


def test_nobody_whose_post_began_before_last_census_is_missing_from_last_years_return(landing, returns):
    """DfE's continuity check (rules.yml, new-worker-started-earlier) finds nothing in these councils' returns:
    where the published counts need more people than last year's return had, people holding two posts
    leave one and stay in the other."""
    strangers, both = {}, 0
    for (old_la_code, year), parsed in returns.items():
        previous = returns.get((old_la_code, year - 1))
        if previous is None:
            continue
        known = {first(w, "SWENo") for w in previous.workers}
        last_census = dt.date(year - 1, 9, 30).isoformat()
        found = [
            first(w, "SWENo")
            for w in parsed.workers
            if first(w, "AgencyWorker") == "0" and first(w, "RoleStartDate") <= last_census
            and first(w, "SWENo") not in known
        ]  # fmt: skip
        if found:
            strangers[(old_la_code, year)] = len(found)
        leaving = {first(w, "SWENo") for w in parsed.workers if flags(w, year).leaver}
        both += len(leaving & _in_post(parsed))
        assert (
            len(leaving & _in_post(parsed))
            >= sidecar(landing, old_la_code, year)["continuity"]["in_post_and_left_a_second_post"]
        )
    assert strangers == {}
    assert both > 0


def test_people_of_a_reorganised_council_continue_in_its_successors(returns):
    dorset_2018 = set().union(*(_in_post(returns[(old_la_code, 2018)]) for old_la_code in ("835", "836", "837")))
    assert len(_in_post(returns[("839", 2019)]) & dorset_2018) / len(_in_post(returns[("839", 2019)])) > 0.6
    cumbria = _in_post(returns[("909", 2022)])
    assert len(_in_post(returns[("942", 2023)]) & cumbria) / len(_in_post(returns[("942", 2023)])) > 0.6
    northamptonshire = _in_post(returns[("928", 2020)])
    assert len(_in_post(returns[("940", 2021)]) & northamptonshire) / len(_in_post(returns[("940", 2021)])) > 0.6


def test_leavers_to_another_council_start_there_with_the_same_swe_number(returns):
    moved = {
        (first(w, "SWENo"), old_la_code, year)
        for (old_la_code, year), parsed in returns.items()
        for w in parsed.workers
        if first(w, "LeaverDestination") == "1"
    }
    arrived = {
        (first(w, "SWENo"), old_la_code, year)
        for (old_la_code, year), parsed in returns.items()
        for w in parsed.workers
        if flags(w, year).starter and first(w, "StartOrigin") == "2"
    }
    movers = [
        (swe, origin, destination)
        for swe, origin, left in moved
        for swe2, destination, started in arrived
        if swe == swe2 and origin != destination and started in (left, left + 1)
    ]
    assert movers


def _in_post(parsed: ParsedReturn) -> set[str]:
    return {first(w, "SWENo") for w in parsed.workers if (f := flags(w, parsed.year)).in_post and not f.agency}


def _in_post_starts(parsed: ParsedReturn) -> dict[str, str]:
    people = {}
    for w in parsed.workers:
        if flags(w, parsed.year).in_post and first(w, "AgencyWorker") == "0":
            people.setdefault(first(w, "SWENo"), first(w, "RoleStartDate"))
    return people
