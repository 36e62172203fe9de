"""A small adapter from Great Expectations 1.x to this project.

`dagster-ge` supports only GE < 1.0, so this module does the little it did: run a suite (JSON in
`expectations/suites/`) against a pandas frame in an ephemeral GE context (no state written into the
repository or the temp folder), keep Data Docs in a folder under `data/`, and turn a result into
plain outcomes that the Dagster layer converts into asset-check results. GE itself runs in a worker
process (`ge_worker.py`).

Severity is GE's own `severity` field on each expectation: `critical` failures block (a load is
quarantined, a publish is stopped); `warning` failures are reported and let the data through.
Every expectation also carries `meta.why`: the reason it exists, shown next to any failure.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import multiprocessing
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
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


class ValidationWorkerFailed(RuntimeError):
    """The Great Expectations worker process stopped or could not validate."""


class Validator:
    """Validates frames against the suites, in a Great Expectations worker process.

    Importing GE costs about 5 s and rendering Data Docs more than validating, so both happen in a
    process of their own, on the other core, while this one parses returns or builds the marts. One
    worker serves this process and keeps one ephemeral GE context per run (`docs_dir` is per run);
    it starts on first use, or earlier with `warm_up`, and stops when this process exits.
    """

    def __init__(self, docs_dir: Path | None = None) -> None:
        self.docs_dir = docs_dir

    def warm_up(self) -> None:
        """Start the worker (and its GE import) now, without waiting for it."""
        _worker()

    def validate(
        self,
        frame: pd.DataFrame,
        suite_name: str,
        id_columns: tuple[str, ...] = (),
        parameters: dict[str, Any] | None = None,
    ) -> SuiteOutcome:
        """Validate a frame; `parameters` fill `{"$PARAMETER": name}` values in the suite.

        The suite is read here, not in the worker: what is validated is what this process sees.
        """
        definition = load_suite(suite_name)
        return _worker().call("validate", frame, definition, tuple(id_columns), parameters, self.docs_dir)

    def docs_index(self) -> Path | None:
        return self.docs_dir / "index.html" if self.docs_dir else None


class _Worker:
    def __init__(self) -> None:
        from orchestration.lib.checks import ge_worker

        # spawn, not fork: this process may be running threads (dbt, Dagster) that a fork would copy
        # in whatever state they are in.
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process = context.Process(target=ge_worker.serve, args=(child,), name="great-expectations", daemon=True)
        self.process.start()
        child.close()
        self._lock = threading.Lock()

    def call(self, *request: Any) -> Any:
        with self._lock:
            try:
                self._conn.send(request)
                status, value = self._conn.recv()
            except (EOFError, OSError) as exc:
                raise ValidationWorkerFailed(
                    f"The Great Expectations worker stopped (exit code {self.process.exitcode}); "
                    "the run's log says why, often memory."
                ) from exc
        if status == "error":
            raise ValidationWorkerFailed(f"Great Expectations could not validate:\n{value}")
        return value

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(ValidationWorkerFailed):
                self.call("stop")
        self.process.join(timeout=30)
        self._conn.close()


_WORKER: _Worker | None = None
_WORKER_LOCK = threading.Lock()


def _worker() -> _Worker:
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None or not _WORKER.process.is_alive():
            _WORKER = _Worker()
            atexit.register(_WORKER.stop)
        return _WORKER
