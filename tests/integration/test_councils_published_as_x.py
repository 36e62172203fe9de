"""A release whose group totals hold councils it publishes as `x` (DfE estimated them): comparators stay DfE's.

The 2024 rows of the real release are changed so that Manchester's agency figures, Kent's vacancies and
Leeds's caseload are `x`, the regional and England totals unchanged (they still hold the estimates,
as DfE's do). The generator must see by arithmetic that the totals hold those councils (each total
is beyond its published councils' sum by more than their rounding) and give them the residual; the
pipeline then publishes region and England comparators equal to DfE's figures at DfE's rounding.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from orchestration.lib import measures as registry
from orchestration.lib import paths
from synthetic import generate_returns
from tests.integration.helpers import query_published, run_pipeline
from tests.release_layouts import current_rows, with_councils_as_x

YEAR = 2024
REGISTER = paths.PROJECT_ROOT / "dbt_project" / "seeds" / "benchmarks" / "reconciliation_exceptions.csv"
ESTIMATED = {
    YEAR: {
        "352": ("agency_fte", "agency_headcount", "agency_rate_fte", "agency_rate_headcount", "agency_cover_rate_fte"),
        "886": ("vacancy_fte", "vacancy_rate_fte", "vacancy_agency_cover_rate_fte"),
        "383": ("case_holders_fte", "cases", "caseload_fte"),
    }
}
AFFECTED = {  # the groups each estimate is in, and the rates built from the hidden counts
    "agency": (
        ("E12000002", "E92000001"),
        ("agency_rate_fte", "agency_rate_headcount", "agency_cover_rate_fte"),
    ),
    "vacancy": (("E12000008", "E92000001"), ("vacancy_rate_fte", "vacancy_agency_cover_rate_fte")),
    "caseload": (("E12000003", "E92000001"), ("caseload_fte",)),
}


def _shown(value: float, measure: str) -> Decimal:
    places = Decimal(1).scaleb(-registry.measures()[measure].decimals)
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


def _dfe_group_figures() -> dict[tuple[str, str], Decimal]:
    """DfE's published 2024 region, London sub-region and England rates, by (area code, measure)."""
    found = {}
    for row in current_rows():
        if row["time_period"] == str(YEAR) and row["geographic_level"] in ("Regional", "National"):
            code = row["region_code"] or row["country_code"]
            for name in registry.rates():
                try:
                    found[(code, name)] = Decimal(row[name])
                except ArithmeticError:
                    continue
    return found


@pytest.fixture(scope="module")
def comparators(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], float]:
    """Each published (area code, measure) comparator of 2024, as fct_workforce_benchmarks shows it."""
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("estimated")
        raw, data = root / "raw", root / "data"
        releases = raw / "dfe" / "csww_indicators"
        releases.mkdir(parents=True)
        with_councils_as_x(releases, ESTIMATED)
        (raw / "ofsted").mkdir()
        for path in (paths.PROJECT_ROOT / "raw" / "ofsted").glob("*.csv"):
            (raw / "ofsted" / path.name).write_bytes(path.read_bytes())
        patch.setenv("WORKFORCE_RAW_DIR", str(raw))
        patch.setenv("WORKFORCE_DATA_DIR", str(data))
        patch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
        patch.setenv("WORKFORCE_PSEUDONYM_KEY", "11" * 32)
        generate_returns(out_dir=raw / "returns", seed=5, years=[YEAR], la_codes=None)
        report = run_pipeline()
        assert report.published_version, report.describe()
        rows = query_published(
            "select distinct region_code, 'region', measure, region_value from fct_workforce_benchmarks "
            f"where time_period = {YEAR} union all "
            "select distinct 'E92000001', 'england', measure, england_value from fct_workforce_benchmarks "
            f"where time_period = {YEAR}"
        )
    return {(code, measure): value for code, _, measure, value in rows if value is not None}


def _rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["time_period"] == str(YEAR)]


def test_the_release_hides_the_councils_but_keeps_dfes_totals(tmp_path):
    written = {row["old_la_code"]: row for row in _rows_of(with_councils_as_x(tmp_path, ESTIMATED))}
    assert written["352"]["agency_fte"] == "x" and written["886"]["vacancy_fte"] == "x"
    real = {row["old_la_code"]: row for row in current_rows() if row["time_period"] == str(YEAR)}
    assert written[""]["agency_fte"] == real[""]["agency_fte"]  # England's total, unchanged


def _registered() -> set[tuple[str, str]]:
    """The 2024 (area, measure) pairs of the exceptions register: DfE's own figures that are not ratios of its
    totals whatever the councils add, which recomputed comparators cannot meet."""
    with REGISTER.open(newline="", encoding="utf-8") as handle:
        return {(r["area_code"], r["measure"]) for r in csv.DictReader(handle) if r["time_period"] == str(YEAR)}


def test_comparators_built_on_the_estimated_councils_equal_dfes(comparators):
    dfe, registered = _dfe_group_figures(), _registered()
    checked = [
        (code, measure)
        for codes, rates in AFFECTED.values()
        for code in codes
        for measure in rates
        if (code, measure) in comparators and (code, measure) not in registered
    ]
    misses = [
        f"{code} {measure}: {_shown(comparators[(code, measure)], measure)}, DfE {dfe[(code, measure)]}"
        for code, measure in checked
        if _shown(comparators[(code, measure)], measure) != dfe[(code, measure)]
    ]
    assert len(checked) == 8, checked
    assert misses == []


def test_every_region_and_england_comparator_equals_dfes(comparators):
    dfe = _dfe_group_figures()
    misses = [
        (code, measure)
        for (code, measure), value in comparators.items()
        if (code, measure) in dfe and _shown(value, measure) != dfe[(code, measure)]
    ]
    assert misses == []
