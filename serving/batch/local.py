"""The local engine: stream the input through the scorer in batches, on every core.

Three stages overlap, joined by queues of two batches each, so memory holds
at most a handful of batches however large the input: a reader thread
(Parquet or CSV decoding, conversion to pandas), the calling thread
(checks, features, LightGBM on `threads` threads, which releases the GIL)
and a writer thread (conversion to Arrow, encoding, writing). Any stage
failing stops the others; the output is then discarded (`output.sinks`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from serving.batch.errors import InputError
from serving.batch.io import LeadSource, read_frames
from serving.batch.output import sinks
from serving.batch.scoring import BatchTask, Models
from serving.batch.summary import Tally

QUEUE_BATCHES = 2
_END = object()


class Progress(Protocol):
    """Told the number of rows to come (None if unknown), then the rows done after each batch."""

    def start(self, total: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...


class _StoppedError(Exception):
    """Another stage failed or the job was interrupted: leave quietly."""


class _Pipe:
    """A bounded hand-over between two stages that gives up once the job stops."""

    def __init__(self, stop: threading.Event) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_BATCHES)
        self._stop = stop

    def put(self, item: Any) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _StoppedError

    def __iter__(self) -> Iterator[Any]:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _END:
                return
            yield item
        raise _StoppedError


class _Stages:
    """Background stages sharing one stop flag; the first error wins."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def start(self, name: str, work: Callable[[], None]) -> None:
        def run() -> None:
            try:
                work()
            except _StoppedError:
                pass
            except BaseException as exc:
                self.errors.append(exc)
                self.stop.set()

        thread = threading.Thread(target=run, name=f"rescore-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


def run_local(
    source: LeadSource,
    output: Path,
    task: BatchTask,
    models: Models,
    batch_size: int,
    progress: Progress | None = None,
) -> Tally:
    """Score `source` into `output` (and its rejects file); the counts."""
    tally = Tally()
    with sinks(output, task.schema) as (scores_sink, rejects_sink):
        stages = _Stages()
        frames, results = _Pipe(stages.stop), _Pipe(stages.stop)

        def read() -> None:
            for frame in read_frames(source, batch_size):
                frames.put(frame)
            frames.put(_END)

        def write() -> None:
            for scores, rejects in results:
                scores_sink.write(scores)
                rejects_sink.write(rejects)

        stages.start("reader", read)
        stages.start("writer", write)
        finished = False
        try:
            for frame in frames:
                scores, rejects = task(frame, models)
                tally.add(len(frame), scores, rejects)
                results.put((scores, rejects))
                if progress is not None:
                    progress.advance(len(frame))
            results.put(_END)
            finished = True
        except _StoppedError:
            pass  # a stage failed: its error is raised below
        finally:
            if not finished:  # failed, or interrupted (Ctrl-C): stop the other stages
                stages.stop.set()
            stages.join()
        if stages.errors:
            raise stages.errors[0]
        if tally.rows == 0:
            raise InputError(f"{source.path} has no rows")
    return tally
