"""Writing scores and rejects so that only a finished job leaves files behind.

Each file is written under a hidden temporary name beside its final place
and renamed when the job has finished: a killed or failed job never leaves
a file that looks complete, and a rerun replaces the previous results in
one step. Parquet by default, CSV when the output name ends in `.csv`.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from serving.batch.io import is_csv
from serving.batch.scoring import REJECTS_SCHEMA


def rejects_path(output: Path) -> Path:
    """Where the rejects of `output` go: scores.parquet -> scores.rejects.parquet."""
    suffix = ".csv" if is_csv(output) else output.suffix
    stem = output.name[: len(output.name) - len(suffix)] if suffix else output.name
    return output.with_name(f"{stem}.rejects{suffix}")


def temporary_path(path: Path) -> Path:
    """A hidden name in the same folder, so the final rename stays on one file system."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def replace(temporary: Path, final: Path) -> None:
    """Move a finished file or folder into place, replacing what was there."""
    if final.is_dir() and not final.is_symlink():
        old = temporary_path(final)
        final.rename(old)
        temporary.rename(final)
        shutil.rmtree(old)
    elif temporary.is_dir() and final.exists():  # a folder (Spark) where a file was
        final.unlink()
        temporary.rename(final)
    else:
        temporary.replace(final)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


LOW_CARDINALITY = ("channel", "grade", "model_name", "model_version", "warnings")
"""Columns worth dictionary encoding; ids and probabilities are nearly all distinct."""
NO_STATISTICS = ("lead_id", "reasons", "reason", "warnings")
"""Min/max of ids and free text help no reader and cost time to compute."""


def _parquet_options(schema: pa.Schema) -> dict[str, Any]:
    return {
        "use_dictionary": [c for c in schema.names if c in LOW_CARDINALITY],
        "write_statistics": [c for c in schema.names if c not in NO_STATISTICS],
    }


class TableSink:
    """One output file written batch by batch under a temporary name."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.temporary = temporary_path(path)
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None

    def _open(self) -> pq.ParquetWriter | pacsv.CSVWriter:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if is_csv(self.path):
                self._writer = pacsv.CSVWriter(self.temporary, self.schema)
            else:
                self._writer = pq.ParquetWriter(
                    self.temporary, self.schema, **_parquet_options(self.schema)
                )
        return self._writer

    def write(self, frame: pd.DataFrame) -> None:
        if len(frame):
            table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
            self._open().write_table(table)

    def commit(self) -> None:
        """Close and move into place (an empty result is still a file, with its columns)."""
        self._open().close()
        replace(self.temporary, self.path)

    def discard(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                remove(self.temporary)


@contextmanager
def sinks(output: Path, schema: pa.Schema) -> Iterator[tuple[TableSink, TableSink]]:
    """(scores, rejects) sinks; both committed if the block ends normally, else discarded."""
    scores = TableSink(output, schema)
    rejects = TableSink(rejects_path(output), REJECTS_SCHEMA)
    try:
        yield scores, rejects
    except BaseException:
        scores.discard()
        rejects.discard()
        raise
    rejects.commit()
    scores.commit()  # last: a scores file in place means the job finished
