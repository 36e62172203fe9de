"""Write-audit-publish of the benchmark tables.

dbt builds the marts in the working warehouse (the DuckDB file, or the server on the shared
deployment) and the checks audit them there. Publishing then
copies the audited marts into a new, never-modified version folder (a read-only DuckDB plus one
Parquet file per table and a manifest) and switches `published` to it by renaming a symlink, which
is atomic: a reader sees either the old version or the new one, never half of each, and a reader
holding the old DuckDB open keeps reading it. The previous version stays on disk for rollback.
With WORKFORCE_WAREHOUSE_URL set, the same version is published on the server in between
(postgres.py), and the link moves only once the server publishes it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib import paths, warehouse
from orchestration.lib.publish import postgres
from orchestration.lib.server import warehouse as server_warehouse

PUBLISHED_TABLES: dict[str, tuple[str, ...]] = {
    # table: the columns that order its rows, so a republish of the same data is identical.
    "fct_workforce_indicators": ("time_period", "geographic_level", "area_code"),
    "fct_workforce_benchmarks": ("time_period", "old_la_code", "measure"),
    "fct_statistical_neighbour_values": ("time_period", "old_la_code", "measure", "neighbour_rank"),
    "fct_inspections": ("old_la_code", "inspection_date"),
    "dim_local_authorities": ("old_la_code",),
    "fct_published_reconciliation": ("time_period", "geographic_level", "area_code", "measure"),
    "dim_measures": ("ees_order",),
}
PUBLISHED_DB_NAME = "benchmarks.duckdb"
MANIFEST_NAME = "manifest.json"
VERSIONS_KEPT = 5


class PublishError(RuntimeError):
    pass


@dataclass(frozen=True)
class Publication:
    version: str
    folder: Path
    manifest: dict[str, Any]


def versions_dir() -> Path:
    return paths.data_dir() / "publications"


def current_version() -> str | None:
    # One readlink, not a resolve() of every component: the portal asks on every request.
    try:
        return Path(os.readlink(paths.published_dir())).name
    except OSError:  # no link yet (or not a link)
        return None


def current_folder() -> Path | None:
    version = current_version()
    return versions_dir() / version if version else None


def read_manifest(version: str | None = None) -> dict[str, Any] | None:
    folder = versions_dir() / version if version else paths.published_dir()
    manifest = folder / MANIFEST_NAME
    return json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else None


def publish(*, run_id: str, checks: list[dict[str, Any]], inputs: dict[str, Any]) -> Publication:
    """Copy the audited marts into a new version and make it the published one."""
    stamp = dt.datetime.now(dt.UTC)
    version = f"{stamp:%Y%m%dT%H%M%S%fZ}_{run_id[:8]}"
    root = versions_dir()
    staging = root / f".{version}.partial"
    final = root / version
    staging.mkdir(parents=True, exist_ok=False)
    try:
        row_counts = _copy_marts(staging)
        previous = current_version()
        manifest = {
            "version": version,
            "published_at": stamp.isoformat(),
            "run_id": run_id,
            "previous_version": previous,
            "tables": row_counts,
            "inputs": inputs,
            "checks": checks,
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        for item in staging.iterdir():
            item.chmod(0o444)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    server = paths.warehouse_server_url()
    if server:
        try:
            postgres.publish(server, final / PUBLISHED_DB_NAME, manifest, list(PUBLISHED_TABLES), keep=VERSIONS_KEPT)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
    _point_published_at(version)
    _prune(keep={version, previous})
    return Publication(version=version, folder=final, manifest=manifest)


def rollback() -> Publication:
    """Make the version published before the current one current again."""
    manifest = read_manifest()
    if manifest is None:
        raise PublishError("Nothing is published yet, so there is nothing to roll back.")
    previous = manifest.get("previous_version")
    if not previous or not (versions_dir() / previous).exists():
        raise PublishError(f"Version {manifest['version']} has no earlier version on disk to roll back to.")
    server = paths.warehouse_server_url()
    if server:
        try:
            postgres.rollback(server, previous)
        except postgres.ServerPublishError as exc:
            raise PublishError(str(exc)) from exc
    _point_published_at(previous)
    return Publication(previous, versions_dir() / previous, read_manifest(previous) or {})


def _copy_marts(folder: Path) -> dict[str, int]:
    server = paths.warehouse_server_url()
    return _copy_server_marts(server, folder) if server else _copy_working_marts(folder)


def _copy_working_marts(folder: Path) -> dict[str, int]:
    target = folder / PUBLISHED_DB_NAME
    counts: dict[str, int] = {}
    with warehouse.connect() as con:
        con.execute(f"attach '{target}' as published")
        try:
            for table, order in PUBLISHED_TABLES.items():
                ordered = f"select * from marts.{table} order by {', '.join(order)}"
                con.execute(f"create table published.main.{table} as {ordered}")
                con.execute(f"copy ({ordered}) to '{folder / (table + '.parquet')}' (format parquet)")
                counts[table] = warehouse.row_count(con, f"published.main.{table}")
        finally:
            con.execute("detach published")
    return counts


def _copy_server_marts(server: str, folder: Path) -> dict[str, int]:
    """The marts dbt built on the server, as the version's DuckDB and Parquet files (the portal and
    the packs read these); the same version is then published on the server from them."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(folder / PUBLISHED_DB_NAME)) as con:
        for table, order in PUBLISHED_TABLES.items():
            rows = server_warehouse.read_table(server, f"marts.{table}", order_by=order)
            con.register("server_rows", rows)
            con.execute(f"create table {table} as select * from server_rows")
            con.unregister("server_rows")
            con.execute(f"copy {table} to '{folder / (table + '.parquet')}' (format parquet)")
            counts[table] = warehouse.row_count(con, table)
    return counts


def _point_published_at(version: str) -> None:
    link = paths.published_dir()
    if link.exists() and not link.is_symlink():
        raise PublishError(f"{link} exists and is not a link made by this tool; move it away first.")
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".published.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(Path("publications") / version)
    os.replace(temporary, link)


def _prune(keep: set[str | None]) -> None:
    versions = sorted(p for p in versions_dir().iterdir() if p.is_dir() and not p.name.startswith("."))
    for stale in versions[:-VERSIONS_KEPT]:
        if stale.name not in keep:
            shutil.rmtree(stale, ignore_errors=True)
    for partial in versions_dir().glob(".*.partial"):
        shutil.rmtree(partial, ignore_errors=True)
