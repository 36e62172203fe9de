"""`dbt build` of part or all of the project, in process, node by node.

A run that selects part of the project (a republish rebuilds what a return can change) relies on
the models upstream of its selection being in the warehouse, built from this version of the
project. Which nodes were built, under which project fingerprint, is recorded in
`data/dbt/built_nodes.<target>.json` (target: the DuckDB file or the server); anything upstream
that this warehouse lacks, or built from another version of the project, is built too (a first
republish on a new warehouse, a run after a model changed), so a partial run never reads a stale
or missing table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.lib import paths, warehouse
from orchestration.lib.server import warehouse as server_warehouse
from orchestration.lib.transform import dbt_project

BUILT_RESOURCE_TYPES = {"model", "seed", "snapshot"}
# Unit tests check the SQL logic on hand-written rows; they belong to the test suite (make test),
# not to every load. Data tests run here on the real data.
EXCLUDED_RESOURCE_TYPES = ("unit_test",)
_FAILED = {"error", "fail"}


@dataclass(frozen=True)
class BuildPlan:
    select: tuple[str, ...]  # dbt node unique_ids; empty when building everything
    catch_up: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str  # dbt's: success, error, skipped (models); pass, warn, fail, error, skipped (tests)
    seconds: float
    message: str = ""
    failing_rows: int = 0

    @property
    def is_model(self) -> bool:
        return self.resource_type in BUILT_RESOURCE_TYPES

    @property
    def is_test(self) -> bool:
        return self.resource_type == "test"

    @property
    def succeeded(self) -> bool:
        return self.status in {"success", "pass"}


@dataclass
class Tally:
    built: int = 0
    tests_passed: int = 0
    tests_warned: int = 0
    succeeded_nodes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, result: NodeResult) -> None:
        if result.is_model and result.succeeded:
            self.built += 1
            self.succeeded_nodes.append(result.unique_id)
        elif result.is_test and result.status == "pass":
            self.tests_passed += 1
        elif result.is_test and result.status == "warn":
            self.tests_warned += 1
        if result.status in _FAILED:
            self.failures.append(f"{result.resource_type} {result.name} {result.status}: {result.message}".strip())

    def describe(self) -> str:
        return (
            f"{self.built} models and seeds built, {self.tests_passed} tests passed, "
            f"{self.tests_warned} warned, {len(self.failures)} failed"
        )


def plan(manifest: Any, selected: set[str], *, everything: bool) -> BuildPlan:
    """The nodes to build: the selection, plus what it reads that this warehouse does not hold."""
    if everything:
        return BuildPlan(select=())
    upstream = _ancestors(manifest, selected) - selected
    current = _built_nodes()
    existing = _existing_relations()
    catch_up = {
        unique_id
        for unique_id in upstream
        if unique_id not in current or _relation(manifest.nodes[unique_id]) not in existing
    }
    return BuildPlan(select=tuple(sorted(selected | catch_up)), catch_up=frozenset(catch_up))


def run(build: BuildPlan, manifest: Any, *, on_result: Callable[[NodeResult], None]) -> None:
    """Build the plan with its data tests; every node's result goes to `on_result` as it finishes."""
    # No run_results.json or manifest.json rewrite: each result is a Dagster event and a line of
    # dbt's log, and writing the manifest again costs half a second.
    args = ["build", "--no-write-json", *(f for t in EXCLUDED_RESOURCE_TYPES for f in ("--exclude-resource-type", t))]
    if build.select:
        args += ["--select", *(_selector(manifest.nodes[u]) for u in build.select)]

    def finished(event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        node, result = event.data.node_info, event.data.run_result
        on_result(
            NodeResult(
                unique_id=node.unique_id,
                name=node.node_name,
                resource_type=node.resource_type,
                status=(result.status or node.node_status).lower(),
                seconds=round(result.execution_time, 3),
                message=result.message,
                failing_rows=result.num_failures,
            )
        )

    outcome = dbt_project.invoke(args, manifest=manifest, callbacks=[finished])
    if outcome.exception is not None:
        raise RuntimeError(f"dbt build could not run: {outcome.exception}") from outcome.exception


def record_built(unique_ids: Iterable[str]) -> None:
    """Remember what this warehouse now holds from this version of the project."""
    record = _record()
    nodes = sorted(_built_nodes() | set(unique_ids))
    record.parent.mkdir(parents=True, exist_ok=True)
    partial = record.with_suffix(".json.partial")
    partial.write_text(json.dumps({"fingerprint": dbt_project.fingerprint(), "nodes": nodes}, indent=1))
    partial.replace(record)


def _record() -> Path:
    return paths.dbt_dir() / f"built_nodes.{dbt_project.target_name()}.json"


def _built_nodes() -> set[str]:
    record = _record()
    if not record.exists():
        return set()
    content = json.loads(record.read_text())
    return set(content["nodes"]) if content.get("fingerprint") == dbt_project.fingerprint() else set()


def _ancestors(manifest: Any, unique_ids: set[str]) -> set[str]:
    found: set[str] = set()
    frontier = list(unique_ids)
    while frontier:
        node = manifest.nodes.get(frontier.pop())
        for parent in getattr(node.depends_on, "nodes", ()) if node is not None else ():
            if parent not in found and parent in manifest.nodes:
                found.add(parent)
                frontier.append(parent)
    return {u for u in found if manifest.nodes[u].resource_type in BUILT_RESOURCE_TYPES}


def _existing_relations() -> set[tuple[str, str]]:
    server = paths.warehouse_server_url()
    if server:
        return server_warehouse.existing_relations(server)
    if not paths.warehouse_path().exists():
        return set()
    with warehouse.connect(read_only=True) as con:
        return set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())


def _relation(node: Any) -> tuple[str, str]:
    return (node.schema, node.alias or node.name)


def _selector(node: Any) -> str:
    return "fqn:" + ".".join(node.fqn)
