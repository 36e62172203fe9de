"""The portal's figures from the server: with its state on the server, the portal reads the published
tables there through its own login, acting for the council it serves, and the row policies hide
what that council may not see, so a bug in the portal's own rules cannot show it.

Scenario (the portal tests', tests/portal/conftest.py): DfE has published up to 2023, so councils'
2024 figures are provisional. Council 301's neighbours include 203 (shares with
every participant), 316 (shares with nobody) and 330 (not in the agreement).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from orchestration.lib import paths
from orchestration.lib.publish import packs, postgres, publication
from orchestration.lib.server import access
from portal import adapter, agreement, figures
from portal.settings import load_settings
from tests.portal.conftest import AGREEMENT, DFE_LAST_YEAR
from tests.postgres.conftest import portal_login

PROVISIONAL_YEAR = DFE_LAST_YEAR + 1
PORTAL_LOGIN = "portal_reader"
MEASURE = "turnover_rate_fte"
SHARED, WITHHELD = "203", ("316", "330")


@pytest.fixture(scope="module")
def portal_url(portal_root: Path, pg_database: str) -> str:
    """The scenario published on the server, its sharing written, and the portal's login."""
    manifest = publication.read_manifest()
    assert manifest is not None
    database = paths.published_dir() / publication.PUBLISHED_DB_NAME
    postgres.publish(pg_database, database, manifest, list(publication.PUBLISHED_TABLES), keep=5)
    with duckdb.connect(str(database), read_only=True) as cur:
        facts = figures.facts(cur)
    pairs = figures.provisional_viewers(agreement.load(AGREEMENT), facts)
    assert PROVISIONAL_YEAR not in facts.dfe_years
    adapter.write_server_sharing(pg_database, pairs, facts.dfe_years)
    return portal_login(pg_database, PORTAL_LOGIN)


@pytest.fixture
def server_reader(portal_url: str) -> Iterator[adapter.ServerPublishedReader]:
    reader = adapter.ServerPublishedReader(portal_url)
    yield reader
    reader.close()


@pytest.fixture
def embedded_reader(portal_root: Path) -> Iterator[adapter.PublishedReader]:
    reader = adapter.PublishedReader()
    yield reader
    reader.close()


def _neighbour_cells(reader: Any, viewer_code: str = "301") -> dict[str, dict[str, Any]]:
    """What 301's officer is shown for each neighbour on the measure's page (value or symbol, and why)."""
    with reader.cursor() as (_, cur):
        facts = figures.facts(cur)
    viewer = figures.Viewer(agreement.load(AGREEMENT), viewer_code, facts)
    with reader.cursor(viewer_code) as (_, cur):
        detail = figures.measure_detail(cur, viewer, "301", MEASURE, PROVISIONAL_YEAR)
    assert detail is not None
    return {row.code: row.value.as_json() for row in detail.neighbours}


def test_the_portal_shows_the_same_figures_from_the_server(
    server_reader: adapter.ServerPublishedReader, embedded_reader: adapter.PublishedReader
) -> None:
    from_server, from_files = _neighbour_cells(server_reader), _neighbour_cells(embedded_reader)
    assert from_server == from_files
    assert from_server[SHARED]["symbol"] is None and from_server[SHARED]["value"] is not None
    assert all(from_server[code]["symbol_meaning"] == figures.WITHHELD_BY_AGREEMENT for code in WITHHELD)


