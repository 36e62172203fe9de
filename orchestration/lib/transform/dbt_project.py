"""The dbt project as the orchestration layer sees it: where it is, how dbt is invoked, and the
manifest Dagster needs before it can load the dbt assets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.lib import paths

MANIFEST_PATH = paths.DBT_PROJECT_DIR / "target" / "manifest.json"
# dbt lives next to the interpreter running us, so no PATH set-up is needed.
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
_SOURCE_PATTERNS = (
    "dbt_project.yml",
    "profiles.yml",
    "models/**/*",
    "macros/**/*",
    "seeds/**/*",
    "tests/**/*",
)


def dbt_environment() -> dict[str, str]:
    """Variables the dbt profile reads: the warehouse file follows WORKFORCE_DATA_DIR."""
    return {
        "WORKFORCE_WAREHOUSE_PATH": str(paths.warehouse_path()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def apply_dbt_environment() -> None:
    os.environ.update(dbt_environment())


def manifest_is_stale() -> bool:
    if not MANIFEST_PATH.exists():
        return True
    built = MANIFEST_PATH.stat().st_mtime
    return any(
        path.stat().st_mtime > built
        for pattern in _SOURCE_PATTERNS
        for path in paths.DBT_PROJECT_DIR.glob(pattern)
        if path.is_file()
    )


def ensure_manifest() -> None:
    """Run `dbt parse` when the manifest is missing or older than the project (about 5 s)."""
    if not manifest_is_stale():
        return
    subprocess.run(
        [
            str(DBT_EXECUTABLE),
            "parse",
            "--quiet",
            "--project-dir",
            str(paths.DBT_PROJECT_DIR),
            "--profiles-dir",
            str(paths.DBT_PROJECT_DIR),
        ],
        check=True,
        env={**os.environ, **dbt_environment()},
    )
