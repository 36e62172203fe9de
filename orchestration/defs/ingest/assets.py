"""Raw loads: council CSWW returns (partitioned by LA and year) and published DfE / Ofsted files.

Each load validates before it writes (return rules, then the Great Expectations suite of each
raw table) and reports the outcome as asset checks. A failing file is quarantined and the rest
load: the checks warn rather than block, because a council whose return was refused is
benchmarked from DfE's published figures instead of holding everyone else back.
"""

import logging

import dagster as dg

from orchestration.defs.ingest.partitions import RETURN_PARTITIONS, split_key
from orchestration.defs.validation import suite_check_result, validator_for_run
from orchestration.lib import paths, warehouse
from orchestration.lib.load.pseudonym import load_key
from orchestration.lib.load.published import PUBLISHED_SOURCES, PublishedSource, load_published
from orchestration.lib.load.returns import (
    LA_LEVEL_SUITE,
    WORKERS_SUITE,
    LoadSummary,
    ReturnLoader,
    discover_returns,
    newest_per_partition,
)

log = logging.getLogger("workforce")

RAW_GROUP = "raw"
CSWW_RETURNS = dg.AssetKey(["raw", "csww_returns"])
RULES_CHECK = "return_rules"


@dg.asset(
    key=CSWW_RETURNS,
    group_name=RAW_GROUP,
    kinds={"duckdb", "xml"},
    description="Council CSWW returns loaded into raw_csww: workers (one row per worker-role, SWENo "
    "pseudonymised), la_level (vacancies, agency cover), returns (the LA-years loaded now) and load_history "
    "(every attempt). The loader writes the four together, each LA-year replaced atomically, so they are "
    "one asset.",
    check_specs=[
        dg.AssetCheckSpec(
            RULES_CHECK,
            asset=CSWW_RETURNS,
            description="Every return passes the CSWW return rules (structure, codes, ranges, dates, "
            "duplicates); a return that does not is quarantined with a report for its council.",
        ),
        dg.AssetCheckSpec(WORKERS_SUITE, asset=CSWW_RETURNS, description="GE suite raw_csww__workers on the load."),
        dg.AssetCheckSpec(LA_LEVEL_SUITE, asset=CSWW_RETURNS, description="GE suite raw_csww__la_level on the load."),
    ],
    partitions_def=RETURN_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
)
def csww_returns(context: dg.AssetExecutionContext):
    """Load the returns of the run's LA-years from the landing zone (a full rebuild is one run)."""
    wanted = {split_key(key) for key in context.partition_keys}
    found, misplaced = discover_returns(paths.returns_dir())
    chosen, superseded = newest_per_partition(f for f in found if f.partition in wanted)
    superseded = [f for f in superseded if f.partition in wanted]
    log.info("returns: %d files to check for %d LA-years", len(chosen), len(wanted))
    with warehouse.connect() as con:
        loader = ReturnLoader(
            con,
            pseudonym_key=load_key(),
            validator=validator_for_run(context.run.run_id),
            run_id=context.run.run_id,
            progress=log.info,
        )
        summary = loader.load(chosen, superseded=superseded)
        summary.misplaced = misplaced
        worker_rows = warehouse.row_count(con, "raw_csww.workers")
        returns_loaded = warehouse.row_count(con, "raw_csww.returns")
    _log_summary(summary)
    yield dg.MaterializeResult(
        metadata={
            "files_loaded": len(summary.with_status("loaded")),
            "files_quarantined": len(summary.with_status("quarantined")),
            "files_unchanged": len(summary.with_status("unchanged")),
            "rows_loaded": summary.rows_loaded,
            "table_rows": worker_rows,
            "returns_in_warehouse": returns_loaded,
        },
    )
    yield _rules_check(summary)
    yield from _suite_checks(summary, context.run.run_id)


