"""Raw tables evolve with their sources: a new CSWW element (worker or LA-level) or a new column in a
published release becomes a nullable column of an existing warehouse on the next run, nothing deleted,
and the rows loaded before it read NULL there.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from orchestration.lib import paths, warehouse
from orchestration.lib.checks.expectations import Validator
from orchestration.lib.load import outcomes
from orchestration.lib.load.published import DFE_INDICATORS, load_published
from orchestration.lib.sources import dfe_release
from orchestration.lib.sources.csww import parser, spec
from tests.integration.conftest import release_files
from tests.integration.test_return_loads import load

NEW_WORKER_ELEMENT = spec.Element("SupervisionHours", spec.DECIMAL, first_year=2023)
NEW_LA_ELEMENT = spec.Element("NoAgencyManagers", spec.INTEGER, first_year=2023)


def add_to_specification(monkeypatch: pytest.MonkeyPatch) -> None:
    """What adding one element at the end of each block in spec.py does, for this test only.

    The parser derives its tables from the specification when it is imported; they are derived
    again here from the extended one.
    """
    monkeypatch.setattr(spec, "WORKER_ELEMENTS", (*spec.WORKER_ELEMENTS, NEW_WORKER_ELEMENT))
    monkeypatch.setattr(spec, "LA_LEVEL_ELEMENTS", (*spec.LA_LEVEL_ELEMENTS, NEW_LA_ELEMENT))
    worker_columns = {**parser.WORKER_COLUMNS, NEW_WORKER_ELEMENT.name: NEW_WORKER_ELEMENT.column}
    worker_schema = pa.schema(
        [("record_number", pa.int32()), ("source_line", pa.int32())]
        + [(worker_columns[e.name], parser._arrow_type(e)) for e in spec.WORKER_ELEMENTS]
    )
    la_keys = {**parser.LA_LEVEL_KEYS, NEW_LA_ELEMENT.name: NEW_LA_ELEMENT.column}
    monkeypatch.setattr(parser, "WORKER_COLUMNS", worker_columns)
    monkeypatch.setattr(parser, "WORKER_SCHEMA", worker_schema)
    monkeypatch.setattr(parser, "_WORKER_TAGS", tuple(worker_columns))
    monkeypatch.setattr(parser, "LA_LEVEL_KEYS", la_keys)
    monkeypatch.setattr(
        parser, "LA_LEVEL_SCHEMA", pa.schema([(la_keys[e.name], parser._arrow_type(e)) for e in spec.LA_LEVEL_ELEMENTS])
    )
    parser._layout.cache_clear()


@pytest.fixture
def extended_specification(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Call it to extend the specification; the parser's cached layouts are dropped afterwards."""
    yield lambda: add_to_specification(monkeypatch)
    parser._layout.cache_clear()


def columns(table: str) -> dict[str, str]:
    with warehouse.connect(read_only=True) as con:
        return warehouse.table_columns(con, table)


def test_a_new_csww_element_becomes_a_column_on_the_next_run(
    landing: Path, validator: Validator, extended_specification: Callable[[], None]
) -> None:
    load(validator)
    database = paths.warehouse_path()
    built = database.stat().st_ino
    assert "supervision_hours" not in columns("raw_csww.workers")

    extended_specification()
    # The council's next return (2023) carries the new elements, at the end of their blocks.
    target = landing / "301" / "2023" / "csww_2023.xml"
    text = target.read_text(encoding="utf-8")
    text = re.sub(r"</CSWWWorker>", "<SupervisionHours>1.5</SupervisionHours></CSWWWorker>", text)
    text = re.sub(r"</(LALevelVacancies|LALevel)>", r"<NoAgencyManagers>2</NoAgencyManagers></\1>", text)
    target.write_text(text, encoding="utf-8")

    summary = load(validator, run_id="new element")

    assert {o.path.name: o.status for o in summary.outcomes} == {
        "csww_2022.xml": "unchanged",
        "csww_2023.xml": "loaded",
    }
    assert database.stat().st_ino == built, "the same warehouse file, nothing deleted"
    assert columns("raw_csww.workers")["supervision_hours"] == "DOUBLE"
    assert columns("raw_csww.la_level")["no_agency_managers"] == "INTEGER"
    with warehouse.connect(read_only=True) as con:
        workers = con.execute(
            "select collection_year, count(*), count(supervision_hours), max(supervision_hours) "
            "from raw_csww.workers group by 1 order by 1"
        ).fetchall()
        la_level = con.execute(
            "select collection_year, no_agency_managers from raw_csww.la_level order by 1"
        ).fetchall()
    [(y2022, rows_2022, filled_2022, _), (y2023, rows_2023, filled_2023, hours)] = workers
    assert (y2022, filled_2022) == (2022, 0) and rows_2022 > 0, "earlier rows hold NULL"
    assert (y2023, filled_2023, hours) == (2023, rows_2023, 1.5)
    assert la_level == [(2022, None), (2023, 2)]


