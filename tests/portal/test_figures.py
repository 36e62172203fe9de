"""What each person sees of the figures: own provisional figures, others' only as the agreement
says, analysts everything; values equal the published tables rounded as DfE rounds them.

Expected values come from SQL written here against the published DuckDB, never from the portal's
own code.
"""

from __future__ import annotations

import duckdb
import pytest
from fastapi.testclient import TestClient

from portal.agreement import AgreementError, load
from tests.portal.conftest import sign_in, token_for

PROVISIONAL_YEAR = 2024  # the scenario's DfE release stops at 2023


def published_value(root, code: str, year: int, measure: str) -> float:
    database = root / "data" / "published" / "benchmarks.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        (value,) = con.execute(
            "select la_value from fct_workforce_benchmarks where old_la_code = ? and time_period = ? and measure = ?",
            [code, year, measure],
        ).fetchone()
    return value


def benchmarks(portal, email: str, code: str, year: int) -> dict:
    with TestClient(portal.app) as client:
        headers = {"Authorization": f"Bearer {token_for(portal, email)}"}
        response = client.get(f"/api/v1/councils/{code}/benchmarks?year={year}", headers=headers)
        assert response.status_code == 200, response.text
        return {m["measure"]: m for m in response.json()["measures"]}


def test_a_council_sees_its_own_provisional_figures_marked(portal, portal_root) -> None:
    own = benchmarks(portal, "officer@301.test", "301", PROVISIONAL_YEAR)["turnover_rate_fte"]
    assert own["council"]["provisional"] is True
    assert own["council"]["value"] == round(published_value(portal_root, "301", 2024, "turnover_rate_fte"), 1)
    earlier = benchmarks(portal, "officer@301.test", "301", 2023)["turnover_rate_fte"]
    assert earlier["council"]["provisional"] is False
    assert earlier["council"]["value"] == round(published_value(portal_root, "301", 2023, "turnover_rate_fte"), 1)


@pytest.mark.parametrize(
    ("viewer", "owner", "shown"),
    [
        ("officer@301.test", "203", True),  # 203 shares with every participant
        ("officer@301.test", "316", False),  # 316 shares with nobody
        ("officer@301.test", "330", False),  # Birmingham does not take part
        ("officer@316.test", "301", True),  # 301 shares with its statistical neighbours: 316 is one
        ("officer@202.test", "301", False),  # ...and Camden is not
        ("analyst@region.test", "316", True),  # analysts read every published table
    ],
)
def test_others_provisional_figures_follow_the_agreement(portal, portal_root, viewer, owner, shown) -> None:
    figure = benchmarks(portal, viewer, owner, PROVISIONAL_YEAR)["turnover_rate_fte"]["council"]
    value = round(published_value(portal_root, owner, 2024, "turnover_rate_fte"), 1)
    if shown:
        assert figure["value"] == value and figure["symbol"] is None
    else:
        assert figure["value"] is None and figure["symbol"] == "x"
        assert "agreement" in figure["symbol_meaning"]
    # Published years are every council's to see.
    published = benchmarks(portal, viewer, owner, 2023)["turnover_rate_fte"]["council"]
    assert published["value"] == round(published_value(portal_root, owner, 2023, "turnover_rate_fte"), 1)


def test_the_measure_page_names_each_neighbour_with_the_agreements_rules(portal, portal_root) -> None:
    with TestClient(portal.app) as client:
        assert sign_in(client, "officer@301.test").status_code == 303
        page = client.get(f"/councils/301/measures/turnover_rate_fte?year={PROVISIONAL_YEAR}").text
    rows = {code: page.split(f'data-code="{code}">')[1].split("</td>")[0] for code in ("301", "203", "316", "330")}
    assert f"{published_value(portal_root, '203', 2024, 'turnover_rate_fte'):.1f}" in rows["203"]
    assert "Provisional" in rows["301"] and "Provisional" in rows["203"]
    for hidden in ("316", "330"):
        assert ">x</abbr>" in rows[hidden]
        assert f"{published_value(portal_root, hidden, 2024, 'turnover_rate_fte'):.1f}" not in rows[hidden]


def test_a_provisional_group_figure_pooling_few_councils_is_withheld(portal) -> None:
    """In 2024 only four councils have figures, so 203's neighbour pool (301 alone) would give
    301's figure away to anyone: it is withheld from councils."""
    neighbours = benchmarks(portal, "officer@203.test", "203", PROVISIONAL_YEAR)["turnover_rate_fte"]["neighbours"]
    assert neighbours["value"] is None and neighbours["symbol"] == "x"
    analyst = benchmarks(portal, "analyst@region.test", "203", PROVISIONAL_YEAR)["turnover_rate_fte"]["neighbours"]
    assert analyst["value"] is not None


def test_the_agreement_file_is_checked(tmp_path) -> None:
    committed = load()
    assert committed.participant("301") is not None and committed.participant("330") is None
    bad = tmp_path / "agreement.toml"
    bad.write_text('[[participants]]\nold_la_codes = ["31"]\njoined = 2025-01-01\n', encoding="utf-8")
    with pytest.raises(AgreementError, match="3-digit"):
        load(bad)
    bad.write_text('[[participants]]\nold_la_codes = ["301"]\njoined = "soon"\n', encoding="utf-8")
    with pytest.raises(AgreementError, match="YYYY-MM-DD"):
        load(bad)
    bad.write_text('[[participants]]\nold_la_codes = ["301"]\njoined = 2025-01-01\nshares_provisional_with = "all"\n')
    with pytest.raises(AgreementError, match="shares_provisional_with"):
        load(bad)
