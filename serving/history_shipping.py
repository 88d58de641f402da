"""The score history of a service with a journal: written by a child process.

`JournalShipper` has the writer's interface (`add`, `flush`, `close`): a
request appends its scores to the journal and nothing else; the child
(`serving.history_shipper`) writes them from there. Progress comes back on
the child's stdout and feeds the history metrics and `flush`, which waits
until the database holds everything answered so far (read your own writes).
A child that dies is started again; it resumes from the database's offsets,
so each score is still recorded once.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from data.contract import Lead
from data.store import Store
from serving.history_shipper import DATABASE_VARIABLE
from serving.history_writer import FLUSH_SECONDS, HistoryMetrics
from serving.journal import ScoreJournal, now_json, served_lines
from serving.schemas import LeadScore

logger = logging.getLogger(__name__)

RESPAWN_SECONDS = 1.0
"""Pause before a child that died is started again."""
STOP_SECONDS = 120.0
"""How long a stop waits for the child to write what is left."""


class JournalShipper:
    def __init__(
        self,
        store: Store,
        database_url: str,
        journal: ScoreJournal,
        metrics: HistoryMetrics | None = None,
    ) -> None:
        self._store = store
        self._url = database_url
        self._journal = journal
        self._metrics = metrics
        self._progress: dict[str, int] = {}
        self._settled = threading.Condition()
        self._send_lock = threading.Lock()
        self._stopping = False
        self._child: subprocess.Popen[bytes] | None = None
        journal.on_open = self._follow

    def start(self) -> None:
        self._spawn()

    def add(self, leads: Sequence[Lead], scores: Sequence[LeadScore]) -> None:
        """Journal the scores (see `serving.history_writer.ScoreHistory.add`): the request's
        only work for the history is its lines and one write."""
        _, lines = served_lines(leads, scores, now_json())
        metrics = self._metrics
        # Counted under the journal's lock: before the child can report them written.
        self._journal.append(
            lines, None if metrics is None else lambda journal, start: metrics.queued(len(lines))
        )

    def flush(self, timeout: float | None = FLUSH_SECONDS) -> bool:
        """Wait until the database holds every score answered so far; False after `timeout`."""
        name, end = self._journal.position()
        with self._settled:
            if self._progress.get(name, 0) >= end:
                return True
        self._send("flush")
        with self._settled:
            return self._settled.wait_for(lambda: self._progress.get(name, 0) >= end, timeout)

    def close(self) -> None:
        """Let the child write what is left (unless the database is away), then stop it."""
        self._stopping = True
        child = self._child
        if child is not None:
            self._send("stop")
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "the history shipper did not stop in time; the journal keeps the rest"
                )
                child.kill()
                child.wait()
        self._journal.close(self._store)

    def _spawn(self) -> None:
        child = subprocess.Popen(
            [sys.executable, "-m", "serving.history_shipper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Not on the command line, where `ps` would show a password in it.
            env={**os.environ, DATABASE_VARIABLE: self._url},
        )
        self._child = child
        retired = self._journal.retired
        for name, (path, _) in list(retired.items()):
            if path.exists():  # not yet written to its end (the child deletes it then)
                self._send(f"journal {name} {path}")
            else:
                del retired[name]
        self._send(f"journal {self._journal.name} {self._journal.path}")
        assert child.stdout is not None
        threading.Thread(
            target=self._read, args=(child, child.stdout), name="history-shipper", daemon=True
        ).start()

    def _follow(self, name: str, path: Path) -> None:
        self._send(f"journal {name} {path}")

    def _send(self, command: str) -> None:
        child = self._child
        if child is None or child.stdin is None:
            return
        with self._send_lock:
            try:
                child.stdin.write(f"{command}\n".encode())
                child.stdin.flush()
                if command == "stop":
                    child.stdin.close()
            except (BrokenPipeError, ValueError):  # it died: its reader starts another
                pass

    def _read(self, child: subprocess.Popen[bytes], out: IO[bytes]) -> None:
        """Progress reports, until the child's stdout ends. Rows a child wrote but died
        before reporting stay counted as queued; the database has them once all the same."""
        for line in out:
            word, *fields = line.decode().split()
            if word != "progress" or len(fields) != 4:
                continue
            name, offset, written, dropped = (
                fields[0],
                int(fields[1]),
                int(fields[2]),
                int(fields[3]),
            )
            if self._metrics is not None:
                if written:
                    self._metrics.written(written)
                if dropped:
                    self._metrics.dropped(dropped)
            with self._settled:
                self._progress[name] = max(offset, self._progress.get(name, 0))
                self._settled.notify_all()
        code = child.wait()
        if not self._stopping:
            logger.warning("the history shipper stopped (exit code %s); starting it again", code)
            time.sleep(RESPAWN_SECONDS)
            if not self._stopping:
                self._spawn()
