"""The measure registry: one home for every measure, read the same way by dbt, Python and the docs."""

from __future__ import annotations

import copy
import csv
import json

import pandas as pd
import pytest

from orchestration.lib import measures, paths
from orchestration.lib.checks import expectations
from orchestration.lib.sources import dfe_release
from orchestration.lib.transform import dbt_project

REGISTRY = measures.measures()


def _entries() -> dict:
    return copy.deepcopy(measures.project_vars()["measures"])


def test_docs_measures_md_is_generated_from_the_registry() -> None:
    """Regenerate with `python -m orchestration.lib.measures > docs/measures.md`."""
    assert measures.DOC_PATH.read_text(encoding="utf-8") == measures.render_docs()


def test_every_measure_is_in_the_docs_with_its_rule_and_definition() -> None:
    text = measures.DOC_PATH.read_text(encoding="utf-8")
    for measure in REGISTRY.values():
        assert f"`{measure.name}`" in text
        assert measure.definition in text
        assert measure.rule().split(" where ")[0].replace("`", "") in text.replace("`", "")


def test_every_measure_is_a_published_column_described_by_its_definition() -> None:
    """The marts' measure columns come from the registry, and so do their descriptions (dbt renders
    `var('measures').<name>.definition` in the YAML), in the marts and the models that feed them."""
    nodes = json.loads((dbt_project.prepare() / dbt_project.MANIFEST_JSON).read_text(encoding="utf-8"))["nodes"]
    indicators = nodes["model.workforce.fct_workforce_indicators"]["columns"]
    assert list(indicators)[-len(REGISTRY) :] == list(REGISTRY), "every measure, in EES order, last"
    described = 0
    for node in nodes.values():
        # Staging columns are the return's own inputs (NumberOfVacancies), described as such.
        if node["resource_type"] != "model" or node["fqn"][1] not in ("intermediate", "marts"):
            continue
        for name, column in node["columns"].items():
            if name in REGISTRY:
                assert column["description"] == REGISTRY[name].definition, (node["name"], name)
                described += 1
    assert described >= len(REGISTRY)


def test_every_measure_can_be_read_from_a_dfe_release() -> None:
    with (paths.REFERENCE_SEEDS_DIR / "dfe_release_columns.csv").open(encoding="utf-8") as handle:
        standard = {row["standard_column"] for row in csv.DictReader(handle) if row["column_role"] == "measure"}
    assert standard == set(REGISTRY)


def test_rates_are_ratios_of_registry_counts_with_their_scale() -> None:
    counts = {"leavers_fte": 15.0, "inpost_fte": 100.0, "working_days_lost_fte": 2540.0, "agency_fte": 25.0}
    assert REGISTRY["turnover_rate_fte"].rate.of(counts, 2022) == pytest.approx(15.0)
    assert REGISTRY["agency_rate_fte"].rate.of(counts, 2022) == pytest.approx(20.0)
    # 254 working days in a collection year holding 29 February, 253 otherwise.
    assert REGISTRY["absence_rate_fte"].rate.of(counts, 2024) == pytest.approx(10.0)
    assert measures.working_days(2023) == 253
    assert REGISTRY["turnover_rate_fte"].rate.of({**counts, "inpost_fte": 0.0}, 2022) is None
    assert REGISTRY["turnover_rate_fte"].rate.of({**counts, "leavers_fte": None}, 2022) is None


def test_a_measure_with_neither_rule_is_refused() -> None:
    entries = _entries()
    del entries["cases"]["count"]
    with pytest.raises(measures.RegistryError, match="cases: give either 'count' or 'rate'"):
        measures.parse_measures(entries)


def test_a_rate_of_an_unknown_count_is_refused() -> None:
    entries = _entries()
    entries["turnover_rate_fte"]["rate"]["numerator"] = "leavers"
    with pytest.raises(measures.RegistryError, match="turnover_rate_fte: 'leavers' in its rate is not a count"):
        measures.parse_measures(entries)


