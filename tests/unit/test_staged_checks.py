"""The raw suites evaluated by DuckDB (staged_checks) agree with Great Expectations itself.

Each raw suite is run both ways over the same rows: clean rows, the public sample's rows (which
break several rules), and rows spoiled on purpose so that every expectation of the suite fails
somewhere. Every expectation must give the same verdict, count and failing rows either way. The
spoiling follows the suite, so an expectation added later is compared too.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from orchestration.lib.checks.expectations import ExpectationOutcome, Validator, load_suite
from orchestration.lib.load import returns, staged_checks
from orchestration.lib.load.pseudonym import Pseudonymiser
from orchestration.lib.load.staging import Stamp, with_provenance
from orchestration.lib.sources.csww.parser import parse_return

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "returns"
WORKER_IDS = ("old_la_code", "collection_year", "record_number")
LA_IDS = ("old_la_code", "collection_year")


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def worker_rows(name: str, old_la_code: str) -> pa.Table:
    batches: list[pa.Table] = []
    parse_return(
        FIXTURES / name,
        expected_old_la_code=old_la_code,
        expected_year=2022,
        pseudonymise=Pseudonymiser(b"k" * 32),
        on_batch=batches.append,
    )
    stamp = Stamp(old_la_code, 2022, f"returns/{old_la_code}/2022/{name}", "a" * 64, dt.datetime.now(dt.UTC))
    return with_provenance(pa.concat_tables(batches), stamp)


def _out_of_range(frame: pd.DataFrame, at: Any, kwargs: dict[str, Any]) -> None:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    frame.loc[at, kwargs["column"]] = high + 1 if high is not None else low - 1


def _not_a_value(frame: pd.DataFrame, at: Any, kwargs: dict[str, Any]) -> None:
    frame.loc[at, kwargs["column"]] = "not-a-valid-value"


def _missing(frame: pd.DataFrame, at: Any, kwargs: dict[str, Any]) -> None:
    frame.loc[at, kwargs["column"]] = None


def _same_key_as_last_row(frame: pd.DataFrame, at: Any, kwargs: dict[str, Any]) -> None:
    frame.loc[at, kwargs["column_list"]] = frame.loc[frame.index[-1], kwargs["column_list"]].to_numpy()


def _a_before_b(frame: pd.DataFrame, at: Any, kwargs: dict[str, Any]) -> None:
    frame.loc[at, kwargs["column_A"]] = dt.date(2020, 1, 1)
    frame.loc[at, kwargs["column_B"]] = dt.date(2030, 1, 1)


SPOILERS = {
    "expect_column_values_to_not_be_null": _missing,
    "expect_column_values_to_be_between": _out_of_range,
    "expect_column_values_to_match_regex": _not_a_value,
    "expect_column_values_to_be_in_set": _not_a_value,
    "expect_compound_columns_to_be_unique": _same_key_as_last_row,
    "expect_column_pair_values_a_to_be_greater_than_b": _a_before_b,
}


def spoil(rows: pa.Table, suite: str) -> pa.Table:
    """Break every expectation of `suite` that SPOILERS knows, each in a row of its own."""
    frame = rows.to_pandas().astype(object)
    for row, expectation in enumerate(load_suite(suite)["expectations"]):
        if expectation["type"] in SPOILERS:
            SPOILERS[expectation["type"]](frame, frame.index[row % len(frame)], expectation["kwargs"])
    return pa.Table.from_pandas(frame, schema=rows.schema, preserve_index=False)


def spoiled_kinds_all_fail(said: list[tuple[Any, ...]]) -> bool:
    return all(not success for kind, _column, success, *_ in said if kind in SPOILERS)


def both_ways(validator: Validator, rows: pa.Table, suite: str, ids: tuple[str, ...]) -> tuple[list, list]:
    """Each expectation's verdict, unexpected count and failing rows, from DuckDB and from GE
    (given the frame the loader would give it). GE orders its results its own way: both sorted."""
    con = duckdb.connect()
    con.register("rows", rows)
    ours = staged_checks.validate(con, "rows", suite, id_columns=ids)
    theirs = validator.validate(con.table("rows").df(), suite, id_columns=ids)
    return sorted(map(_said, ours.results)), sorted(map(_said, theirs.results))


def _said(result: ExpectationOutcome) -> tuple[Any, ...]:
    failing = sorted(tuple("null" if pd.isna(v) else str(v) for v in row.values()) for row in result.failing_rows)
    return (result.expectation, result.column or "", result.success, result.unexpected_count, failing)


def test_the_raw_suites_need_no_great_expectations() -> None:
    assert staged_checks.supports(returns.WORKERS_SUITE)
    assert staged_checks.supports(returns.LA_LEVEL_SUITE)


def test_worker_checks_agree_with_great_expectations(validator: Validator) -> None:
    clean = worker_rows("valid_2022.xml", "301")
    sample = worker_rows("social_work_workforce_2022_sample.xml", "301")
    spoiled = spoil(sample, returns.WORKERS_SUITE)
    for rows in (clean, sample, spoiled):
        ours, theirs = both_ways(validator, rows, returns.WORKERS_SUITE, WORKER_IDS)
        assert ours == theirs
    assert spoiled_kinds_all_fail(ours)


def test_la_level_checks_agree_with_great_expectations(validator: Validator) -> None:
    schema = returns.la_level_schema()
    good = [
        {"old_la_code": code, "collection_year": 2022, "source_file": "x", "file_sha256": "a" * 64,
         "loaded_at": dt.datetime.now(dt.UTC), "number_of_vacancies": 3.5, "no_agency_fte": 1.0,
         "no_agency_headcount": 2}
        for code in ("301", "302", "303", "304", "305", "306", "307", "308")
    ]  # fmt: skip
    clean = pa.Table.from_pylist(good, schema=schema)
    spoiled = spoil(clean, returns.LA_LEVEL_SUITE)
    for rows in (clean, spoiled):
        ours, theirs = both_ways(validator, rows, returns.LA_LEVEL_SUITE, LA_IDS)
        assert ours == theirs
    assert spoiled_kinds_all_fail(ours)


def _suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *expectations: dict[str, Any]) -> str:
    from orchestration.lib import paths

    for expectation in expectations:
        expectation.setdefault("meta", {"why": "an example for this test"})
        expectation.setdefault("severity", "critical")
    (tmp_path / "raw_example.json").write_text(json.dumps({"name": "raw_example", "expectations": expectations}))
    monkeypatch.setattr(paths, "EXPECTATIONS_DIR", tmp_path)
    return "raw_example"


def test_mostly_bounds_and_aggregates_agree_with_great_expectations(
    validator: Validator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = _suite(
        tmp_path,
        monkeypatch,
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "max_value": 2, "mostly": 0.7}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "max_value": 2, "mostly": 0.9}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": 1, "strict_min": True}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "code"}},
        {"type": "expect_column_value_lengths_to_be_between", "kwargs": {"column": "code", "min_value": 2}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "x", "min_value": 1, "max_value": 2}},
        {"type": "expect_column_max_to_be_between", "kwargs": {"column": "x", "max_value": 2}},
        {"type": "expect_column_proportion_of_unique_values_to_be_between",
         "kwargs": {"column": "code", "min_value": 0.9}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": 3}},
    )  # fmt: skip
    rows = pa.table(
        {
            "old_la_code": ["301"] * 5,
            "collection_year": [2022] * 5,
            "record_number": [1, 2, 3, 4, 5],
            "x": [1.0, 2.0, 3.0, None, 1.5],
            "code": ["AB", "AB", "C", None, "DE"],
        }
    )
    ours, theirs = both_ways(validator, rows, suite, WORKER_IDS)
    assert ours == theirs
    assert [said[2] for said in ours].count(True) == 2, "3 of 4 values within bounds meets mostly 0.7; mean 1.875"


def test_an_expectation_that_cannot_be_evaluated_says_so_and_the_rest_are_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = _suite(
        tmp_path,
        monkeypatch,
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "no_such_column"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}},
    )
    con = duckdb.connect()
    con.register("rows", pa.table({"old_la_code": ["301"], "collection_year": [2022], "x": [None]}))

    missing, x = staged_checks.validate(con, "rows", suite, id_columns=LA_IDS).results

    assert not missing.success and "no_such_column" in missing.error
    assert not x.success and x.error is None and x.unexpected_count == 1


def test_an_expectation_it_does_not_know_is_left_to_great_expectations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = _suite(
        tmp_path, monkeypatch, {"type": "expect_column_values_to_be_dateutil_parseable", "kwargs": {"column": "a"}}
    )
    assert not staged_checks.supports(suite)
