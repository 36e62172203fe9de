"""The dbt project as the orchestration layer runs it: in this process, from a manifest parsed once per
version of the project, with everything dbt writes under data/dbt.

- `prepare()` parses the project into `data/dbt/manifests/<target>/<fingerprint>/`: `manifest.json`,
  which `@dbt_assets` reads when the code location loads, and `manifest.pickle`, the same parse as
  dbt's own object, which a run hands to dbt so it never parses again. The target is `local` (the
  DuckDB file) or `server` (WORKFORCE_WAREHOUSE_URL): a dispatched macro's version is chosen by the
  adapter at parse time, so each has its own parse. The fingerprint covers every file
  of the project and the dbt version, so an edited model gives a new folder and nothing has to judge
  staleness. A folder is parsed beside its final name and renamed into place under a file lock: two
  processes starting at once (pytest-xdist workers, a run next to `dagster dev`) parse once, and a
  reader never sees half a folder.
- `invoke()` runs a dbt command in process; its artifacts (the SQL it compiled and ran) go to
  `data/dbt/target`, its log to `data/dbt/logs`.

dagster-dbt's `DbtProject.prepare_if_dev()` does part of this, but only under `dagster dev`, by
running `dbt parse` in a subprocess on every load of the code location, and it yields no parsed
manifest to run with; `prepare()` works the same for the CLI, the tests and `dagster dev`.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import fcntl
import gc
import hashlib
import importlib.metadata
import os
import pickle
import shutil
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from orchestration.lib import paths

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult
    from dbt.contracts.graph.manifest import Manifest

PROJECT_DIR = paths.DBT_PROJECT_DIR
PROFILES_DIR = paths.DBT_PROJECT_DIR
MANIFEST_JSON = "manifest.json"
MANIFEST_PICKLE = "manifest.pickle"
# What a parse reads: the project's own files (seeds included, whose columns the manifest records).
_SOURCE_PATTERNS = (
    "dbt_project.yml",
    "profiles.yml",
    "models/**/*",
    "macros/**/*",
    "seeds/**/*",
    "tests/**/*",
)


def target_name() -> str:
    """The profile's output dbt builds in: `server` when WORKFORCE_WAREHOUSE_URL names one, else `local`."""
    return "server" if paths.warehouse_server_url() else "local"


