"""Row-level security on the server: councils connect as their own roles and try every way to read
another council's provisional rows; the database, not the client, refuses.

Scenario (conftest.py): 301, 316, 203 and 330 sent returns for 2024, and the server is told DfE
has not published 2024 yet, so their 2024 figures are provisional. Under the test agreement 316
shares with nobody, 203 with every participant, and 330 does not take part.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from orchestration.cli import main
from orchestration.lib import paths
from orchestration.lib.publish import postgres, publication
from orchestration.lib.server import access
from portal import agreement, figures
from tests.portal.conftest import AGREEMENT

PROVISIONAL_YEAR = 2024
COUNCIL_LOGINS = {"council_301": "301", "council_316": "316", "council_203": "203"}  # made by the CLI
ANALYST_LOGIN = "analyst_one"
# Each restricted table, the column naming whose figure a row is, and a filter for a council's own
# figures (not DfE's, which are public).
RESTRICTED = {
    "fct_workforce_benchmarks": ("old_la_code", "source <> 'dfe_published'"),
    "fct_workforce_indicators": ("old_la_code", "geographic_level = 'Local authority' and source <> 'dfe_published'"),
    "fct_statistical_neighbour_values": ("neighbour_old_la_code", "true"),
    "fct_published_reconciliation": ("area_code", "geographic_level = 'Local authority'"),
}


@pytest.fixture(scope="module")
def server(embedded_root: Path, pg_database: str) -> Iterator[str]:
    """The scenario's published version on the server, with the agreement's sharing (2024 not yet
    published by DfE) and four logins."""
    manifest = publication.read_manifest()
    assert manifest is not None
    postgres.publish(pg_database, published_database(), manifest, list(publication.PUBLISHED_TABLES), keep=5)
    facts = published_facts()
    assert PROVISIONAL_YEAR in facts.dfe_years
    pairs = figures.provisional_viewers(agreement.load(AGREEMENT), facts)
    access.write_sharing(pg_database, pairs, facts.dfe_years - {PROVISIONAL_YEAR})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKFORCE_WAREHOUSE_URL", pg_database)
        for code in COUNCIL_LOGINS.values():
            patch.setattr("sys.stdin", io.StringIO("a council's password\n"))
            assert main(["server", "council-login", "--council", code, "--password-stdin"]) == 0
    with psycopg.connect(pg_database) as con:
        con.execute(f"drop role if exists {ANALYST_LOGIN}")
        con.execute(f"create role {ANALYST_LOGIN} login in role {access.ANALYST_GROUP}")
        con.execute("analyze")  # statistics exist, so the pg_stats probe below could leak if it were not guarded
    yield pg_database


def published_database() -> Path:
    return paths.published_dir() / publication.PUBLISHED_DB_NAME


def published_facts() -> figures.Facts:
    with duckdb.connect(str(published_database()), read_only=True) as cur:
        return figures.facts(cur)


def connect_as(url: str, role: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql://workforce@", f"postgresql://{role}@"), autocommit=True)


def provisional_owners(con: psycopg.Connection, table: str) -> set[str]:
    owner, council_rows = RESTRICTED[table]
    rows = con.execute(
        f"select distinct {owner} from published.{table} where time_period = %s and {council_rows}",
        [PROVISIONAL_YEAR],
    ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("table", sorted(RESTRICTED))
def test_a_council_reads_only_the_provisional_rows_shared_with_it(server: str, table: str) -> None:
    with psycopg.connect(server) as owner:
        everyone = provisional_owners(owner, table)
    assert {"316", "330"} <= everyone, "the scenario must hold restricted rows to hide"
    with connect_as(server, "council_301") as con:
        seen = provisional_owners(con, table)
    assert "301" in seen or table == "fct_statistical_neighbour_values"  # a council is not its own neighbour
    assert not seen & {"316", "330"}, f"council 301 read restricted {table} rows of {seen & {'316', '330'}}"
    if table != "fct_statistical_neighbour_values" or "203" in everyone:
        assert "203" in seen, "203 shares its provisional figures with every participant"


def test_the_database_applies_the_portals_rule_for_every_council(server: str) -> None:
    """Whose provisional benchmark rows each login reads equals whose the portal's pages would show."""
    terms, facts = agreement.load(AGREEMENT), published_facts()
    with psycopg.connect(server) as owner:
        everyone = provisional_owners(owner, "fct_workforce_benchmarks")
    for role, code in COUNCIL_LOGINS.items():
        viewer = figures.Viewer(terms, code, facts)
        with connect_as(server, role) as con:
            seen = provisional_owners(con, "fct_workforce_benchmarks")
        assert seen == {o for o in everyone if viewer.may_see_provisional(o)}, role


