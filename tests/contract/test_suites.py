"""Every Great Expectations suite is valid, explains itself, and matches what it guards."""

from __future__ import annotations

import json

import pytest

from orchestration.lib import paths
from orchestration.lib.checks import expectations
from orchestration.lib.load.published import PUBLISHED_SOURCES
from orchestration.lib.load.returns import LA_LEVEL_SUITE, WORKERS_SUITE
from orchestration.lib.publish.publication import PUBLISHED_TABLES
from orchestration.lib.sources.csww import spec

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


def _value_sets(name: str) -> dict[str, set[str]]:
    return {
        e["kwargs"]["column"]: set(e["kwargs"]["value_set"])
        for e in expectations.load_suite(name)["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set"
    }


def test_worker_code_lists_match_the_csww_specification() -> None:
    """The suite is data in git; the code lists live in spec.py; this keeps them in step."""
    value_sets = _value_sets(WORKERS_SUITE)
    assert value_sets["ethnicity"] == set(spec.ETHNICITY)
    assert value_sets["gender_current"] == set(spec.GENDER_CURRENT)
    assert value_sets["sex"] == set(spec.SEX)
    assert value_sets["org_role"] == set(spec.ORG_ROLE)
    assert value_sets["qual_level"] == set(spec.QUAL_LEVEL)
    assert value_sets["start_origin"] == set(spec.START_ORIGIN)
    assert value_sets["leaver_destination"] == set(spec.LEAVER_DESTINATION)
    assert value_sets["reason_leave"] == set(spec.REASON_LEAVE)


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
    bad = good.assign(number_of_vacancies=[-1.0])
    outcome = validator.validate(bad, LA_LEVEL_SUITE)
    assert not outcome.passed
    assert [f.column for f in outcome.blocking_failures] == ["number_of_vacancies"]