def test_a_rate_needs_a_polarity_and_a_count_has_none() -> None:
    entries = _entries()
    entries["caseload_fte"]["polarity"] = "lower"
    with pytest.raises(measures.RegistryError, match="caseload_fte: a rate's polarity must be one of"):
        measures.parse_measures(entries)
    entries = _entries()
    entries["cases"]["polarity"] = "neutral"
    with pytest.raises(measures.RegistryError, match="cases: a count has no polarity"):
        measures.parse_measures(entries)


def test_a_misspelt_field_is_refused_not_ignored() -> None:
    entries = _entries()
    entries["inpost_fte"]["count"]["input_decimal"] = 6
    with pytest.raises(measures.RegistryError, match=r"inpost_fte: unknown field\(s\) \['input_decimal'\] in count"):
        measures.parse_measures(entries)


def test_a_measure_given_twice_is_refused() -> None:
    with pytest.raises(measures.RegistryError, match="Line 3: 'cases' appears twice"):
        measures.load_yaml("measures:\n  cases: {label: a}\n  cases: {label: b}\n")


def test_published_text_is_a_number_or_one_of_dfes_symbols() -> None:
    import re

    pattern = re.compile(measures.published_text_pattern())
    assert [bool(pattern.match(text)) for text in ("12.5", "-3", "", "c", "low", "x")] == [True] * 6
    assert not pattern.match("n/a") and not pattern.match("lowish")
    assert set(measures.dfe_symbols()) == {"c", "x", "z", "u", "low"}
    assert dfe_release.as_number("u") is None and dfe_release.as_number("12.5") == 12.5


def test_values_under_low_reliability_or_unavailable_symbols_are_not_ranked() -> None:
    """The rule issue 10 asks for, as the registry states it: `u` and `x` stop ranking; `low`
    (a real figure below DfE's rounding) does not; every symbol says which."""
    ranked = measures.ranked_symbols()
    assert "u" not in ranked and "x" not in ranked and "low" in ranked
    assert ranked <= set(measures.dfe_symbols())


def test_a_symbol_without_its_ranking_rule_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = copy.deepcopy(measures.project_vars())
    broken["dfe_symbols"]["u"] = "low reliability"
    monkeypatch.setattr(measures, "project_vars", lambda: broken)
    measures._symbol_entries.cache_clear()
    try:
        with pytest.raises(measures.RegistryError, match="DfE symbol 'u' needs exactly"):
            measures.dfe_symbols()
    finally:
        monkeypatch.undo()
        measures._symbol_entries.cache_clear()


def test_synthetic_returns_carry_the_prefix_the_warehouse_looks_for() -> None:
    """The generator's Header SoftwareCode and the prefix dbt flags synthetic returns by are one
    fact: a drift would publish generated figures without the "synthetic" label."""
    from synthetic import run

    assert f"{run.GENERATOR}/{run.VERSION}".startswith(measures.synthetic_software_code_prefix())


def _indicator_row(**values: float) -> dict:
    row = {"time_period": 2024, "geographic_level": "Local authority", "region_code": "E12000001"}
    row |= {name: 10.0 for name in REGISTRY}
    return row | values


def test_indicator_ranges_come_from_the_registry_and_block_or_warn() -> None:
    suite = expectations.load_suite("marts__fct_workforce_indicators")
    ranged = {e["kwargs"]["column"] for e in suite["expectations"] if e["meta"].get("from") == "measure registry"}
    assert ranged == set(REGISTRY)
    validator = expectations.Validator()
    frame = pd.DataFrame([_indicator_row(), _indicator_row(inpost_fte=-1.0, caseload_fte=45.0)])
    outcome = validator.validate(frame, "marts__fct_workforce_indicators")
    assert [f.column for f in outcome.blocking_failures] == ["inpost_fte"]
    assert [f.column for f in outcome.warnings] == ["caseload_fte"]
    assert "a negative value means a broken return or join" in outcome.blocking_failures[0].why


def test_an_unknown_suite_extension_is_refused() -> None:
    with pytest.raises(measures.RegistryError, match="unknown measure_expectations"):
        measures.suite_expectations({"name": "s", "meta": {"measure_expectations": ["ranges"]}})
