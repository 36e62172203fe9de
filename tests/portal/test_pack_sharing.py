"""A pack shows what its council may see under the data-sharing agreement, whoever builds it.

Scenario (conftest.py): DfE has published up to 2023, so the four councils' 2024 figures are
provisional. 301's neighbours include 203 (shares with every participant), 316 (shares with
nobody) and 330 (not in the agreement); 301 shares with its neighbours, 316 among them.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest

from orchestration import cli
from orchestration.lib import paths
from orchestration.lib.publish import publication
from orchestration.lib.publish.packs.model import THIN_PROVISIONAL_GROUP, WITHHELD_BY_AGREEMENT, WITHHELD_FLAG
from tests.portal.conftest import DFE_LAST_YEAR, token_for
from tests.portal.test_figures import benchmarks

PROVISIONAL_YEAR = DFE_LAST_YEAR + 1
SHARED, WITHHELD = "203", ("316", "330")


def _extract(code: str, folder: Path) -> dict[str, list[dict[str, str]]]:
    """`workforce extract` of the council's provisional-year pack as CSV: each file's rows by part."""
    target = folder / f"{code}.csv"
    assert (
        cli.main(["extract", "--la", code, "--year", str(PROVISIONAL_YEAR), "--format", "csv", "--out", str(target)])
        == 0
    )
    parts = {}
    for part in ("", "_neighbours", "_ranking", "_notes"):
        with (folder / f"{code}{part}.csv").open(encoding="utf-8", newline="") as handle:
            parts[part or "figures"] = list(csv.DictReader(handle))
    return parts


def _ranked_in_the_published_tables() -> set[str]:
    """Every council the published tables rank in the provisional year."""
    with duckdb.connect(str(paths.published_dir() / publication.PUBLISHED_DB_NAME), read_only=True) as con:
        rows = con.execute(
            "select distinct old_la_code from fct_workforce_benchmarks where time_period = ? and la_value is not null "
            "and la_rank is not null",
            [PROVISIONAL_YEAR],
        ).fetchall()
    return {r[0] for r in rows}


def test_a_pack_withholds_the_provisional_figures_not_shared_with_its_council(
    portal_root: Path, tmp_path: Path
) -> None:
    assert {"301", SHARED, *WITHHELD} <= _ranked_in_the_published_tables(), "the scenario ranks all four councils"
    pack = _extract("301", tmp_path)

    neighbours = {row["neighbour_old_la_code"]: row for row in pack["_neighbours"]}
    assert neighbours[SHARED]["value"] != "" and neighbours[SHARED]["flag"] != WITHHELD_FLAG
    for code in WITHHELD:
        assert neighbours[code]["value"] == "", f"{code}'s provisional figure is in 301's pack"
        assert neighbours[code]["flag"] == WITHHELD_FLAG
        assert neighbours[code]["flag_meaning"] == WITHHELD_BY_AGREEMENT

    ranked = {row["old_la_code"] for row in pack["_ranking"]}
    assert {"301", SHARED} <= ranked
    assert not ranked & set(WITHHELD), "a withheld council's value and rank are in the ranking"
    notes = " ".join(row["note"] for row in pack["_notes"])
    assert re.search(r"not shared with .+ under the data-sharing agreement", notes)


def test_a_pack_shows_what_is_shared_with_its_council(portal_root: Path, tmp_path: Path) -> None:
    # 301 shares with its neighbours, 316 among them; 203 with everyone.
    pack = _extract("316", tmp_path)
    ranked = {row["old_la_code"] for row in pack["_ranking"]}
    assert {"316", "301", SHARED} <= ranked and "330" not in ranked
    own = [r for r in pack["figures"] if r["role"] == "council" and r["time_period"] == str(PROVISIONAL_YEAR)]
    assert own and all(r["symbol"] != "x" or r["value"] == "" for r in own)


def test_the_portals_pack_for_a_council_withholds_the_same_figures(portal, client_for) -> None:
    token = token_for(portal, "officer@301.test")
    response = client_for().get(
        f"/api/v1/councils/301/pack?format=html&year={PROVISIONAL_YEAR}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    ranked = set(re.findall(r'data-role="ranking"[^>]*data-area="(\d{3})"', response.text))
    assert {"301", SHARED} <= ranked and not ranked & set(WITHHELD)
    neighbours = re.findall(r'data-role="neighbour"[^>]*data-area="(\d{3})"[^>]*>([^<]*)<', response.text)
    assert {text for code, text in neighbours if code in WITHHELD} == {f"x {WITHHELD_FLAG}"}
    assert any(code == SHARED and text[:1].isdigit() for code, text in neighbours)


@pytest.mark.parametrize("code", ["203", "301"])
def test_a_pack_withholds_every_thin_provisional_group_figure_the_portal_withholds(
    portal, portal_root: Path, tmp_path: Path, code: str
) -> None:
    """203's neighbour pool in 2024 is 301 alone (test_figures.py): shown, it gives 301's figure away."""
    figures = _extract(code, tmp_path)["figures"]
    year = str(PROVISIONAL_YEAR)
    pack = {(r["measure"], r["role"]): r for r in figures if r["time_period"] == year and r["role"] != "council"}
    page = benchmarks(portal, f"officer@{code}.test", code, PROVISIONAL_YEAR)
    withheld_on_the_page = 0
    for measure, shown in page.items():
        for role, key in (("statistical_neighbours", "neighbours"), ("region", "region"), ("england", "england")):
            if shown[key]["symbol_meaning"] == THIN_PROVISIONAL_GROUP:
                withheld_on_the_page += 1
                assert pack[(measure, role)]["value"] == "", (measure, role)
                assert pack[(measure, role)]["symbol_meaning"] == THIN_PROVISIONAL_GROUP
    assert withheld_on_the_page > 0
    if code == "203":
        neighbours = pack[("turnover_rate_fte", "statistical_neighbours")]
        assert neighbours["sn_mean_value"] == neighbours["sn_median_value"] == "", "the mean of one gives it away"


def test_a_council_outside_the_agreement_sees_its_own_provisional_figures_in_its_pack(
    portal_root: Path, tmp_path: Path
) -> None:
    # 330 sent a 2024 return but takes no part: an engineer's pack for it has its own figures only.
    pack = _extract("330", tmp_path)
    own = [r for r in pack["figures"] if r["role"] == "council" and r["time_period"] == str(PROVISIONAL_YEAR)]
    assert any(r["value"] != "" for r in own)
    ranked = {row["old_la_code"] for row in pack["_ranking"]}
    assert ranked == {"330"}, "nobody shares with a council outside the agreement"