def test_the_column_arrives_before_any_return_uses_it(
    landing: Path, validator: Validator, extended_specification: Callable[[], None]
) -> None:
    load(validator)
    extended_specification()

    summary = load(validator, run_id="nothing new")

    assert {o.status for o in summary.outcomes} == {"unchanged"}
    assert "supervision_hours" in columns("raw_csww.workers"), "dbt can select it on this run"
    assert "no_agency_managers" in columns("raw_csww.la_level")


def test_a_release_with_a_new_column_adds_it(
    workspace: Path, validator: Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with warehouse.connect() as con:
        load_published(con, DFE_INDICATORS, files=release_files(), validator=validator, run_id="first")
    release = paths.dfe_releases_dir() / "csww_indicators_2017_to_2024.csv"
    lines = release.read_text(encoding="utf-8").splitlines()
    newer = release.with_name("csww_indicators_2018_to_2025.csv")
    newer.write_text(
        "\n".join([lines[0] + ",social_workers_per_10k_children", *(line + ",61.3" for line in lines[1:])]) + "\n",
        encoding="utf-8",
    )
    # The column map learns the new column (one row in dfe_release_columns.csv).
    known = dfe_release.release_columns()
    extended = dataclasses.replace(
        known,
        standard_by_release={
            **known.standard_by_release,
            "social_workers_per_10k_children": "social_workers_per_10k_children",
        },
        measures=(*known.measures, "social_workers_per_10k_children"),
    )
    monkeypatch.setattr(dfe_release, "release_columns", lambda: extended)

    with warehouse.connect() as con:
        summary = load_published(con, DFE_INDICATORS, files=release_files(), validator=validator, run_id="new release")
        by_file = con.execute(
            "select source_file, count(*), count(social_workers_per_10k_children) "
            "from raw_dfe.csww_indicators group by 1 order by 1"
        ).fetchall()

    assert {o.path.name: o.status for o in summary.outcomes} == {
        "csww_indicators_2017_to_2024.csv": "unchanged",
        "csww_indicators_2018_to_2025.csv": "loaded",
    }
    [(_, old_rows, old_filled), (_, new_rows, new_filled)] = by_file
    assert old_filled == 0 and old_rows == new_rows == new_filled


def test_load_history_from_before_the_shared_schema_is_kept_and_extended() -> None:
    con = duckdb.connect()
    con.execute("create schema raw_csww")
    con.execute(
        "create table raw_csww.load_history (old_la_code varchar, collection_year integer, source_file varchar, "
        "file_sha256 varchar, file_bytes bigint, status varchar, workers integer, error_count integer, "
        "warning_count integer, report_path varchar, message varchar, run_id varchar, loaded_at timestamptz)"
    )
    con.execute(
        "insert into raw_csww.load_history values ('301', 2022, 'returns/301/2022/a.xml', 'ab', 10, 'loaded', "
        "212, 0, 0, null, 'loaded', 'old run', now())"
    )

    outcomes.ensure_history(con, "raw_csww")

    assert list(warehouse.table_columns(con, "raw_csww.load_history")) == outcomes.HISTORY_SCHEMA.names
    assert con.execute("select row_count, run_id from raw_csww.load_history").fetchall() == [(212, "old run")]
