"""Regions, London sub-regions and England recomputed from every generated return reproduce DfE's group rows.

All returns of 2019 (no suppressed cell) and 2024 (Birmingham, Westminster, Sunderland and others
suppressed) are generated once for the module and re-aggregated with the independent aggregator;
group counts are their sums, group rates ratios of those sums. The only misses allowed are the
exceptions `group_total_exceptions` lists: DfE totals that are not sums of their LA rows.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from orchestration.lib import paths
from synthetic import generate_returns
from synthetic.group_exceptions import group_total_exceptions
from tests.unit.test_generate_support import (
    aggregate,
    calibration_misses,
    group_counts,
    group_members,
    parse_return,
    published_group_rows,
    published_number,
    published_rows,
    rates,
)

RELEASES = paths.PROJECT_ROOT / "raw" / "dfe" / "csww_indicators"
YEARS = (2019, 2024)
DECIMAL_COUNTS = ("inpost_fte", "starters_fte", "leavers_fte", "agency_fte", "agency_cover_fte", "vacancy_fte",
                  "case_holders_fte", "working_days_lost_fte")  # fmt: skip
WHOLE_COUNTS = ("inpost_headcount", "starters_headcount", "leavers_headcount", "agency_headcount", "cases")
ONE_DECIMAL = Decimal("0.1")


def shown(value: Decimal | int) -> Decimal:
    """As DfE publishes it: half-up to one decimal place (whole numbers are exact already)."""
    return Decimal(value).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("all_returns")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_RAW_DIR", str(paths.PROJECT_ROOT / "raw"))
        generate_returns(out, seed=23, years=list(YEARS), la_codes=None)
    return out


@pytest.fixture(scope="module")
def counts(landing: Path) -> dict[int, dict[str, dict[str, Decimal | int]]]:
    """Each year's counts per return LEA."""
    found: dict[int, dict[str, dict[str, Decimal | int]]] = {year: {} for year in YEARS}
    for path in sorted(landing.glob("*/*/csww_*.xml")):
        parsed = parse_return(path)
        found[parsed.year][parsed.old_la_code] = aggregate(parsed)
    return found


@pytest.fixture(scope="module")
def la_rows() -> dict[tuple[str, int], dict[str, str]]:
    return published_rows(RELEASES)


@pytest.fixture(scope="module")
def exceptions() -> list[dict]:
    return group_total_exceptions(RELEASES)


@pytest.fixture(scope="module")
def excepted(exceptions) -> set[tuple[int, str, str]]:
    return {(e["time_period"], e["area_code"], e["measure"]) for e in exceptions}


def _group_rows(counts, la_rows, year: int):
    """(area code, published row, recomputed counts) of every group row of `year`."""
    members = group_members(la_rows, year)
    published = published_group_rows(RELEASES)
    return [(code, published[(code, year)], group_counts(counts[year], leas)) for code, leas in sorted(members.items())]


@pytest.mark.parametrize("year", YEARS)
def test_every_la_row_still_reproduces_dfe(counts, la_rows, year):
    misses = {
        area: found
        for (area, row_year), row in la_rows.items()
        if row_year == year and (found := calibration_misses(counts[year][area.split(" / ")[0]], row))
    }
    assert misses == {}


@pytest.mark.parametrize("year", YEARS)
def test_group_counts_are_the_sums_of_their_la_rows(counts, la_rows, excepted, year):
    groups = _group_rows(counts, la_rows, year)
    assert len(groups) == 12  # England, 9 regions, Inner and Outer London
    misses = []
    for code, row, summed in groups:
        for name in (*DECIMAL_COUNTS, *WHOLE_COUNTS):
            published = published_number(row[name])
            if published is None or (year, code, name) in excepted:
                continue
            if shown(summed[name]) != published:
                misses.append(f"{code} {name}: {summed[name]} is not {published}")
    assert misses == []


@pytest.mark.parametrize("year", YEARS)
def test_group_rates_are_ratios_of_the_summed_counts(counts, la_rows, excepted, year):
    """Every return carries every count, so no member is left out of a rate for lack of one side."""
    misses = []
    for code, row, summed in _group_rows(counts, la_rows, year):
        for name, value in rates(summed, year).items():
            published = published_number(row[name])  # East Midlands 2019 vacancy cover rate: 'u'
            if published is None or (year, code, name) in excepted:
                continue
            if value is None or shown(value) != published:
                misses.append(f"{code} {name}: {value:.3f} is not {published}")
    assert misses == []


def test_2019_has_no_exceptions_and_2024_lists_what_dfe_left_out(exceptions):
    by_key = {(e["time_period"], e["area_code"], e["measure"]): e for e in exceptions}
    assert not [key for key in by_key if key[0] == 2019]
    # DfE's West Midlands days lost leave Birmingham ('u') out: its published councils add up to the total.
    days = by_key[(2024, "E12000005", "working_days_lost_fte")]
    assert (days["claim"], days["councils"]) == ("total_leaves_out", "330")
    # Its agency total holds Birmingham (recovered from the residual), but its agency rate does not.
    assert (2024, "E12000005", "agency_fte") not in by_key
    agency_rate = by_key[(2024, "E12000005", "agency_rate_fte")]
    assert (agency_rate["claim"], agency_rate["councils"]) == ("rate_not_ratio_of_totals", "330")
    # The North East's leavers total holds Sunderland's 2.0 FTE, so it is fitted, not an exception.
    assert (2024, "E12000001", "leavers_fte") not in by_key


def test_sidecars_record_how_far_group_fitting_moved_each_target(landing):
    moved = []
    for path in sorted(landing.glob("*/2024/csww_2024.generated.json")):
        side = json.loads(path.read_text())
        moved += [Decimal(amount) for amount in side["group_fitting"].values()]
    assert len(moved) > 100
    assert all(0 < abs(amount) < Decimal("0.1") for amount in moved)  # inside the target's own rounding
