"""Score history written off the request path.

Every score the API serves is recorded (lead, time, model version,
probability, grade, reasons), but a database round trip per request would
cost more than the scoring itself. Requests append their rows to the score
journal (`serving.journal`, on local disk before the answer) and enqueue
them; one thread writes them in batches, with the journal's progress in the
same transaction. Reading the history flushes first, so a client that scores
a lead and then asks for its history sees that score.

A batch the database refuses is retried row by row, so one bad row never
takes the others with it; a database that is away is waited for (the rows
stay queued and journalled), never dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from data.contract import Lead
from data.store import Store
from data.store.errors import database_away
from data.store.store_records import ScoreIn, utc_now
from serving.journal import ScoreJournal, served_lines, time_json
from serving.schemas import LeadScore

logger = logging.getLogger(__name__)

BATCH = 500
"""Rows per transaction at most; a full batch wakes the writer before its interval ends."""
FLUSH_SECONDS = 2.0
"""How long a reader waits for the history to catch up before reading what is there."""
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Waits between attempts while the database is away (the last one repeats)."""


class HistoryMetrics(Protocol):
    """Told how many rows were queued, then written or dropped (`serving.prometheus`)."""

    def queued(self, rows: int) -> None: ...
    def written(self, rows: int) -> None: ...
    def dropped(self, rows: int) -> None: ...


class ScoreHistory(Protocol):
    """What the API needs of the score history, whoever writes it."""

    def start(self) -> None: ...
    def add(self, leads: Sequence[Lead], scores: Sequence[LeadScore]) -> None:
        """Record the scores just served (`scores[i]` of `leads[i]`), stamped now, so a
        score replayed from the journal after a crash keeps the time it was served.
        Raises `serving.journal.JournalError` when the journal cannot be written: the
        caller must not answer with those scores."""

    def flush(self, timeout: float | None = ...) -> bool: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Entry:
    """A score and where its line ends in which journal."""

    row: ScoreIn
    journal: str | None
    """None when the service runs without a journal."""
    end: int = 0
    lead_json: bytes | None = None
    """The lead serialised once, for the journal line and (decoded by the writer, off the
    request path) the stored payload."""


def score_rows(leads: Sequence[Lead], scores: Sequence[LeadScore], at: datetime) -> list[ScoreIn]:
    """The history's rows of served scores: built from values the API just validated and
    computed, so not validated a second time."""
    return [
        ScoreIn.model_construct(
            lead=lead,
            model_name=s.model.name,
            model_version=s.model.version,
            probability=s.probability,
            score=s.score,
            grade=s.grade,
            reasons=[r.model_dump() for r in s.reasons],
            scored_at=at,
        )
        for lead, s in zip(leads, scores, strict=True)
    ]


