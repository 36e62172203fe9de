"""Audit and publish: Great Expectations suites on every published mart, then the publish step.

The mart checks are blocking: if any critical expectation fails, Dagster does not run
`published_benchmarks`, so the published files stay exactly as they were and the run reports why.
"""

import logging
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from orchestration.defs.validation import suite_check_result, validator_for_run
from orchestration.lib import paths, warehouse
from orchestration.lib.publish import publication
from orchestration.lib.server import warehouse as server_warehouse

log = logging.getLogger("workforce")

PUBLISH_GROUP = "publish"


def mart_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", table])


def mart_suite(table: str) -> str:
    return f"marts__{table}"


def build_mart_check(table: str) -> dg.AssetChecksDefinition:
    """Validate one published mart with its suite before anything is published."""

    @dg.asset_check(
        asset=mart_key(table),
        name=mart_suite(table),
        blocking=True,
        description=f"GE suite {mart_suite(table)}: must pass before the benchmarks are published.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        frame = _mart_frame(table)
        validator = validator_for_run(context.run.run_id)
        outcome = validator.validate(frame, mart_suite(table))
        for failure in outcome.failed:
            log.log(logging.ERROR if failure.blocking else logging.WARNING, "%s: %s", table, failure.describe())
        return suite_check_result(
            outcome,
            check_name=mart_suite(table),
            asset_key=mart_key(table),
            data_docs=str(validator.docs_index()) if outcome.blocking_failures else None,
        )

    return _check


def _mart_frame(table: str) -> pd.DataFrame:
    """The mart as dbt built it, in the working DuckDB or on the server (as DuckDB would give it)."""
    server = paths.warehouse_server_url()
    if server:
        return duckdb.from_arrow(server_warehouse.read_table(server, f"marts.{table}")).df()
    with warehouse.connect() as con:
        return con.execute(f"select * from marts.{table}").df()


mart_checks = [build_mart_check(table) for table in publication.PUBLISHED_TABLES]


@dg.asset(
    key="published_benchmarks",
    group_name=PUBLISH_GROUP,
    deps=[mart_key(table) for table in publication.PUBLISHED_TABLES],
    kinds={"duckdb", "parquet"},
    description="The audited marts as a read-only DuckDB and Parquet files under data/published, "
    "swapped in atomically; the previous version is kept for `workforce rollback`.",
    pool="warehouse",
)
def published_benchmarks(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    version = publication.publish(
        run_id=context.run.run_id,
        checks=_run_check_results(context),
        inputs=_inputs(),
    )
    log.info("published version %s", version.version)
    return dg.MaterializeResult(
        metadata={
            "version": version.version,
            "previous_version": str(version.manifest.get("previous_version")),
            "folder": dg.MetadataValue.path(str(version.folder)),
            **{f"rows_{table}": rows for table, rows in version.manifest["tables"].items()},
        }
    )


@dg.asset(
    key="server_sharing",
    group_name=PUBLISH_GROUP,
    deps=["published_benchmarks"],
    kinds={"postgres"},
    description="On the shared deployment (WORKFORCE_WAREHOUSE_URL): the data-sharing agreement and the "
    "published version's DfE years written to the server, which its row policies read. On the embedded "
    "default there is no server and nothing to write.",
)
def server_sharing() -> dg.MaterializeResult:
    url = paths.warehouse_server_url()
    if not url:
        return dg.MaterializeResult(metadata={"server": "none (the embedded default)"})
    # The agreement is the portal's; its rule for who sees whose provisional figures is applied
    # here too, so the database and the pages cannot disagree. Until this step has run, the
    # server's policies keep the previous answer, and a year they do not know DfE has published
    # stays restricted (they fail closed).
    from portal import agreement, server_access
    from portal.settings import load_settings

    pairs, years = server_access.sync(url, agreement.load(load_settings().agreement_path))
    log.info("server sharing: %d council pairs may see provisional figures; DfE has published %d years", pairs, years)
    return dg.MaterializeResult(metadata={"council_pairs": pairs, "dfe_published_years": years})


def _run_check_results(context: dg.AssetExecutionContext) -> list[dict[str, Any]]:
    """Every check evaluated in this run, for the publication manifest."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    results = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.partition is not None:
            continue  # per LA-year statuses (raw/csww_accepted_returns), not checks on what is published
        results.append(
            {
                "asset": evaluation.asset_key.to_user_string(),
                "check": evaluation.check_name,
                "passed": evaluation.passed,
                "severity": evaluation.severity.value,
            }
        )
    return sorted(results, key=lambda r: (r["asset"], r["check"]))


def _inputs() -> dict[str, Any]:
    """What the publication was built from, by sha256."""
    with warehouse.connect() as con:
        returns = con.execute(
            "select old_la_code, collection_year, source_file, file_sha256 from raw_csww.returns order by 1, 2"
        ).fetchall()
        releases = con.execute(
            "select distinct source_file, file_sha256 from raw_dfe.csww_indicators order by 1"
        ).fetchall()
        ofsted = con.execute(
            "select distinct source_file, file_sha256 from raw_ofsted.ilacs_inspections order by 1"
        ).fetchall()
    return {
        "council_returns": [
            {"old_la_code": la, "collection_year": year, "file": name, "sha256": sha} for la, year, name, sha in returns
        ],
        "dfe_releases": [{"file": name, "sha256": sha} for name, sha in releases],
        "ofsted_files": [{"file": name, "sha256": sha} for name, sha in ofsted],
    }
