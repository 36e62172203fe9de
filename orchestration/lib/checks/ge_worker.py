"""The process that runs Great Expectations for `expectations.Validator`.

It imports GE (about 5 s), holds one ephemeral GE context per run (a run is known by its Data
Docs folder) and answers validation requests over a pipe. Data Docs are rendered after the answer
is sent, while the requesting process gets on with its work, and only for validations where a
blocking (critical) expectation failed, which kept a file out or stopped a publish: those are the
pages someone opens (warnings are in the run's summary, its log and the check results). The site's
index is written when the run's last validation is done (a new run begins, or the process that
asked stops). The context is built without GE's default docs site, which would otherwise be
written to the system temp folder.
"""

from __future__ import annotations

import gc
import traceback
from collections import deque
from copy import deepcopy
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.lib.checks.expectations import BLOCKING, ExpectationOutcome, SuiteOutcome

SITE_NAME = "workforce"


class RunContext:
    """One run's ephemeral GE context, its suites and its Data Docs site."""

    def __init__(self, docs_dir: Path | None) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self.docs_dir = docs_dir
        sites = {}
        if docs_dir is not None:
            sites[SITE_NAME] = {
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            }
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            data_docs_sites=sites,
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        self.context = gx.get_context(project_config=config, mode="ephemeral")
        self._suites: dict[str, tuple[dict[str, Any], Any]] = {}
        """Each suite added to the context, by name, with the definition it was added from."""
        self._serial = 0
        # Validation results whose Data Docs page is still to be rendered, and the last one that was.
        self.docs_pending: deque[tuple[Any, Any]] = deque()
        self._last_page: list[Any] = []

    def validate(
        self,
        frame: pd.DataFrame,
        definition: dict[str, Any],
        id_columns: tuple[str, ...],
        parameters: dict[str, Any] | None,
    ) -> SuiteOutcome:
        """Validate `frame` against a suite as the parent process read it (`load_suite`)."""
        import great_expectations as gx
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        suite_name = definition["name"]
        added = self._suites.get(suite_name)
        if added is None or added[0] != definition:
            # A suite changed on disk since this run's context added it (tests do this): add it anew.
            if added is not None:
                self.context.suites.delete(suite_name)
            self._suites[suite_name] = (definition, self.context.suites.add(ExpectationSuite(**deepcopy(definition))))
        suite = self._suites[suite_name][1]
        # A data source of its own per frame, deleted after: GE's execution engine caches every batch
        # it has seen for the life of its data source.
        self._serial += 1
        name = f"{suite_name}__{self._serial}"
        source = self.context.data_sources.add_pandas(name)
        batch_definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole_frame")
        validation = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
        )
        result_format: dict[str, Any] = {"result_format": "COMPLETE" if id_columns else "SUMMARY"}
        if id_columns:
            result_format["unexpected_index_column_names"] = list(id_columns)
        checkpoint = gx.Checkpoint(name=name, validation_definitions=[validation], result_format=result_format)
        run = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
        outcome = SuiteOutcome(suite=suite_name, rows=len(frame))
        for identifier, validation_result in run.run_results.items():
            results = [_outcome(r, id_columns) for r in validation_result.results]
            outcome.results.extend(results)
            if self.docs_dir is not None and any(r.blocking and not r.success for r in results):
                self.docs_pending.append((identifier, ExpectationSuiteIdentifier(name=suite_name)))
        self.context.validation_definitions.delete(validation.name)
        self.context.data_sources.delete(source.name)
        return outcome

    def render_next_page(self) -> None:
        self._last_page = list(self.docs_pending.popleft())
        # The site's index lists every page, so it is built once, when the run's pages are written.
        self.context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=self._last_page, build_index=False)

    def finish(self) -> None:
        """Write the pages still pending, then the index (GE builds it with a page: the last one)."""
        while self.docs_pending:
            self.render_next_page()
        if self._last_page:
            self.context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=self._last_page)
            self._last_page = []


def serve(conn: Connection) -> None:
    """The worker's loop: validate on request, render Data Docs when there is nothing to answer."""
    import great_expectations  # noqa: F401  the slow import, paid before the first request arrives

    gc.freeze()  # what the import made lives as long as the worker: out of the collector's way
    run: RunContext | None = None
    while True:
        if run is not None and run.docs_pending and not conn.poll():
            run.render_next_page()
            continue
        try:
            request = conn.recv()
        except EOFError:
            return
        kind, *args = request
        try:
            if kind == "validate":
                frame, definition, id_columns, parameters, docs_dir = args
                if run is None or run.docs_dir != docs_dir:
                    _finish(run)
                    run = RunContext(docs_dir)
                conn.send(("ok", run.validate(frame, definition, id_columns, parameters)))
            elif kind == "stop":
                _finish(run)
                conn.send(("ok", None))
                return
        except Exception:
            conn.send(("error", traceback.format_exc()))


def _finish(run: RunContext | None) -> None:
    if run is not None:
        run.finish()


def _outcome(result: Any, id_columns: tuple[str, ...]) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    failing_rows: tuple[dict[str, Any], ...] = ()
    if id_columns and not result.success:
        failing_rows = tuple(
            {column: row.get(column) for column in id_columns}
            for row in details.get("unexpected_index_list") or []
            if isinstance(row, dict)
        )
    severity = getattr(config.severity, "value", config.severity) or BLOCKING
    exception = result.exception_info or {}
    if "raised_exception" not in exception:  # keyed by metric when a metric failed to compute
        exception = next(iter(exception.values()), {}) if exception else {}
    error = exception.get("exception_message") if exception.get("raised_exception") else None
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column"),
        severity=str(severity),
        why=(config.meta or {}).get("why", ""),
        success=bool(result.success),
        unexpected_count=int(details.get("unexpected_count") or (0 if result.success else 1)),
        unexpected_examples=tuple(details.get("partial_unexpected_list") or ()),
        failing_rows=failing_rows,
        error=error,
    )
