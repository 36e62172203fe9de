"""Recomputed measures equal DfE's published ones, for councils, regions and England.

Two whole collection years of synthetic returns (every council, so every region and England is
built from returns alone) go through the full pipeline; the reconciliation mart must then show
no difference beyond DfE's rounding that the exceptions register does not explain. In the
warehouse this is a warning (a corrected return may rightly differ); here, on returns calibrated
to DfE, it is a hard failure that names every LA-year and measure that misses.
"""

from __future__ import annotations

import pytest

from orchestration.lib import paths
from synthetic import generate_returns
from tests.integration.helpers import query_published, run_pipeline

YEARS = [2019, 2024]  # a year with no DfE exclusions, and the leap year with the most


@pytest.mark.usefixtures("workspace")
def test_every_recomputed_measure_matches_dfe_within_rounding_or_is_registered() -> None:
    generate_returns(out_dir=paths.returns_dir(), seed=2017, years=YEARS, la_codes=None)
    report = run_pipeline()
    assert report.published_version, report.describe()

    by_level = dict(
        query_published(
            "select geographic_level, count(*) from fct_published_reconciliation "
            f"where time_period in ({', '.join(map(str, YEARS))}) group by 1"
        )
    )
    # Every council, all 11 regional areas and England, across all 22 measures where published.
    assert by_level["Local authority"] > 2 * 150 * 18
    assert by_level["Regional"] > 2 * 11 * 18
    assert by_level["National"] > 2 * 18

    misses = query_published(
        "select time_period, area_name, measure, recomputed_rounded, published_value "
        "from fct_published_reconciliation where reconciliation_status = 'unexplained' "
        "order by 1, 2, 3"
    )
    assert misses == [], "\n".join(
        f"{y} {area}: {m} recomputed {ours}, DfE {theirs}" for y, area, m, ours, theirs in misses
    )
    registered = query_published(
        "select count(*) from fct_published_reconciliation where reconciliation_status = 'registered_exception'"
    )
    assert registered[0][0] > 0, "2024 has DfE totals that leave out suppressed councils"
