"""The dbt project as Dagster assets: staging, intermediate and marts, with dbt tests as checks.

Asset keys and groups come from the dbt folder a model sits in (`marts/benchmarks/fct_x` becomes
`marts/fct_x` in group `marts`), so moving a model between layers moves it in the lineage too.
Raw tables are tied to their loaders by `meta.dagster.asset_key` on the dbt sources.

dbt runs inside the step, from the manifest parsed when the code location loaded
(`orchestration/lib/transform/dbt_project.py`): no `dbt` process to start, no parse, and each
model and test becomes its Dagster event as soon as dbt finishes it. The step builds what the run
selected: a republish selects what a council's return can change (everything downstream of
raw/csww_returns), a full rebuild everything. On the shared deployment (WORKFORCE_WAREHOUSE_URL)
dbt builds on the server, after the step has written there the loads its raw tables lack
(orchestration/lib/server/warehouse.py).
"""

import logging
import queue
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject, dbt_assets

from orchestration.lib import paths, warehouse
from orchestration.lib.server import warehouse as server_warehouse
from orchestration.lib.transform import dbt_build, dbt_project

log = logging.getLogger("workforce")

# dagster-dbt records on each asset and check spec the dbt node it stands for.
UNIQUE_ID = "dagster_dbt/unique_id"


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

PROJECT = DbtProject(
    project_dir=dbt_project.PROJECT_DIR,
    profiles_dir=dbt_project.PROFILES_DIR,
    # The project parsed as it is now, under data/dbt (an absolute path: DbtProject joins it on).
    target_path=dbt_project.prepare(),
)


@dbt_assets(
    manifest=PROJECT.manifest_path,
    project=PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    name="workforce_dbt",
    pool="warehouse",
)
def workforce_dbt(context: dg.AssetExecutionContext) -> Iterator[Any]:
    """`dbt build` of the selected models with their data tests; a failing test stops what depends
    on it, and any failure fails the step, so nothing downstream is published."""
    # The whole definition, not the run's subset (context.assets_def), which lacks unselected nodes.
    key_of = {workforce_dbt.get_asset_spec(key).metadata[UNIQUE_ID]: key for key in workforce_dbt.keys}
    check_of = {spec.metadata[UNIQUE_ID]: spec.key for spec in workforce_dbt.check_specs}
    selected = {unique_id for unique_id, key in key_of.items() if key in context.selected_asset_keys}
    # Parsed for the target this run builds in (prepared when the code location loaded, unless the
    # process has since been pointed at the other target).
    manifest = dbt_project.load_manifest(dbt_project.prepare())
    _write_raw_to_server(manifest)
    plan = dbt_build.plan(manifest, selected, everything=selected == set(key_of))
    if plan.catch_up:
        log.info(
            "dbt: also building %s, never built in this warehouse with this version of the project",
            ", ".join(sorted(manifest.nodes[u].name for u in plan.catch_up)),
        )
    log.info("dbt: build started")
    tally = dbt_build.Tally()
    for result in _stream(plan, manifest):
        tally.add(result)
        yield from _events(context, result, key_of, check_of, selected)
        if result.is_model and result.succeeded and tally.built % 10 == 0:
            log.info("dbt: %d models and seeds built", tally.built)
    dbt_build.record_built(tally.succeeded_nodes)
    log.info("dbt: %s", tally.describe())
    if tally.failures:
        raise dg.Failure(
            description=f"dbt: {tally.describe()}. Failed: {'; '.join(tally.failures[:10])}",
            metadata={"failures": dg.MetadataValue.json(tally.failures)},
        )


def _write_raw_to_server(manifest: Any) -> None:
    server = paths.warehouse_server_url()
    if not server:
        return
    started = time.monotonic()
    built = dbt_build.BUILT_RESOURCE_TYPES
    dbt_schemas = {node.schema for node in manifest.nodes.values() if node.resource_type in built}
    with warehouse.connect() as con:
        changes = server_warehouse.write_raw(server, con, dbt_schemas)
    written = {table: change for table, change in changes.items() if change["added"] or change["removed"]}
    log.info(
        "server: raw tables brought up to date in %.1f s (%s)",
        time.monotonic() - started,
        "; ".join(f"{t} +{c['added']} -{c['removed']} rows" for t, c in written.items()) or "nothing had changed",
    )


def _stream(plan: dbt_build.BuildPlan, manifest: Any) -> Iterator[dbt_build.NodeResult]:
    """dbt runs in a thread of this step; each node's result comes back as soon as it is done."""
    finished: queue.Queue[dbt_build.NodeResult | BaseException | None] = queue.Queue()

    def run() -> None:
        try:
            dbt_build.run(plan, manifest, on_result=finished.put)
        except BaseException as exc:  # handed to the step, which raises it
            finished.put(exc)
        finally:
            finished.put(None)

    thread = threading.Thread(target=run, name="dbt-build", daemon=True)
    thread.start()
    try:
        while (item := finished.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # dbt is never left running behind a failed step: it would still be writing the warehouse.
        thread.join()


def _events(
    context: dg.AssetExecutionContext,
    result: dbt_build.NodeResult,
    key_of: Mapping[str, dg.AssetKey],
    check_of: Mapping[str, dg.AssetCheckKey],
    selected: set[str],
) -> Iterator[Any]:
    metadata = {"unique_id": result.unique_id, "status": result.status, "execution_seconds": result.seconds}
    if result.is_model and result.succeeded:
        if result.unique_id in selected:
            yield dg.MaterializeResult(asset_key=key_of[result.unique_id], metadata=metadata)
        else:
            yield dg.AssetMaterialization(asset_key=key_of[result.unique_id], metadata=metadata)
    elif result.is_test and result.status != "skipped":
        check = check_of.get(result.unique_id)
        if check is not None and check in context.selected_asset_check_keys:
            yield dg.AssetCheckResult(
                asset_key=check.asset_key,
                check_name=check.name,
                passed=result.status == "pass",
                severity=dg.AssetCheckSeverity.WARN if result.status == "warn" else dg.AssetCheckSeverity.ERROR,
                metadata={**metadata, "failing_rows": result.failing_rows},
            )
        if result.status != "pass":
            log.warning("dbt test %s: %s (%s)", result.status, result.name, result.message or "see the dbt log")
