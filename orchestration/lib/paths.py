"""Every filesystem location the warehouse uses, resolved at call time.

Environment variables are read when a path is asked for, never at import, so tests and
the CLI can point the whole pipeline somewhere else by setting them first.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# Reference data shipped with the project (LA codes, neighbours, column maps): read by dbt as seeds
# and by the Python loaders and generator directly.
REFERENCE_SEEDS_DIR = DBT_PROJECT_DIR / "seeds" / "reference"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations" / "suites"


def _absolute(setting: str) -> Path:
    # Resolved once per setting (and working folder, for a relative one): the portal asks on every
    # request, and resolve() walks every component of the path.
    return _resolved(setting, "" if os.path.isabs(setting) else os.getcwd())


@lru_cache(maxsize=16)
def _resolved(setting: str, working_dir: str) -> Path:
    return Path(working_dir, setting).resolve()


def data_dir() -> Path:
    """Root of all pipeline state (warehouse, Dagster home, reports, published files)."""
    return _absolute(os.environ.get("WORKFORCE_DATA_DIR", str(PROJECT_ROOT / "data")))


def raw_dir() -> Path:
    """The landing zone: council returns and published DfE / Ofsted files."""
    return _absolute(os.environ.get("WORKFORCE_RAW_DIR", str(PROJECT_ROOT / "raw")))


def returns_dir() -> Path:
    """CSWW returns, one file per LA per collection year: <old_la_code>/<year>/<file>.xml."""
    return raw_dir() / "returns"


def dfe_releases_dir() -> Path:
    """DfE CSWW 'Indicators' release files (CSV), one per release."""
    return raw_dir() / "dfe" / "csww_indicators"


def ofsted_dir() -> Path:
    """Ofsted local-authority inspection outcome files (CSV)."""
    return raw_dir() / "ofsted"


def warehouse_path() -> Path:
    """The working DuckDB that loads and dbt write to; never read by users."""
    return data_dir() / "warehouse" / "workforce.duckdb"


def warehouse_server_url() -> str | None:
    """WORKFORCE_WAREHOUSE_URL: a PostgreSQL server (`postgresql://...`) for the shared deployment.

    Unset or empty (the embedded default): None, and everything stays in the DuckDB files under
    data/. Keep a password out of the URL: libpq reads PGPASSWORD or ~/.pgpass (PGPASSFILE).
    """
    url = os.environ.get("WORKFORCE_WAREHOUSE_URL", "").strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError(
            f"WORKFORCE_WAREHOUSE_URL={url.split('@')[-1]!r} is not a PostgreSQL URL. Set it to "
            "postgresql://USER@HOST:PORT/DATABASE for a server, or unset it for the embedded DuckDB warehouse."
        )
    return url


def dagster_storage_url() -> str | None:
    """The server's URL as dagster-postgres reads it (through psycopg2), or None on the embedded default."""
    server = warehouse_server_url()
    return "postgresql+psycopg2://" + server.split("://", 1)[1] if server else None


def published_dir() -> Path:
    """What users read: the published DuckDB, its Parquet files and the manifest."""
    return data_dir() / "published"


def quarantine_dir() -> Path:
    """Returns that failed validation, with the report for the council."""
    return data_dir() / "quarantine"


def reports_dir() -> Path:
    """Validation reports: per-council error reports and GE Data Docs."""
    return data_dir() / "reports"


def portal_dir() -> Path:
    """The council portal's own state: accounts, sessions, tokens, submissions, audit log."""
    return data_dir() / "portal"


def return_reports_dir() -> Path:
    """Reports on returns that loaded with warnings, one folder per file (by sha256)."""
    return reports_dir() / "returns"


def logs_dir() -> Path:
    """Full logs of `workforce run`."""
    return data_dir() / "logs"


def dbt_dir() -> Path:
    """Everything dbt writes: parsed manifests, the latest command's artifacts, its logs."""
    return data_dir() / "dbt"


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", data_dir() / "dagster_home")).resolve()


def pseudonym_key_path() -> Path:
    """Local key file for SWENo pseudonyms, used when WORKFORCE_PSEUDONYM_KEY is not set."""
    return data_dir() / "secrets" / "pseudonym.key"


def personal_data_dirs() -> tuple[Path, ...]:
    """Folders that hold worker-level data or could: kept readable by their owner only.

    The working warehouse (its raw and sensitive schemas, and the staged rows of a load beside it),
    quarantined returns as sent, reports on returns and Data Docs (they quote values), logs, and
    the pseudonym key. Published files are aggregates and stay readable by their readers.
    """
    return (warehouse_path().parent, quarantine_dir(), reports_dir(), logs_dir(), pseudonym_key_path().parent)
