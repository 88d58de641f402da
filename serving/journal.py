"""The score journal: every score is on local disk before the API answers with it.

The history is written off the request path, in batches (`serving.history_writer`);
a process killed between the answer and the batch lost those scores (454 of
5,000 in a kill -9 test). Now each answered score is first appended to this
process's journal file (one `write` per request, no round trip), and the
history's writer (a child process reading the journal, `serving.history_shipper`)
records in the database, in the same transaction as the scores, how far the
journal is written (`journal_progress`). At start-up, journals
whose process is gone (their lock is free) are replayed from that offset, so
each score lands exactly once.

What survives: a killed or crashed process loses nothing it answered (the
bytes are in the operating system's cache). A power loss or kernel crash can
lose the last seconds unless `fsync` is on, which costs a disk flush per request.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from data.contract import Lead
from data.store import Store
from data.store.store_records import ScoreIn
from serving.schemas import LeadScore, Reason

logger = logging.getLogger(__name__)

PREFIX, SUFFIX = "scores-", ".jsonl"
ROTATE_BYTES = 64 * 1024 * 1024
"""A journal this large is retired (deleted once written) and a new one begun."""
REPLAY_BATCH = 500


def _libc_write() -> Callable[[int, bytes, int], int] | None:
    """libc's `write`, called without releasing the GIL (None where there is no libc).

    `os.write` releases the GIL around the system call; on every request that
    hands the GIL to whichever thread wants it (the history writer), and
    getting it back costs more than the write, which only copies a few hundred
    bytes into the page cache.
    """
    try:
        libc = ctypes.PyDLL(None, use_errno=True)
        write: Callable[[int, bytes, int], int] = libc.write
    except (OSError, AttributeError):
        return None
    write.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t)  # type: ignore[attr-defined]
    write.restype = ctypes.c_ssize_t  # type: ignore[attr-defined]
    return write


_WRITE = _libc_write()


def _write_all(fd: int, data: bytes) -> None:
    """Write all of `data` at the file's end (O_APPEND), or raise the OSError."""
    if _WRITE is None:
        written = os.write(fd, data)
    else:
        written = _WRITE(fd, data, len(data))
        if written < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
    if written != len(data):
        raise OSError(f"wrote {written} of {len(data)} bytes")


class JournalError(OSError):
    """The journal could not be written: the score cannot be promised, so it is not served."""


_LEAD_JSON = Lead.__pydantic_serializer__.to_json
_REASONS_JSON = TypeAdapter(list[Reason]).dump_json


_LINE = (
    b'{"lead":%b,"model_name":%b,"model_version":%b,"probability":%a,"score":%d,'
    b'"grade":%b,"reasons":%b,"scored_at":%b}\n'
)
"""`%a` of a float is its `repr`: the shortest text that reads back as the same float."""


@lru_cache(maxsize=256)
def _text_json(text: str) -> bytes:
    """A JSON string; model names, versions and grades repeat on every line."""
    return json.dumps(text).encode()


def time_json(at: datetime) -> bytes:
    """`at` as the JSON text a line's `scored_at` holds."""
    return b'"%b"' % at.isoformat(timespec="microseconds").encode()


@lru_cache(maxsize=2)
def _second_text(second: int) -> bytes:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()


def now_json() -> bytes:
    """The time now as JSON text (UTC, to the microsecond), for a quarter of what
    `time_json(utc_now())` costs: each second's text is made once."""
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    return b'"%b.%06dZ"' % (_second_text(second), micro)


def served_lines(
    leads: Sequence[Lead], scores: Sequence[LeadScore], at: bytes
) -> tuple[list[bytes], list[bytes]]:
    """(each lead's JSON, each score's journal line), served at `at` (`time_json`): a line
    is the JSON of the `ScoreIn` the history records (what a replay reads), built from the
    lead's JSON and the served score's fields without making a `ScoreIn` or serialising
    the lead twice."""
    lead_json = [_LEAD_JSON(lead) for lead in leads]
    lines = [
        _LINE
        % (
            lead,
            _text_json(score.model.name),
            _text_json(score.model.version),
            float(score.probability),
            score.score,
            _text_json(score.grade),
            _REASONS_JSON(score.reasons) if score.reasons else b"[]",
            at,
        )
        for lead, score in zip(lead_json, scores, strict=True)
    ]
    return lead_json, lines


