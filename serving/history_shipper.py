"""The score history written from the journal by a child process.

`python -m serving.history_shipper`, started by `JournalShipper`
(`serving.history_shipping`). The serving process only appends each answered
score to its journal; writing the history in the same interpreter cost the
requests more than the writing (its rows kept alive until their batch, and
the GIL changing hands with the writer thread).

The parent names its journals on stdin (`journal NAME PATH`, again on each
rotation) and may ask for `flush` (write now) or `stop` (write everything,
then exit; so does the end of stdin, when the parent dies). Every
`INTERVAL` seconds, and on `flush`, each journal is written from where the
database has it (`journal_progress`, in the same transaction as the
scores), and the progress is reported on stdout:
`progress NAME OFFSET WRITTEN DROPPED`. A score the database refuses on its
own is dropped, counted and passed; while the database is away nothing
moves, and a stop leaves the rest in the journal for the next start. The
child holds a shared lock on each journal, so a restart's orphan replay
never writes a journal it is still writing.
"""

from __future__ import annotations

import fcntl
import logging
import os
import select
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from data.store import Store
from data.store.errors import database_away
from data.store.store_records import ScoreIn
from serving.journal import REPLAY_BATCH, lines_from

logger = logging.getLogger(__name__)

DATABASE_VARIABLE = "LEADSCORE_HISTORY_DATABASE_URL"
"""How the parent hands over the database URL (the environment, not the command line)."""
INTERVAL = 0.05
"""Seconds between two rounds of writing (a flush does not wait for it)."""


@dataclass
class _Journal:
    name: str
    path: Path
    fd: int
    offset: int | None = None
    """Where the database has it; None until asked (the database may be away at first)."""


class Shipper:
    """The child's state: the journals it writes, and where each stands."""

    def __init__(self, store: Store, out: int) -> None:
        self._store = store
        self._out = out
        self._journals: list[_Journal] = []

    def follow(self, name: str, path: Path) -> None:
        if not path.exists():  # a retired journal written to its end meanwhile
            return
        fd = os.open(path, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_SH)
        self._journals.append(_Journal(name, path, fd))

    def ship(self) -> None:
        """Write every journal to its end (raises while the database is away)."""
        for journal in list(self._journals):
            written, dropped = self._write(journal)
            retired = journal is not self._journals[-1]
            if written or dropped:
                self._report(journal, written, dropped)
            if retired and (journal.offset or 0) >= journal.path.stat().st_size:
                self._retire(journal)

    def report_all(self) -> None:
        for journal in self._journals:
            if journal.offset is not None:
                self._report(journal, 0, 0)

    def _write(self, journal: _Journal) -> tuple[int, int]:
        if journal.offset is None:
            journal.offset = self._store.journal_offset(journal.name)
        written = dropped = 0
        batch: list[tuple[ScoreIn, int]] = []
        for row, end in lines_from(journal.path, journal.offset):
            if row is not None:
                batch.append((row, end))
            if len(batch) >= REPLAY_BATCH:
                more, refused = self._commit(journal, batch)
                written, dropped, batch = written + more, dropped + refused, []
            elif row is None and not batch:  # an unreadable line: passed
                self._store.record_scores([], journal={journal.name: end})
                journal.offset = end
        if batch:
            more, refused = self._commit(journal, batch)
            written, dropped = written + more, dropped + refused
        return written, dropped

    def _commit(self, journal: _Journal, batch: list[tuple[ScoreIn, int]]) -> tuple[int, int]:
        end = batch[-1][1]
        try:
            written = self._store.record_scores(
                [row for row, _ in batch], journal={journal.name: end}
            )
            journal.offset = end
            return written, 0
        except Exception as error:
            if database_away(error):
                raise
            if len(batch) == 1:  # refused on its own: logged, counted and passed
                logger.error(
                    "could not record the score of lead %s: %s", batch[0][0].lead.lead_id, error
                )
                self._store.record_scores([], journal={journal.name: end})
                journal.offset = end
                return 0, 1
        written = dropped = 0  # one bad row must not take the others with it
        for one in batch:
            more, refused = self._commit(journal, [one])
            written, dropped = written + more, dropped + refused
        return written, dropped

    def _retire(self, journal: _Journal) -> None:
        journal.path.unlink(missing_ok=True)
        self._store.forget_journal(journal.name)
        os.close(journal.fd)
        self._journals.remove(journal)

    def _report(self, journal: _Journal, written: int, dropped: int) -> None:
        line = f"progress {journal.name} {journal.offset} {written} {dropped}\n"
        os.write(self._out, line.encode())


def run(url: str, commands: int = 0, out: int = 1) -> None:
    """Follow the parent's commands on `commands` until `stop` or its end."""
    with Store(url) as store:
        shipper = Shipper(store, out)
        pending = b""
        stopping = False
        warned = False  # that the database is away, once per outage
        while True:
            ready, _, _ = select.select([commands], [], [], INTERVAL)
            flush = False
            if ready:
                chunk = os.read(commands, 65536)
                if not chunk:
                    stopping = True
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    word, _, rest = line.decode().partition(" ")
                    if word == "journal":
                        name, _, path = rest.partition(" ")
                        shipper.follow(name, Path(path))
                    elif word == "flush":
                        flush = True
                    elif word == "stop":
                        stopping = True
            try:
                shipper.ship()
                warned = False
                if flush:
                    shipper.report_all()
            except Exception as error:
                if not database_away(error):
                    raise
                if not warned:
                    warned = True
                    logger.warning("the database is away; retrying the score history: %s", error)
                if stopping:
                    logger.warning("the database is away at shutdown: scores stay in the journal")
                    return
                time.sleep(INTERVAL)
                continue
            if stopping:
                return


if __name__ == "__main__":
    # The parent says when to stop (or dies, which ends stdin): a Ctrl-C or a SIGTERM sent
    # to the whole process group must not cut the last batch short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="history shipper: %(message)s")
    run(os.environ[DATABASE_VARIABLE])