def test_a_bug_in_the_portals_rule_cannot_show_a_withheld_figure_from_the_server(
    server_reader: adapter.ServerPublishedReader,
    embedded_reader: adapter.PublishedReader,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(figures.Viewer, "may_see_provisional", lambda self, code: True)  # the bug
    leaked = _neighbour_cells(embedded_reader)
    assert all(leaked[code]["value"] is not None for code in WITHHELD), "the DuckDB copy has no policies"
    guarded = _neighbour_cells(server_reader)
    assert all(guarded[code]["value"] is None and guarded[code]["symbol"] == "x" for code in WITHHELD)


def test_each_read_acts_for_one_council_and_one_version(server_reader: adapter.ServerPublishedReader) -> None:
    query = (
        "select distinct old_la_code from fct_workforce_benchmarks where time_period = ? and source <> 'dfe_published'"
    )
    seen = {}
    for acting_for in ("316", "301", adapter.EVERY_COUNCIL):
        with server_reader.cursor(acting_for) as (version, cur):
            seen[acting_for] = {row[0] for row in cur.execute(query, [PROVISIONAL_YEAR]).fetchall()}
            assert version == publication.current_version()
    # 316 shares with nobody and 330 takes no part; 203 shares with every participant, 301 with its
    # neighbours (316 among them).
    assert seen["316"] == {"316", "203", "301"}
    assert seen["301"] == {"301", "203"}
    assert {"301", "316", "203", "330"} <= seen[adapter.EVERY_COUNCIL]
    with psycopg.connect(server_reader.url) as con:
        con.execute("set search_path = published")
        unsaid = con.execute(query.replace("?", "%s"), [PROVISIONAL_YEAR]).fetchall()
    assert unsaid == [], "a transaction that names no council sees no provisional row"


def _pack_files(views: Any, code: str, folder: Path) -> dict[str, bytes]:
    """Every file of the council's provisional-year CSV pack, by name."""
    written = packs.write_pack(code, PROVISIONAL_YEAR, "csv", views, out=folder / f"{code}.csv")
    return {path.name: path.read_bytes() for path in written}


@pytest.mark.parametrize("code", ["301", "316"])
def test_a_pack_from_the_server_equals_the_pack_from_the_files(
    portal_url: str, pg_database: str, code: str, tmp_path: Path
) -> None:
    embedded = figures.pack_views(load_settings(database_url=None), agreement.load(AGREEMENT))
    from_files = _pack_files(embedded, code, tmp_path / "files")
    # The portal's login, and the warehouse's own (as `workforce extract` on the server reads).
    from_portal_login = _pack_files(functools.partial(adapter.pack_server_view, portal_url), code, tmp_path / "portal")
    as_portal = functools.partial(adapter.pack_server_view, pg_database, as_portal=True)
    from_warehouse_login = _pack_files(as_portal, code, tmp_path / "warehouse")
    assert from_portal_login == from_files
    assert from_warehouse_login == from_files
    withheld = from_files[f"{code}_neighbours.csv"].decode().count(",withheld,")
    assert withheld > 0, "the scenario withholds some neighbour's provisional figures from every council"


def test_a_bug_in_the_packs_rule_cannot_put_a_withheld_figure_in_a_pack_from_the_server(
    portal_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access, "visible_condition", lambda table, acting_for: None)  # the bug
    embedded = figures.pack_views(load_settings(database_url=None), agreement.load(AGREEMENT))
    leaked = _pack_files(embedded, "301", tmp_path / "files")["301_ranking.csv"].decode()
    assert all(f",{code}," in leaked for code in WITHHELD), "the DuckDB copy's views are the pack's only guard"
    guarded = _pack_files(functools.partial(adapter.pack_server_view, portal_url), "301", tmp_path / "server")
    assert not any(f",{code}," in guarded["301_ranking.csv"].decode() for code in WITHHELD)


def test_an_analysts_table_download_from_the_server_equals_the_published_file(
    server_reader: adapter.ServerPublishedReader, embedded_reader: adapter.PublishedReader, tmp_path: Path
) -> None:
    for table in adapter.PUBLISHED_TABLES:
        version, from_server = adapter.published_table_file(table, "csv", tmp_path / "server", server_reader)
        same, from_files = adapter.published_table_file(table, "csv", tmp_path / "files", embedded_reader)
        assert version == same == publication.current_version()
        assert from_server.read_bytes() == from_files.read_bytes(), table
        _, parquet = adapter.published_table_file(table, "parquet", tmp_path / "server", server_reader)
        assert parquet.is_relative_to(tmp_path / "server"), "read from the server, not the version's file"
        published = publication.current_folder() / f"{table}.parquet"
        with duckdb.connect() as con:
            query = "select * from read_parquet(?) except all select * from read_parquet(?)"
            for first, second in ((parquet, published), (published, parquet)):
                assert con.execute(query, [str(first), str(second)]).fetchall() == [], table
