"""The raw tables' Great Expectations suites, evaluated by DuckDB over a load's staged rows.

The suites stay what they are everywhere else: GE JSON in `expectations/suites/`, one per table.
For the raw loads, Great Expectations' pandas engine was most of the load's memory and a fifth of
its time (importing GE, copying hundreds of thousands of rows into pandas, and computing each
expectation over them); the same expectations as SQL over the staged Parquet cost a fraction of
either. Each expectation type below is translated to SQL with GE's semantics (nulls skipped by the
value checks, `mostly`, `strict_min`/`strict_max`, `ignore_row_if`), and a test compares every
outcome with GE's own on the same rows (tests/unit/test_staged_checks.py). A suite that uses a
type not listed here, or a `row_condition`, is validated by Great Expectations instead
(`supports`), so any GE expectation can be added to a raw suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from orchestration.lib.checks.expectations import BLOCKING, ExpectationOutcome, SuiteOutcome, load_suite

EXAMPLES = 20
"""Unexpected values quoted per expectation, as GE's partial_unexpected_list."""
ROWS_PER_FILE = 100
"""Failing rows named per file and expectation: enough for a council to find the pattern."""


@dataclass(frozen=True)
class _RowCheck:
    """An expectation about rows: which rows it considers, which of those are unexpected, and the
    value quoted as an example."""

    considered: str
    unexpected: str
    shown: str

    @property
    def windowed(self) -> bool:
        """A check across rows (uniqueness), which cannot be measured in a streaming scan."""
        return " over (" in self.unexpected


