"""A small adapter from Great Expectations 1.x to this project.

`dagster-ge` supports only GE < 1.0, so this module does the little it did: run a suite (JSON in
`expectations/suites/`) against a pandas frame in an ephemeral GE context (no state written into the
repository), keep Data Docs in a folder under `data/`, and turn a result into plain outcomes that the
Dagster layer converts into asset-check results.

Severity is GE's own `severity` field on each expectation: `critical` failures block (a load is
quarantined, a publish is stopped); `warning` failures are reported and let the data through.
Every expectation also carries `meta.why`: the reason it exists, shown next to any failure.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.lib import measures, paths

BLOCKING = "critical"


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    why: str
    success: bool
    unexpected_count: int
    unexpected_examples: tuple[Any, ...]
    failing_rows: tuple[dict[str, Any], ...] = ()
    error: str | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        if self.error:
            return f"{self.expectation}{target} could not be evaluated ({self.error}); the suite needs fixing."
        examples = ", ".join(_readable(v) for v in self.unexpected_examples[:5])
        detail = f"{self.unexpected_count} unexpected" + (f" (e.g. {examples})" if examples else "")
        return f"{self.expectation}{target}: {detail}. Why it matters: {self.why}"


@dataclass
class SuiteOutcome:
    suite: str
    rows: int
    results: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success]

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [r for r in self.failed if r.blocking]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [r for r in self.failed if not r.blocking]

    @property
    def passed(self) -> bool:
        """True when nothing blocking failed (warnings may still be present)."""
        return not self.blocking_failures


def _readable(value: Any) -> str:
    """An example value as a person reads it: 436.9, not 436.88735935266766 or np.float64(436.9)."""
    if isinstance(value, float) or type(value).__name__.startswith(("float", "int")):
        return f"{float(value):.10g}" if float(value).is_integer() else f"{float(value):.2f}"
    return repr(value)


def merge_outcomes(outcomes: Iterable[SuiteOutcome]) -> SuiteOutcome:
    """One outcome for a suite validated over several frames (batches of one table)."""
    merged: SuiteOutcome | None = None
    for outcome in outcomes:
        if merged is None:
            merged = outcome
            continue
        merged.rows += outcome.rows
        merged.results = [
            replace(
                left,
                success=left.success and right.success,
                unexpected_count=left.unexpected_count + right.unexpected_count,
                unexpected_examples=(left.unexpected_examples + right.unexpected_examples)[:20],
                failing_rows=left.failing_rows + right.failing_rows,
                error=left.error or right.error,
            )
            for left, right in zip(merged.results, outcome.results, strict=True)
        ]
    if merged is None:
        raise ValueError("no outcomes to merge")
    return merged


def suite_path(name: str) -> Path:
    return paths.EXPECTATIONS_DIR / f"{name}.json"


def load_suite(name: str) -> dict[str, Any]:
    """The suite's JSON, plus the per-measure expectations its `meta` asks the measure registry for."""
    with suite_path(name).open(encoding="utf-8") as handle:
        definition = json.load(handle)
    definition["expectations"] += measures.suite_expectations(definition)
    return definition


def columns_used(name: str) -> list[str]:
    """The columns a suite's expectations read, so callers can load only those."""
    used: dict[str, None] = {}
    for expectation in load_suite(name)["expectations"]:
        kwargs = expectation["kwargs"]
        for key in ("column", "column_A", "column_B"):
            if key in kwargs:
                used[kwargs[key]] = None
        for column in kwargs.get("column_list", []):
            used[column] = None
        condition = kwargs.get("row_condition")
        if isinstance(condition, dict):
            used[condition["column"]["name"]] = None
    return list(used)


def suite_names() -> list[str]:
    return sorted(p.stem for p in paths.EXPECTATIONS_DIR.glob("*.json"))


class Validator:
    """One ephemeral GE context for a run: validates frames, keeps their Data Docs together."""

    def __init__(self, docs_dir: Path | None = None) -> None:
        self.docs_dir = docs_dir
        self._warming: threading.Thread | None = None
        self._serial = itertools.count()

    def warm_up(self) -> None:
        """Start importing Great Expectations (about 5 s) in the background.

        A caller that has other work first, like parsing returns in worker processes, hides the
        import behind it; `validate` waits for it to finish.
        """
        if self._warming is None and "_context" not in self.__dict__:
            self._warming = threading.Thread(target=lambda: self._context, name="ge-warm-up", daemon=True)
            self._warming.start()

    def _ready_context(self) -> Any:
        if self._warming is not None:
            self._warming.join()
        return self._context

    @cached_property
    def _context(self) -> Any:
        # Imported here: great_expectations costs ~5 s to import and most commands never validate.
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        if self.docs_dir is not None:
            self.docs_dir.mkdir(parents=True, exist_ok=True)
            context.add_data_docs_site(
                site_name="workforce",
                site_config={
                    "class_name": "SiteBuilder",
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(self.docs_dir),
                    },
                },
            )
        return context

    def validate(
        self,
        frame: pd.DataFrame,
        suite_name: str,
        id_columns: tuple[str, ...] = (),
        parameters: dict[str, Any] | None = None,
    ) -> SuiteOutcome:
        """Validate a frame; `parameters` fill `{"$PARAMETER": name}` values in the suite."""
        import great_expectations as gx
        from great_expectations.core.expectation_suite import ExpectationSuite

        context = self._ready_context()
        definition = load_suite(suite_name)
        suite = context.suites.add_or_update(ExpectationSuite(**definition))
        # A data source of its own per frame: GE's execution engine caches every batch it has seen
        # for the life of its data source, so memory would otherwise grow with every frame.
        name = f"{suite_name}__{next(self._serial)}"
        source = context.data_sources.add_pandas(name)
        asset = source.add_dataframe_asset(name)
        batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=asset.name, data=batch_definition, suite=suite)
        )
        result_format: dict[str, Any] = {"result_format": "COMPLETE" if id_columns else "SUMMARY"}
        if id_columns:
            result_format["unexpected_index_column_names"] = list(id_columns)
        actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs")] if self.docs_dir else []
        checkpoint = gx.Checkpoint(
            name=asset.name,
            validation_definitions=[validation],
            actions=actions,
            result_format=result_format,
        )
        run = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
        outcome = SuiteOutcome(suite=suite_name, rows=len(frame))
        for validation_result in run.run_results.values():
            outcome.results.extend(_outcome(r, id_columns) for r in validation_result.results)
        context.validation_definitions.delete(validation.name)
        context.data_sources.delete(source.name)
        return outcome

    def docs_index(self) -> Path | None:
        return self.docs_dir / "index.html" if self.docs_dir else None


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
