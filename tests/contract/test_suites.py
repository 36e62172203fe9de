"""Every Great Expectations suite is valid, explains itself, and matches what it guards."""

from __future__ import annotations

import json

import pytest

from orchestration.lib import paths
from orchestration.lib.checks import expectations
from orchestration.lib.load.published import PUBLISHED_SOURCES
from orchestration.lib.load.returns import LA_LEVEL_SUITE, WORKERS_SUITE
from orchestration.lib.publish.publication import PUBLISHED_TABLES

SUITES = expectations.suite_names()


def test_every_loaded_and_published_table_has_a_suite() -> None:
    expected = {WORKERS_SUITE, LA_LEVEL_SUITE}
    expected |= {source.suite for source in PUBLISHED_SOURCES}
    expected |= {f"marts__{table}" for table in PUBLISHED_TABLES}
    assert expected <= set(SUITES), f"tables without a suite: {sorted(expected - set(SUITES))}"


@pytest.mark.parametrize("name", SUITES)
def test_suite_is_valid_great_expectations(name: str) -> None:
    from great_expectations.core.expectation_suite import ExpectationSuite

    definition = expectations.load_suite(name)
    assert definition["name"] == name == expectations.suite_path(name).stem
    suite = ExpectationSuite(**definition)
    assert len(suite.expectations) == len(definition["expectations"]) > 0


@pytest.mark.parametrize("name", SUITES)
def test_every_expectation_says_why_and_how_severe(name: str) -> None:
    for expectation in expectations.load_suite(name)["expectations"]:
        label = f"{name}: {expectation['type']} {expectation['kwargs'].get('column', '')}"
        assert len(expectation.get("meta", {}).get("why", "")) > 20, f"{label} has no reason"
        assert expectation.get("severity") in {"critical", "warning"}, f"{label} has no severity"


LOAD_COLUMNS = {"old_la_code", "collection_year", "record_number", "source_file", "file_sha256", "loaded_at"}
"""Columns the loader adds (provenance and position), not values of the return."""
PER_VALUE_RULES = {
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_pair_values_a_to_be_greater_than_b",
}


def test_the_raw_return_suites_repeat_no_return_rule() -> None:
    """One validator per job: a return's values are checked by its rules (csww/rules.yml, code lists in
    spec.py) before it loads; the suites check the load as a table, its provenance and pseudonyms."""
    for suite in (WORKERS_SUITE, LA_LEVEL_SUITE):
        for expectation in expectations.load_suite(suite)["expectations"]:
            column = expectation["kwargs"].get("column")
            if column is None or column in LOAD_COLUMNS:
                continue
            assert column == "swe_pseudonym", f"{suite} checks the return's own {column}: that is a return rule"
            assert expectation["type"] not in PER_VALUE_RULES


def test_suites_are_formatted_json_files() -> None:
    for path in sorted(paths.EXPECTATIONS_DIR.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2) + "\n", f"{path.name} is not formatted"


def test_a_good_frame_passes_and_a_bad_one_fails() -> None:
    import pandas as pd

    validator = expectations.Validator()
    good = pd.DataFrame(
        {
            "old_la_code": ["301"],
            "collection_year": [2022],
            "number_of_vacancies": [3.5],
            "no_agency_fte": [1.0],
            "no_agency_headcount": [1],
            "file_sha256": ["a" * 64],
        }
    )
    assert validator.validate(good, LA_LEVEL_SUITE).passed
    bad = good.assign(file_sha256=["not a sha256"])
    outcome = validator.validate(bad, LA_LEVEL_SUITE)
    assert not outcome.passed
    assert [f.column for f in outcome.blocking_failures] == ["file_sha256"]