def _rules_check(summary: LoadSummary) -> dg.AssetCheckResult:
    refused = [o for o in summary.with_status("quarantined") if not o.message.startswith("The loaded table")]
    return dg.AssetCheckResult(
        check_name=RULES_CHECK,
        asset_key=CSWW_RETURNS,
        passed=not refused and not summary.misplaced,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_checked": len(summary.outcomes),
            "files_quarantined": len(refused),
            "quarantined": dg.MetadataValue.json(
                {str(o.path.relative_to(paths.raw_dir())): o.message for o in refused}
            ),
            "misplaced_files": dg.MetadataValue.json([str(p) for p in summary.misplaced]),
        },
    )


def _suite_checks(summary: LoadSummary, run_id: str):
    docs = validator_for_run(run_id).docs_index()
    outcomes = {outcome.suite: outcome for outcome in summary.suites}
    for suite in (WORKERS_SUITE, LA_LEVEL_SUITE):
        if suite in outcomes:
            # A failing return was quarantined and kept out of the warehouse: warn, never block.
            yield suite_check_result(
                outcomes[suite], check_name=suite, asset_key=CSWW_RETURNS, data_docs=str(docs), can_block=False
            )
        else:
            yield dg.AssetCheckResult(
                check_name=suite,
                asset_key=CSWW_RETURNS,
                passed=True,
                metadata={"note": "no new or changed returns"},
            )


def _log_summary(summary: LoadSummary) -> None:
    log.info(
        "returns: %d loaded (%d worker-role rows), %d unchanged, %d quarantined, %d superseded",
        len(summary.with_status("loaded")),
        summary.rows_loaded,
        len(summary.with_status("unchanged")),
        len(summary.with_status("quarantined")),
        len(summary.with_status("superseded")),
    )
    for outcome in summary.with_status("quarantined"):
        log.warning("quarantined %s: %s (report: %s)", outcome.path.name, outcome.message, outcome.report_path)
    for path in summary.misplaced:
        log.warning("not loaded: %s is not under returns/<LA code>/<year>/", path)


def build_published_file_asset(source: PublishedSource) -> dg.AssetsDefinition:
    """One raw asset per kind of published file (DfE releases, Ofsted outcomes)."""
    key = dg.AssetKey(["raw", source.name])

    @dg.asset(
        key=key,
        group_name=RAW_GROUP,
        kinds={"duckdb", "csv"},
        description=f"{source.name}: published files from the landing zone, each loaded only after it "
        "passes its column map and its Great Expectations suite.",
        check_specs=[
            dg.AssetCheckSpec(
                source.suite,
                asset=key,
                blocking=True,
                description=f"GE suite {source.suite} on each file; refused files are quarantined. "
                "Blocks only if no rows at all remain for this source.",
            )
        ],
        pool="warehouse",
    )
    def _load(context: dg.AssetExecutionContext):
        with warehouse.connect() as con:
            summary = load_published(
                con,
                source,
                validator=validator_for_run(context.run.run_id),
                run_id=context.run.run_id,
                progress=log.info,
            )
            exists = warehouse.table_exists(con, source.schema, source.table)
            rows = warehouse.row_count(con, source.qualified_table) if exists else 0
        refused = summary.with_status("quarantined")
        for outcome in refused:
            log.warning("quarantined %s: %s", outcome.path.name, outcome.message)
        yield dg.MaterializeResult(
            metadata={
                "table_rows": rows,
                "files_loaded": len(summary.with_status("loaded")),
                "files_unchanged": len(summary.with_status("unchanged")),
                "files_quarantined": len(refused),
            }
        )
        yield dg.AssetCheckResult(
            check_name=source.suite,
            passed=not refused and all(s.passed for s in summary.suites),
            # No rows at all would leave the benchmarks without this source: that blocks.
            severity=dg.AssetCheckSeverity.ERROR if rows == 0 else dg.AssetCheckSeverity.WARN,
            metadata={
                "files_quarantined": dg.MetadataValue.json({o.path.name: o.message for o in refused}),
                "warnings": dg.MetadataValue.json([r.describe() for s in summary.suites for r in s.warnings]),
            },
        )

    return _load


published_file_assets = [build_published_file_asset(source) for source in PUBLISHED_SOURCES]