# Every one of these is run as council 301 and must return no row of 316's or 330's 2024 figures.
LEAK_QUERIES = {
    "where": "select la_value from published.fct_workforce_benchmarks where old_la_code = '316' and time_period = 2024",
    "join": """select i.inpost_headcount from published.fct_workforce_indicators as i
        join published.fct_workforce_benchmarks as b on b.old_la_code = i.old_la_code and b.time_period = i.time_period
        where i.old_la_code = '330' and i.time_period = 2024""",
    "subquery": """select value from (select (select max(la_value) from published.fct_workforce_benchmarks
        where old_la_code = '316' and time_period = 2024) as value) as found where value is not null""",
    "cte and union": """with hidden as (select old_la_code, la_value from published.fct_workforce_benchmarks
        where time_period = 2024) select * from hidden where old_la_code = '316'
        union all select area_code, recomputed_value from published.fct_published_reconciliation
        where area_code = '330' and time_period = 2024""",
    "aggregate": """select count(*) from published.fct_workforce_benchmarks
        where old_la_code in ('316', '330') and time_period = 2024 having count(*) > 0""",
    "window": """select * from (select old_la_code, rank() over (order by la_value) as r
        from published.fct_workforce_benchmarks where time_period = 2024) as ranked where old_la_code = '330'""",
    "neighbour values": """select neighbour_value from published.fct_statistical_neighbour_values
        where neighbour_old_la_code in ('316', '330') and time_period = 2024""",
    "function over rows": """select string_agg(la_value::text, ',') from published.fct_workforce_benchmarks
        where old_la_code = '316' and time_period = 2024 having string_agg(la_value::text, ',') is not null""",
    "planner statistics": """select most_common_vals::text from pg_stats
        where schemaname = 'published' and tablename = 'fct_workforce_benchmarks'""",
}


@pytest.mark.parametrize("query", sorted(LEAK_QUERIES))
def test_no_query_returns_another_councils_restricted_rows(server: str, query: str) -> None:
    with psycopg.connect(server) as owner:
        assert owner.execute(LEAK_QUERIES[query]).fetchall(), "the query must find the rows when it may"
    with connect_as(server, "council_301") as con:
        assert con.execute(LEAK_QUERIES[query]).fetchall() == []


def test_the_policy_filters_before_any_function_sees_a_row(server: str) -> None:
    """Dividing by zero on a hidden row would raise: the error would prove the row was looked at."""
    probe = """select 1 from published.fct_workforce_benchmarks
        where old_la_code = '316' and time_period = 2024 and 1 / (la_value - la_value) = 1"""
    with psycopg.connect(server) as owner, pytest.raises(psycopg.errors.DivisionByZero):
        owner.execute(probe)
    with connect_as(server, "council_301") as con:
        assert con.execute(probe).fetchall() == []


REFUSED = {
    "turn row security off": "set row_security = off; select * from published.fct_workforce_benchmarks",
    "become an analyst": f"set role {access.ANALYST_GROUP}",
    "create a view": "create view public.everything as select * from published.fct_workforce_benchmarks",
    "create a function": "create function public.f() returns int language sql as 'select 1'",
    "create a temporary table": "create temporary table copied as select * from published.fct_workforce_benchmarks",
    "change who shares with whom": "insert into access.provisional_viewers values ('316', '301')",
    "claim another council's login": "update access.council_logins set old_la_code = '316'",
    "read the publication history": "select manifest from publishing.versions",
    "write a published table": "delete from published.fct_workforce_benchmarks",
}


@pytest.mark.parametrize("attempt", sorted(REFUSED))
def test_a_council_cannot_get_round_the_policies(server: str, attempt: str) -> None:
    with connect_as(server, "council_301") as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute(REFUSED[attempt])


def test_analysts_read_every_published_row(server: str) -> None:
    with psycopg.connect(server) as owner, connect_as(server, ANALYST_LOGIN) as analyst:
        for table in publication.PUBLISHED_TABLES:
            query = f"select count(*) from published.{table}"
            assert analyst.execute(query).fetchone() == owner.execute(query).fetchone(), table
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("delete from published.dim_measures")


def test_only_participants_get_a_council_login(server: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("WORKFORCE_WAREHOUSE_URL", server)
    assert main(["server", "council-login", "--council", "330"]) == 2
    assert "does not take part" in capsys.readouterr().err
    with psycopg.connect(server) as con:
        assert con.execute("select 1 from access.council_logins where old_la_code = '330'").fetchall() == []


def test_a_council_sees_only_its_own_login_and_what_is_shared_with_it(server: str) -> None:
    with connect_as(server, "council_301") as con:
        assert con.execute("select role_name, old_la_code from access.council_logins").fetchall() == [
            ("council_301", "301")
        ]
        viewers = con.execute("select distinct viewer_old_la_code from access.provisional_viewers").fetchall()
    assert viewers == [("301",)]


def test_a_council_login_signs_in_with_its_password_only(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI sends the server a SCRAM verifier; the server then checks the password itself."""
    monkeypatch.setenv("WORKFORCE_WAREHOUSE_URL", server)
    monkeypatch.setattr("sys.stdin", io.StringIO("the right password\n"))
    assert main(["server", "council-login", "--council", "301", "--role", "council_301_pw", "--password-stdin"]) == 0
    with psycopg.connect(server, autocommit=True) as con:
        hba = Path(con.execute("show hba_file").fetchone()[0])
        stored = con.execute("select rolpassword from pg_authid where rolname = 'council_301_pw'").fetchone()[0]
        hba.write_text("local all council_301_pw scram-sha-256\n" + hba.read_text())
        con.execute("select pg_reload_conf()")
    assert stored.startswith("SCRAM-SHA-256$") and "the right password" not in stored
    url = server.replace("postgresql://workforce@", "postgresql://council_301_pw@")
    assert _refused_after_reload(url, "a wrong password")
    with psycopg.connect(url, password="the right password") as con:
        assert con.execute("select old_la_code from access.council_logins").fetchall() == [("301",)]


def _refused_after_reload(url: str, password: str) -> bool:
    """The server reloads its configuration a moment after being asked: wait for it (up to 5 s)."""
    for _ in range(50):
        try:
            psycopg.connect(url, password=password).close()
        except psycopg.OperationalError as exc:
            return "password authentication failed" in str(exc)
        time.sleep(0.1)
    return False