def _column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _bounds(expression: str, kwargs: dict[str, Any]) -> str:
    """`expression` within min_value..max_value (either may be absent), strict where asked."""
    parts = []
    if kwargs.get("min_value") is not None:
        parts.append(f"{expression} {'>' if kwargs.get('strict_min') else '>='} {_literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        parts.append(f"{expression} {'<' if kwargs.get('strict_max') else '<='} {_literal(kwargs['max_value'])}")
    return " and ".join(parts) or "true"


def _in_set(column: str, kwargs: dict[str, Any]) -> str:
    values = kwargs.get("value_set") or []
    listed = ", ".join(_literal(str(v)) for v in values)
    return f"cast({column} as varchar) in ({listed})" if values else "false"


def _values(unexpected: str, *, nulls: bool = False) -> Callable[[dict[str, Any]], _RowCheck]:
    """A check of each value of `column`; GE skips nulls unless the check is about nulls."""

    def build(kwargs: dict[str, Any]) -> _RowCheck:
        column = _column(kwargs["column"])
        considered = "true" if nulls else f"{column} is not null"
        text = f"cast({column} as varchar)"
        regex = _literal(kwargs.get("regex", ""))
        condition = unexpected.format(
            c=column,
            text=text,
            regex=regex,
            bounds=_bounds(column, kwargs),
            length_bounds=_bounds(f"length({text})", kwargs),
            in_set=_in_set(column, kwargs),
        )
        return _RowCheck(considered, condition, column)

    return build


def _compound_unique(kwargs: dict[str, Any]) -> _RowCheck:
    columns = [_column(c) for c in kwargs["column_list"]]
    considered = {
        "all_values_are_missing": " or ".join(f"{c} is not null" for c in columns),
        "any_value_is_missing": " and ".join(f"{c} is not null" for c in columns),
        "never": "true",
    }[kwargs.get("ignore_row_if", "all_values_are_missing")]
    shown = "struct_pack(" + ", ".join(f"{c} := {c}" for c in columns) + ")"
    return _RowCheck(considered, f"count(*) over (partition by {', '.join(columns)}) > 1", shown)


def _a_greater_than_b(kwargs: dict[str, Any]) -> _RowCheck:
    a, b = _column(kwargs["column_A"]), _column(kwargs["column_B"])
    considered = {
        "both_values_are_missing": f"({a} is not null or {b} is not null)",
        "either_value_is_missing": f"({a} is not null and {b} is not null)",
        "neither": "true",
    }[kwargs.get("ignore_row_if", "both_values_are_missing")]
    compare = ">=" if kwargs.get("or_equal") else ">"
    # pandas compares a missing value as False, so a row with one side missing is unexpected.
    return _RowCheck(considered, f"not coalesce({a} {compare} {b}, false)", f"[{a}, {b}]")


_ROW_CHECKS = {
    "expect_column_values_to_not_be_null": _values("{c} is null", nulls=True),
    "expect_column_values_to_be_null": _values("{c} is not null", nulls=True),
    "expect_column_values_to_be_between": _values("not ({bounds})"),
    "expect_column_values_to_match_regex": _values("not regexp_matches({text}, {regex})"),
    "expect_column_values_to_not_match_regex": _values("regexp_matches({text}, {regex})"),
    "expect_column_values_to_be_in_set": _values("not ({in_set})"),
    "expect_column_values_to_not_be_in_set": _values("{in_set}"),
    "expect_column_values_to_be_unique": _values("count(*) over (partition by {c}) > 1"),
    "expect_column_value_lengths_to_be_between": _values("not ({length_bounds})"),
    "expect_compound_columns_to_be_unique": _compound_unique,
    "expect_column_pair_values_a_to_be_greater_than_b": _a_greater_than_b,
}
"""Expectations about rows: GE's regex match is a search, as regexp_matches is."""

_AGGREGATES = {
    "expect_column_min_to_be_between": "min({c})",
    "expect_column_max_to_be_between": "max({c})",
    "expect_column_mean_to_be_between": "avg({c})",
    "expect_column_median_to_be_between": "median({c})",
    "expect_column_sum_to_be_between": "sum({c})",
    "expect_column_stdev_to_be_between": "stddev_samp({c})",
    "expect_column_unique_value_count_to_be_between": "count(distinct {c})",
    "expect_column_proportion_of_unique_values_to_be_between": "count(distinct {c}) / nullif(count({c}), 0)",
    "expect_column_proportion_of_non_null_values_to_be_between": "count({c}) / nullif(count(*), 0)",
    "expect_table_row_count_to_be_between": "count(*)",
}
"""Expectations on one value observed over the whole table, bounded by min_value and max_value."""

SUPPORTED = frozenset(_ROW_CHECKS) | frozenset(_AGGREGATES)


def _within(observed: Any, kwargs: dict[str, Any]) -> bool:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if observed is None:
        return False
    if low is not None and (observed <= low if kwargs.get("strict_min") else observed < low):
        return False
    return high is None or (observed < high if kwargs.get("strict_max") else observed <= high)


def supports(suite_name: str) -> bool:
    """True when every expectation of the suite can be evaluated here."""
    return all(
        e["type"] in SUPPORTED and not e["kwargs"].get("row_condition") for e in load_suite(suite_name)["expectations"]
    )


def validate(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    suite_name: str,
    *,
    id_columns: tuple[str, ...],
    file_columns: int = 2,
) -> SuiteOutcome:
    """Evaluate a suite over a relation (table, view or registered frame) in `con`.

    One scan measures every expectation; only an expectation that fails is looked at again, for
    its examples and failing rows. Failing rows carry `id_columns`; the first `file_columns` of them
    identify a file, and each file gets at most ROWS_PER_FILE failing rows named per expectation.
    """
    expectations = load_suite(suite_name)["expectations"]
    try:
        rows, measured = _measure(con, relation, expectations)
    except duckdb.Error:
        # One of them cannot be evaluated (a column the rows lack?): each alone, so the error names it.
        rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
        measured = [None] * len(expectations)
    outcome = SuiteOutcome(suite=suite_name, rows=int(rows))
    for expectation, values in zip(expectations, measured, strict=True):
        try:
            values = values or _measure(con, relation, [expectation])[1][0]
            outcome.results.append(_judge(con, relation, expectation, values, id_columns, file_columns))
        except duckdb.Error as error:
            outcome.results.append(
                _result(expectation, success=False, unexpected_count=1, error=str(error).splitlines()[0])
            )
    return outcome


def _measure(
    con: duckdb.DuckDBPyConnection, relation: str, expectations: list[dict[str, Any]]
) -> tuple[int, list[tuple[Any, ...]]]:
    """The row count, and per expectation its observed value, or its unexpected and considered rows.

    Every expectation without a window function is measured in one streaming scan; each
    uniqueness check needs its own, reading only its key columns.
    """
    plain: list[tuple[int, list[str]]] = []
    windowed: list[tuple[int, _RowCheck]] = []
    for index, expectation in enumerate(expectations):
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kind in _AGGREGATES:
            plain.append((index, [_AGGREGATES[kind].format(c=_column(kwargs.get("column", "")))]))
            continue
        check = _ROW_CHECKS[kind](kwargs)
        if check.windowed:
            windowed.append((index, check))
        else:
            unexpected = f"count(*) filter (where ({check.considered}) and ({check.unexpected}))"
            plain.append((index, [unexpected, f"count(*) filter (where {check.considered})"]))
    measured: list[tuple[Any, ...]] = [()] * len(expectations)
    columns = ", ".join(["count(*)", *(m for _index, group in plain for m in group)])
    values = iter(con.execute(f"select {columns} from {relation}").fetchone())
    rows = next(values)
    for index, group in plain:
        measured[index] = tuple(next(values) for _ in group)
    for index, check in windowed:
        # A window function cannot sit in an aggregate's filter: each row is flagged first.
        flagged = f"select ({check.considered}) and ({check.unexpected}) as u, {check.considered} as c from {relation}"
        measured[index] = con.execute(
            f"select count(*) filter (where u), count(*) filter (where c) from ({flagged})"
        ).fetchone()
    return rows, measured


def _result(
    expectation: dict[str, Any],
    *,
    success: bool,
    unexpected_count: int = 0,
    unexpected_examples: tuple[Any, ...] = (),
    failing_rows: tuple[dict[str, Any], ...] = (),
    error: str | None = None,
) -> ExpectationOutcome:
    return ExpectationOutcome(
        expectation=expectation["type"],
        column=expectation["kwargs"].get("column"),
        severity=str(expectation.get("severity") or BLOCKING),
        why=(expectation.get("meta") or {}).get("why", ""),
        success=success,
        unexpected_count=unexpected_count,
        unexpected_examples=unexpected_examples,
        failing_rows=failing_rows,
        error=error,
    )


def _judge(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    expectation: dict[str, Any],
    measured: tuple[Any, ...],
    id_columns: tuple[str, ...],
    file_columns: int,
) -> ExpectationOutcome:
    kind, kwargs = expectation["type"], expectation["kwargs"]
    if kind in _AGGREGATES:
        success = _within(measured[0], kwargs)
        return _result(expectation, success=success, unexpected_count=0 if success else 1)
    unexpected, considered = measured
    if not unexpected:
        return _result(expectation, success=True)
    mostly = kwargs.get("mostly", 1.0)
    success = mostly < 1 and (considered - unexpected) / considered >= mostly
    check = _ROW_CHECKS[kind](kwargs)
    ids = ", ".join(_column(c) for c in id_columns)
    files = ", ".join(_column(c) for c in id_columns[:file_columns])
    flagged = f"(select *, {check.unexpected} as is_unexpected from {relation} where {check.considered})"
    examples = con.execute(f"select {check.shown} from {flagged} where is_unexpected limit {EXAMPLES}").fetchall()
    # As the GE adapter does: rows are named only when they make the expectation fail.
    failing = (
        []
        if success
        else con.execute(
            f"select {ids} from {flagged} where is_unexpected "
            f"qualify row_number() over (partition by {files}) <= {ROWS_PER_FILE}"
        ).fetchall()
    )
    return _result(
        expectation,
        success=success,
        unexpected_count=int(unexpected),
        unexpected_examples=tuple(row[0] for row in examples),
        failing_rows=tuple(dict(zip(id_columns, row, strict=True)) for row in failing),
    )
