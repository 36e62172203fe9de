"""The parsed dbt project: prepared once when processes start together, restored field for field,
and a partial build that also builds what the warehouse lacks."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestration.defs.transform.assets import PROJECT
from orchestration.lib import paths, warehouse
from orchestration.lib.transform import dbt_build, dbt_project

PREPARE = "from orchestration.lib.transform import dbt_project; print(dbt_project.prepare())"


def test_two_processes_starting_at_once_parse_the_project_once(tmp_path: Path) -> None:
    environment = {**os.environ, "WORKFORCE_DATA_DIR": str(tmp_path / "data")}
    starts = [
        subprocess.Popen([sys.executable, "-c", PREPARE], env=environment, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    folders = [process.communicate(timeout=600)[0].strip() for process in starts]

    assert [process.returncode for process in starts] == [0, 0]
    assert folders[0] == folders[1]
    manifests = tmp_path / "data" / "dbt" / "manifests" / "local"
    assert sorted(p.name for p in manifests.iterdir() if p.is_dir()) == [Path(folders[0]).name]
    assert (Path(folders[0]) / "manifest.json").exists()
    dbt_log = (tmp_path / "data" / "dbt" / "logs" / "dbt.log").read_text()
    assert dbt_log.count("Running with dbt=") == 1, "the second process must reuse the first one's parse"


def test_the_parsed_manifest_comes_back_field_for_field() -> None:
    from dbt.contracts.graph.manifest import Manifest

    manifest = dbt_project.load_manifest(PROJECT.target_path)
    empty = Manifest()
    for field in dataclasses.fields(Manifest):
        default = getattr(empty, field.name)
        if default is not None:
            assert isinstance(getattr(manifest, field.name), type(default)), field.name
    model = manifest.ref_lookup.find("fct_workforce_indicators", None, None, manifest)
    assert model.unique_id == "model.workforce.fct_workforce_indicators"


def _node(name: str, *parents: str, resource_type: str = "model") -> SimpleNamespace:
    return SimpleNamespace(
        unique_id=f"{resource_type}.workforce.{name}",
        name=name,
        resource_type=resource_type,
        schema="main",
        alias=name,
        fqn=["workforce", name],
        depends_on=SimpleNamespace(nodes=[f"model.workforce.{p}" for p in parents]),
    )


@pytest.mark.usefixtures("workspace")
def test_a_partial_build_also_builds_what_the_warehouse_lacks() -> None:
    # reference -> staging -> mart; only the mart is selected.
    nodes = [_node("reference"), _node("staging", "reference"), _node("mart", "staging")]
    manifest = SimpleNamespace(nodes={n.unique_id: n for n in nodes})
    mart, staging, reference = "model.workforce.mart", "model.workforce.staging", "model.workforce.reference"

    assert dbt_build.plan(manifest, {mart}, everything=False).catch_up == {staging, reference}, "new warehouse"

    with warehouse.connect() as con:
        con.execute("create table main.reference as select 1 as x")
        con.execute("create view main.staging as select * from main.reference")
    dbt_build.record_built([reference, staging])
    assert dbt_build.plan(manifest, {mart}, everything=False) == dbt_build.BuildPlan(select=(mart,))

    with warehouse.connect() as con:
        con.execute("drop view main.staging")
    assert dbt_build.plan(manifest, {mart}, everything=False).catch_up == {staging}, "a dropped relation"

    (paths.dbt_dir() / "built_nodes.local.json").write_text('{"fingerprint": "an earlier project", "nodes": []}')
    assert dbt_build.plan(manifest, {mart}, everything=False).catch_up == {staging, reference}, "a changed project"
    assert dbt_build.plan(manifest, {mart}, everything=True) == dbt_build.BuildPlan(select=())


def test_each_target_and_server_database_has_its_own_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parse writes the target's database into every relation: a manifest parsed for one server
    database must not serve another (dbt refuses cross-database references on PostgreSQL)."""
    monkeypatch.delenv("WORKFORCE_WAREHOUSE_URL", raising=False)
    local = dbt_project.fingerprint(), dbt_project.target_name()
    monkeypatch.setenv("WORKFORCE_WAREHOUSE_URL", "postgresql://workforce@db.internal/region_a")
    region_a = dbt_project.fingerprint(), dbt_project.target_name()
    monkeypatch.setenv("WORKFORCE_WAREHOUSE_URL", "postgresql://workforce@db.internal:5433/region_a")
    same_database = dbt_project.fingerprint()
    monkeypatch.setenv("WORKFORCE_WAREHOUSE_URL", "postgresql://workforce@db.internal/region_b")
    region_b = dbt_project.fingerprint()
    assert local[1] == "local" and region_a[1] == "server"
    assert len({local[0], region_a[0], region_b}) == 3
    assert same_database == region_a[0]