class HistoryWriter:
    """A background writer of `ScoreIn` rows into the store.

    A request only appends to a list under a lock: it never wakes the writer
    thread, which would then contend with the event loop for the GIL on every
    request. The writer wakes when the first row of a batch arrives, gathers
    for `interval`, and takes everything pending at once (sooner when a
    reader flushes or a batch is full).
    """

    def __init__(
        self,
        store: Store,
        interval: float = 0.2,
        metrics: HistoryMetrics | None = None,
        journal: ScoreJournal | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._interval = interval
        self._journal = journal
        self._thread = threading.Thread(target=self._run, name="score-history", daemon=True)
        self._pending: list[Entry] = []
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        """Set by the first row of a batch (and by stop): the writer starts gathering."""
        self._hurry = threading.Event()
        """Set by a full batch, a reader's flush or stop: write now, not at the interval's end."""
        self._stopping = threading.Event()
        self._settled = threading.Condition()
        self._added = self._done = 0
        self.written = 0
        self.failed = 0

    def start(self) -> None:
        self._thread.start()

    def add(self, leads: Sequence[Lead], scores: Sequence[LeadScore]) -> None:
        """Journal and enqueue the scores (see `ScoreHistory.add`)."""
        now = utc_now()
        rows = score_rows(leads, scores, now)
        if self._journal is None:
            self._enqueue([Entry(row, None) for row in rows])
            return
        lead_json, lines = served_lines(leads, scores, time_json(now))

        def enqueue(journal: str, start: int) -> None:
            entries = []
            for row, line, lead in zip(rows, lines, lead_json, strict=True):
                start += len(line)
                entries.append(Entry(row, journal, start, lead))
            self._enqueue(entries)

        self._journal.append(lines, enqueue)

    def _enqueue(self, entries: list[Entry]) -> None:
        if self._metrics is not None:  # before the writer can take them: the count never dips
            self._metrics.queued(len(entries))
        with self._settled:
            self._added += len(entries)
        with self._lock:
            first = not self._pending
            self._pending.extend(entries)
            full = len(self._pending) >= BATCH
        if first:
            self._arrived.set()
        if full:
            self._hurry.set()

    def flush(self, timeout: float | None = FLUSH_SECONDS) -> bool:
        """Wait until everything added so far is written (or has failed); False if that
        took longer than `timeout` (the database is away: the reader goes on, and its own
        query answers 503 or reads what is there).

        Cuts the current batch window short, so a reader waits for one write only.
        """
        with self._settled:
            target = self._added
            if self._done >= target:
                return True
        self._hurry.set()
        with self._settled:
            return self._settled.wait_for(lambda: self._done >= target, timeout)

    def close(self) -> None:
        """Write what is pending (one more try if the database is away), then stop."""
        self._stopping.set()
        self._arrived.set()
        self._hurry.set()
        self._thread.join()
        if self._journal is not None:
            self._journal.close(self._store)

    def _run(self) -> None:
        while True:
            self._arrived.wait()
            # Gather for up to `interval` after the first row: one transaction per batch,
            # not per request, is what keeps the history cheap.
            self._hurry.wait(self._interval)
            self._hurry.clear()
            with self._lock:
                self._arrived.clear()
                pending, self._pending = self._pending, []
            for start in range(0, len(pending), BATCH):
                batch = pending[start : start + BATCH]
                self._write_until_done(batch)
                with self._settled:
                    self._done += len(batch)
                    self._settled.notify_all()
            if self._stopping.is_set():
                with self._lock:
                    if not self._pending:
                        return
                self._arrived.set()

    def _write_until_done(self, batch: list[Entry]) -> None:
        """Write `batch`, waiting out a database that is away (until the service stops:
        the journal keeps the rows for the next start)."""
        attempt = 0
        while batch:
            try:
                self._write(batch)
                return
            except Exception as error:
                if not database_away(error):
                    raise
                if self._stopping.is_set():
                    logger.warning(
                        "the database is away at shutdown: %d scores stay in the journal "
                        "for the next start",
                        len(batch),
                    )
                    return
                wait = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                if attempt == 0:
                    logger.warning("the database is away; retrying the score history: %s", error)
                attempt += 1
                time.sleep(wait)

    def _write(self, batch: list[Entry]) -> None:
        try:
            self._commit(batch)
        except Exception as error:
            if database_away(error) or len(batch) == 1:
                if not database_away(error):
                    self._drop(batch, error)
                    return
                raise
            for entry in batch:  # one bad row must not take the others with it
                self._write([entry])

    def _commit(self, batch: list[Entry]) -> None:
        progress: dict[str, int] = {}
        for entry in batch:
            if entry.journal is not None:
                progress[entry.journal] = max(entry.end, progress.get(entry.journal, 0))
        self.written += self._store.record_scores(
            [e.row for e in batch],
            journal=progress,
            payloads=[None if e.lead_json is None else e.lead_json.decode() for e in batch],
        )
        if self._journal is not None:
            self._journal.written(self._store, progress)
        if self._metrics is not None:
            self._metrics.written(len(batch))

    def _drop(self, batch: list[Entry], error: Exception) -> None:
        """A row the database refuses on its own: logged, counted, and passed in the journal."""
        self.failed += len(batch)
        logger.error("could not record the score of lead %s: %s", batch[0].row.lead.lead_id, error)
        if self._metrics is not None:
            self._metrics.dropped(len(batch))
        progress = {e.journal: e.end for e in batch if e.journal is not None}
        if progress:
            try:
                self._store.record_scores([], journal=progress)
            except Exception:
                logger.exception("could not move the journal past a refused score")