class ScoreJournal:
    """This process's append-only journal (a new file per process, locked while alive)."""

    def __init__(self, folder: Path, *, fsync: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.fsync = fsync
        self._lock = threading.Lock()
        self.retired: dict[str, tuple[Path, int]] = {}
        """Journals replaced by a newer one: name -> (path, end), deleted once written."""
        self.on_open: Callable[[str, Path], None] | None = None
        """Told of each new journal file after the first (the history shipper follows it)."""
        self._open()

    def _open(self) -> None:
        self.name = f"{PREFIX}{uuid.uuid4().hex}"
        self.path = self.folder / f"{self.name}{SUFFIX}"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # Shared: the history shipper holds it too, so a replay (which needs it alone)
        # waits until both are gone.
        fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        self._end = 0
        if self.on_open is not None:
            self.on_open(self.name, self.path)

    def append(
        self, lines: Sequence[bytes], then: Callable[[str, int], None] | None = None
    ) -> None:
        """Write `lines` (one write), then call `then(journal, start)` under the same lock
        (so whatever it hands on reaches the writer in journal order): `start` is where the
        first line begins. Raises `JournalError` if the disk refuses: nothing of `lines` is
        then promised."""
        data = b"".join(lines)
        with self._lock:
            if self._end + len(data) > ROTATE_BYTES and self._end > 0:
                self._rotate()
            try:
                _write_all(self._fd, data)
                if self.fsync:
                    os.fsync(self._fd)
            except OSError as error:
                raise JournalError(
                    f"could not write the score journal {self.path}: {error}"
                ) from error
            start = self._end
            self._end += len(data)
            if then is not None:
                then(self.name, start)

    def position(self) -> tuple[str, int]:
        """(current journal, its end): where a reader must get to for everything so far."""
        with self._lock:
            return self.name, self._end

    def _rotate(self) -> None:
        self.retired[self.name] = (self.path, self._end)
        os.close(self._fd)  # the lock goes with it; the file stays until it is written
        self._open()

    def written(self, store: Store, progress: dict[str, int]) -> None:
        """The database now holds `progress`: delete retired journals written to the end."""
        for name, offset in progress.items():
            retired = self.retired.get(name)
            if retired is not None and offset >= retired[1]:
                retired[0].unlink(missing_ok=True)
                store.forget_journal(name)
                del self.retired[name]

    def close(self, store: Store | None) -> None:
        """Close the file; delete it if the database holds all of it."""
        with self._lock:
            os.close(self._fd)
            if store is not None and self._end == 0:
                self.path.unlink(missing_ok=True)
            elif store is not None:
                try:
                    if store.journal_offset(self.name) >= self._end:
                        self.path.unlink(missing_ok=True)
                        store.forget_journal(self.name)
                except Exception:  # the database is away: the next start replays it
                    logger.warning("score journal %s kept for replay at the next start", self.path)


def replay_orphans(folder: Path, store: Store) -> int:
    """Write the scores of journals whose process is gone (their lock is free) from where
    the database stands; returns how many scores were replayed. Run at start-up."""
    if not folder.exists():
        return 0
    replayed = 0
    for path in sorted(folder.glob(f"{PREFIX}*{SUFFIX}")):
        fd = os.open(path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live process owns it
            name = path.name.removesuffix(SUFFIX)
            replayed += _replay(path, name, store)
            path.unlink()
            store.forget_journal(name)
        finally:
            os.close(fd)
    if replayed:
        logger.warning(
            "replayed %d scores answered before the last stop into the history", replayed
        )
    return replayed


def _replay(path: Path, name: str, store: Store) -> int:
    start = store.journal_offset(name)
    batch: list[ScoreIn] = []
    end, count = start, 0
    for row, line_end in lines_from(path, start):
        end = line_end
        if row is not None:
            batch.append(row)
        if len(batch) >= REPLAY_BATCH:
            count += store.record_scores(batch, journal={name: end})
            batch = []
    if batch or end > start:
        count += store.record_scores(batch, journal={name: end})
    return count


def lines_from(path: Path, start: int) -> Iterator[tuple[ScoreIn | None, int]]:
    """(score, byte offset after its line) from `start`; an unreadable line is skipped with
    a warning, a last line without its newline (cut by the crash, never answered) is ignored."""
    with path.open("rb") as file:
        file.seek(start)
        offset = start
        for line in file:
            if not line.endswith(b"\n"):
                return
            offset += len(line)
            try:
                yield ScoreIn.model_validate_json(line), offset
            except ValidationError as error:
                logger.warning("skipped an unreadable line of %s: %s", path, error)
                yield None, offset