def _server_environment() -> dict[str, str]:
    """The server's connection settings as profiles.yml reads them, from WORKFORCE_WAREHOUSE_URL."""
    url = paths.warehouse_server_url()
    if not url:
        return {}
    from psycopg.conninfo import conninfo_to_dict

    settings = conninfo_to_dict(url)
    names = {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD", "dbname": "DATABASE"}
    return {f"WORKFORCE_SERVER_{name}": str(settings[key]) for key, name in names.items() if settings.get(key)}


def dbt_environment() -> dict[str, str]:
    """Variables dbt reads: the warehouse follows WORKFORCE_DATA_DIR (or WORKFORCE_WAREHOUSE_URL),
    and a `dbt` started by hand or by a test writes its target and logs under data/dbt too."""
    return {
        **_server_environment(),
        "WORKFORCE_WAREHOUSE_PATH": str(paths.warehouse_path()),
        "DBT_TARGET_PATH": str(target_dir()),
        "DBT_LOG_PATH": str(log_dir()),
        # One line per node and every error; DBT_LOG_LEVEL_FILE=debug adds every query (about a
        # tenth more build time).
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "info"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def target_dir() -> Path:
    """Artifacts of the latest dbt command (the SQL it compiled and ran)."""
    return paths.dbt_dir() / "target"


def log_dir() -> Path:
    return paths.dbt_dir() / "logs"


def fingerprint() -> str:
    """Changes whenever a parse could give a different manifest."""
    digest = hashlib.sha256()
    for package in ("dbt-core", "dbt-duckdb", "dbt-postgres"):
        digest.update(f"{package}=={importlib.metadata.version(package)}\n".encode())
    # A parse writes the target's database into every relation of the manifest.
    database = _server_environment().get("WORKFORCE_SERVER_DATABASE", "")
    digest.update(f"{PROJECT_DIR}\n{database}\n".encode())
    files = sorted({p for pattern in _SOURCE_PATTERNS for p in PROJECT_DIR.glob(pattern) if p.is_file()})
    for path in files:
        digest.update(f"{path.relative_to(PROJECT_DIR)}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def prepare() -> Path:
    """The folder holding the parsed manifest of the project as it is now; parses it if needed."""
    manifests = paths.dbt_dir() / "manifests" / target_name()
    folder = manifests / fingerprint()
    if (folder / MANIFEST_PICKLE).exists():
        return folder
    manifests.mkdir(parents=True, exist_ok=True)
    with (manifests / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / MANIFEST_PICKLE).exists():
            _parse_into(folder)
    return folder


def _parse_into(folder: Path) -> None:
    """Parse beside `folder`, then rename it into place; earlier versions' folders are removed."""
    building = folder.with_name(f"{folder.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    earlier = [p for p in folder.parent.iterdir() if p.is_dir() and p != building]
    for previous in earlier:
        # dbt re-reads only the files that changed when it finds the previous parse's state.
        state = previous / "partial_parse.msgpack"
        if state.exists():
            shutil.copy(state, building / state.name)
            break
    result = invoke(["parse"], target=building)
    if not result.success:
        raise RuntimeError(f"dbt could not parse {PROJECT_DIR}: {result.exception}")
    with (building / MANIFEST_PICKLE).open("wb") as handle:
        _pickle_manifest(result.result, handle)
    building.rename(folder)
    for previous in earlier:
        shutil.rmtree(previous, ignore_errors=True)


def _pickle_manifest(manifest: Manifest, handle: BinaryIO) -> None:
    """Pickle the manifest field by field. dbt's own `Manifest.__reduce_ex__` passes the fields by
    position and, in dbt-core 1.11, leaves three out (`fixtures` first), so every later field would
    come back in the wrong place."""
    pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {
        **copyreg.dispatch_table,
        type(manifest): lambda m: (_manifest_from_fields, (_manifest_fields(m),)),
    }
    pickler.dump(manifest)


def _manifest_fields(manifest: Manifest) -> dict[str, Any]:
    # The lock is made afresh by the constructor; it cannot be pickled.
    return {f.name: getattr(manifest, f.name) for f in dataclasses.fields(manifest) if f.name != "_lock"}


def _manifest_from_fields(fields: dict[str, Any]) -> Manifest:
    from dbt.contracts.graph.manifest import Manifest

    return Manifest(**fields)


@cache
def load_manifest(folder: Path) -> Manifest:
    """dbt's parsed manifest from a prepared folder (written by `prepare`, under data/ like the warehouse)."""
    path = folder / MANIFEST_PICKLE
    if not path.exists():
        raise RuntimeError(
            f"The parsed dbt project {folder} is gone: the project changed after this code was loaded. "
            "Reload the code location (or start the command again)."
        )
    with path.open("rb") as handle:
        return pickle.load(handle)


def invoke(
    args: Sequence[str],
    *,
    manifest: Manifest | None = None,
    callbacks: Sequence[Callable[[Any], None]] = (),
    target: Path | None = None,
) -> dbtRunnerResult:
    """Run a dbt command in this process (no `dbt` start-up, no re-parse when given a manifest)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    for stale in [name for name in os.environ if name.startswith("WORKFORCE_SERVER_")]:
        del os.environ[stale]  # a server named earlier in this process, e.g. by a test
    os.environ.update(dbt_environment())
    command = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROFILES_DIR),
        "--target-path",
        str(target or target_dir()),
        "--log-path",
        str(log_dir()),
        "--target",
        target_name(),
        "--quiet",
    ]
    try:
        return dbtRunner(manifest=manifest, callbacks=list(callbacks)).invoke(command)
    finally:
        # dbt-duckdb keeps the warehouse open for the life of the process; this process opens it
        # again (checks, publish) with its own settings, which DuckDB refuses while dbt holds it.
        # Dropping dbt's environment is not enough: a cursor still held by one of dbt's worker
        # threads, or left in a reference cycle, kept the database open into the next step (a CI
        # run failed so). Closing the environment's connection closes every cursor made from it.
        with contextlib.suppress(Exception):  # env() raises when dbt never opened the warehouse
            DuckDBConnectionManager.env().close()
        DuckDBConnectionManager.close_all_connections()
        gc.collect()
