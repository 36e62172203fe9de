"""The dbt project as Dagster assets: staging, intermediate and marts, with dbt tests as checks.

Asset keys and groups come from the dbt folder a model sits in (`marts/benchmarks/fct_x` becomes
`marts/fct_x` in group `marts`), so moving a model between layers moves it in the lineage too.
Raw tables are tied to their loaders by `meta.dagster.asset_key` on the dbt sources.
"""

import importlib.metadata
import logging
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from packaging import version

from orchestration.lib import paths
from orchestration.lib.transform import dbt_project

log = logging.getLogger("workforce")


class LayerTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        return self._layer(dbt_resource_props)

    @staticmethod
    def _layer(dbt_resource_props: Mapping[str, Any]) -> str:
        # fqn is [project, folder, ...]: models/<layer>/..., seeds/<folder>/...
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        return dbt_resource_props["fqn"][1]


# The four raw_csww source tables are written by one loader asset, so they share its key.
TRANSLATOR = LayerTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)
)


@dbt_assets(
    manifest=dbt_project.MANIFEST_PATH,
    dagster_dbt_translator=TRANSLATOR,
    name="workforce_dbt",
    pool="warehouse",
)
def workforce_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build`: seeds, models and data tests; a failing test stops what depends on it."""
    dbt_project.apply_dbt_environment()
    built = tests_passed = tests_failed = 0
    log.info("dbt: build started")
    # Unit tests check the SQL logic on hand-written rows; they belong to the test suite (make test),
    # not to every load, where they would add about 4 s. Data tests run here on the real data.
    for event in dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream():
        if isinstance(event, dg.Output):
            built += 1
            if built % 10 == 0:
                log.info("dbt: %d models and seeds built", built)
        elif isinstance(event, dg.AssetCheckResult):
            tests_passed += event.passed
            tests_failed += not event.passed
            if not event.passed:
                log.warning("dbt test failed: %s on %s", event.check_name, event.asset_key.to_user_string())
        yield event
    log.info("dbt: %d models and seeds built, %d tests passed, %d failed", built, tests_passed, tests_failed)


class LocalDbtCliResource(DbtCliResource):
    """dbt from this environment. dagster-dbt asks `dbt --version` before every command (about
    4 s here); the dbt it runs is the one installed beside us, so its version is read directly."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    return LocalDbtCliResource(
        project_dir=str(paths.DBT_PROJECT_DIR),
        profiles_dir=str(paths.DBT_PROJECT_DIR),
        dbt_executable=str(dbt_project.DBT_EXECUTABLE),
    )
