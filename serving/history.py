"""Score history written off the request path.

Every score the API serves is recorded (lead, time, model version,
probability, grade, reasons), but a database round trip per request would
cost more than the scoring itself. Requests enqueue their rows; one thread
writes them in batches. Reading the history flushes first, so a client that
scores a lead and then asks for its history sees that score.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from typing import Protocol

from data.store import Store
from data.store.records import ScoreIn

logger = logging.getLogger(__name__)

BATCH = 500
POLL = 0.01
"""How often a gathering writer checks whether a reader is waiting (seconds)."""
_STOP = object()


class HistoryMetrics(Protocol):
    """Told how many rows were queued, then written or dropped (`serving.metrics`)."""

    def queued(self, rows: int) -> None: ...
    def written(self, rows: int) -> None: ...
    def dropped(self, rows: int) -> None: ...


class HistoryWriter:
    """A background writer of `ScoreIn` rows into the store."""

    def __init__(
        self, store: Store, interval: float = 0.2, metrics: HistoryMetrics | None = None
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._interval = interval
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="score-history", daemon=True)
        self._hurry = threading.Event()
        self.written = 0
        self.failed = 0

    def start(self) -> None:
        self._thread.start()

    def add(self, rows: Iterable[ScoreIn]) -> None:
        rows = rows if isinstance(rows, list) else list(rows)
        if self._metrics is not None:  # before the writer can take them: the count never dips
            self._metrics.queued(len(rows))
        for row in rows:
            self._queue.put(row)

    def flush(self) -> None:
        """Block until everything added so far is written (or has failed).

        Cuts the current batch window short, so a reader waits for one write only.
        """
        self._hurry.set()
        try:
            self._queue.join()
        finally:
            self._hurry.clear()

    def close(self) -> None:
        """Write what is pending, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch: list[ScoreIn] = []
            stop = first is _STOP
            if not stop:
                batch.append(first)  # type: ignore[arg-type]
            # Gather for up to `interval` after the first row: one transaction per batch,
            # not per request, is what keeps the history cheap.
            deadline = time.monotonic() + self._interval
            while not stop and len(batch) < BATCH:
                remaining = deadline - time.monotonic()
                try:
                    item = (
                        self._queue.get(timeout=max(remaining, 0.0))
                        if remaining > 0
                        else (self._queue.get_nowait())
                    )
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)  # type: ignore[arg-type]
            self._write(batch)
            for _ in range(len(batch) + (1 if stop else 0)):
                self._queue.task_done()
            if stop:
                return

    def _write(self, batch: list[ScoreIn]) -> None:
        if not batch:
            return
        try:
            self.written += self._store.record_scores(batch)
        except Exception:  # a failing database must not take the scoring API down
            self.failed += len(batch)
            logger.exception("could not record %d scores in the history", len(batch))
            if self._metrics is not None:
                self._metrics.dropped(len(batch))
        else:
            if self._metrics is not None:
                self._metrics.written(len(batch))
