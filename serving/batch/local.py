"""The local engine: stream the input through the scorer in batches, on every core.

Stages overlap, joined by queues of two batches each, so memory holds a
handful of batches however large the input: a reader thread (Parquet or
CSV decoding, conversion to pandas), `workers` scoring threads (checks and
features hold the GIL; LightGBM, one thread each, releases it) and a writer
thread, which puts the batches back in input order before writing. Several
single-threaded scorers beat one scorer on several LightGBM threads: while
one builds features, the other predicts, so no core waits for the serial
part. Any stage failing stops the others; the output is then discarded
(`output.sinks`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from serving.batch.io import LeadSource, read_frames
from serving.batch.job_errors import InputError
from serving.batch.output import TableSink, sinks
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

    def get(self) -> Any:
        while not self._stop.is_set():
            try:
                return self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
        raise _StoppedError

    def __iter__(self) -> Iterator[Any]:
        while (item := self.get()) is not _END:
            yield item


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

    def run_here(self, work: Callable[[], None]) -> None:
        """Run `work` in this thread too, so Ctrl-C lands in a stage that stops the rest;
        then wait for every stage and raise the first error."""
        finished = False
        try:
            work()
            finished = True
        except _StoppedError:
            pass  # a stage failed: its error is raised below
        finally:
            if not finished:
                self.stop.set()
            self.join()
        if self.errors:
            raise self.errors[0]


def run_local(
    source: LeadSource,
    output: Path,
    task: BatchTask,
    models: Models,
    batch_size: int,
    progress: Progress | None = None,
    workers: int = 2,
) -> Tally:
    """Score `source` into `output` (and its rejects file) on `workers` threads; the counts."""
    tally = Tally()
    with sinks(output, task.schema) as (scores_sink, rejects_sink):
        stages = _Stages()
        frames, results = _Pipe(stages.stop), _Pipe(stages.stop)
        score = partial(_score, frames, results, task, models)
        stages.start("reader", partial(_read, source, batch_size, frames, workers))
        for worker in range(1, workers):
            stages.start(f"scorer-{worker}", score)
        sinking = (results, workers, scores_sink, rejects_sink, tally, progress)
        stages.start("writer", partial(_write_in_order, *sinking))
        stages.run_here(score)
        if tally.rows == 0:
            raise InputError(f"{source.path} has no rows")
    return tally


def _read(source: LeadSource, batch_size: int, frames: _Pipe, workers: int) -> None:
    """Numbered batches of the input, then one end mark per scorer."""
    for number, frame in enumerate(read_frames(source, batch_size)):
        frames.put((number, frame))
    for _ in range(workers):
        frames.put(_END)


def _score(frames: _Pipe, results: _Pipe, task: BatchTask, models: Models) -> None:
    for number, frame in frames:
        results.put((number, len(frame), *task(frame, models)))
    results.put(_END)


def _write_in_order(
    results: _Pipe,
    workers: int,
    scores_sink: TableSink,
    rejects_sink: TableSink,
    tally: Tally,
    progress: Progress | None,
) -> None:
    """Write the scored batches back in input order, until every scorer has ended."""
    pending: dict[int, tuple[int, Any, Any]] = {}
    following, running = 0, workers
    while running:
        item = results.get()
        if item is _END:
            running -= 1
            continue
        number, *done = item
        pending[number] = done
        while following in pending:  # back in input order
            rows, scores, rejects = pending.pop(following)
            scores_sink.write(scores)  # the schema's columns: not the tally's LACKING
            rejects_sink.write(rejects)
            tally.add(rows, scores, rejects)
            if progress is not None:
                progress.advance(rows)
            following += 1
