"""After an accepted upload: load that LA-year and republish, one run at a time.

On the embedded default nothing else watches the landing zone, so the portal runs
`workforce run --job republish_returns --partition '<code>|<year>'` itself, in a subprocess (the
web server never holds the warehouse), one at a time (DuckDB has one writer). Requests for the same
LA-year that arrive while it waits are one run. A run that finds the warehouse busy (a full rebuild
from the command line, say) is tried again a little later. Under `make dev` the landing-zone sensor
does this instead (WORKFORCE_PORTAL_REPUBLISH=sensor).

The submission's own status is not taken from the run's exit code alone: a return is *live* only
when the published manifest lists its sha256 (see `submissions.status_of`).
"""

from __future__ import annotations

import logging
import queue
import subprocess
import threading
import time

from portal import adapter
from portal.store import (
    REPUBLISH_FAILED,
    REPUBLISH_FINISHED,
    REPUBLISH_QUEUED,
    REPUBLISH_RUNNING,
    Store,
)

log = logging.getLogger("portal")

BUSY_RETRIES = 5
BUSY_WAIT_SECONDS = 20.0
_STOP = ("", 0)


class Republisher:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: queue.Queue[tuple[str, int]] = queue.Queue()
        self._waiting: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker and pick up whatever was waiting when the portal last stopped."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._work, name="republisher", daemon=True)
        self._thread.start()
        for submission in self.store.submissions_in_republish_state(REPUBLISH_QUEUED, REPUBLISH_RUNNING):
            self.request(submission.old_la_code, submission.collection_year)

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def request(self, old_la_code: str, year: int) -> None:
        key = (old_la_code, year)
        with self._lock:
            if key in self._waiting:
                return
            self._waiting.add(key)
        self._queue.put(key)

    def _pending(self, old_la_code: str, year: int) -> list:
        return [
            s
            for s in self.store.submissions_in_republish_state(REPUBLISH_QUEUED, REPUBLISH_RUNNING)
            if s.old_la_code == old_la_code and s.collection_year == year
        ]

    def _work(self) -> None:
        while True:
            key = self._queue.get()
            if key == _STOP:
                return
            with self._lock:
                self._waiting.discard(key)
            try:
                self._republish(*key)
            except Exception:  # the worker must outlive any one run; the failure is on the submission
                log.exception("republish of %s|%s failed", *key)

    def _republish(self, old_la_code: str, year: int) -> None:
        waiting = self._pending(old_la_code, year)
        if not waiting:
            return
        for submission in waiting:
            self.store.set_republish_state(old_la_code, submission.id, REPUBLISH_RUNNING, "Loading and republishing.")
        state, message = REPUBLISH_FAILED, ""
        for attempt in range(1, BUSY_RETRIES + 1):
            completed = subprocess.run(
                adapter.republish_command(old_la_code, year),
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            output = completed.stdout + completed.stderr
            if completed.returncode == 0:
                state, message = REPUBLISH_FINISHED, _summary(output)
                break
            message = _summary(output) or f"The republish run exited with status {completed.returncode}."
            if "busy" not in output.lower() or attempt == BUSY_RETRIES:
                break
            time.sleep(BUSY_WAIT_SECONDS)
        for submission in waiting:
            self.store.set_republish_state(old_la_code, submission.id, state, message)


def _summary(output: str) -> str:
    """The run's own summary (the lines after 'Summary'), or its last lines."""
    lines = output.strip().splitlines()
    if "Summary" in lines:
        lines = lines[lines.index("Summary") + 2 :]
    return "\n".join(lines[-12:])
