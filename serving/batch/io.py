"""Finding and reading the leads to score; writing results so a failed job leaves nothing.

Input is a Parquet file, a folder of Parquet (or CSV) files, or a CSV file,
in the shape of the lead table. Its columns are checked before any work:
the required ones must be there, other contract columns may be absent (read
as missing), columns outside the contract are ignored and reported. Reading
streams: Parquet in record batches, CSV in blocks, so memory stays flat.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from data.contract import Lead, columns
from features.rules import required_columns
from serving.batch.job_errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".csv.gz")
CSV_BYTES_PER_ROW = 300
"""Rough size of a lead in a CSV, to turn a batch size in rows into a block size in bytes."""

Format = Literal["parquet", "csv"]


@dataclass(frozen=True)
class LeadSource:
    """An input checked and ready to stream."""

    path: Path
    format: Format
    files: tuple[Path, ...]
    columns: tuple[str, ...]
    """Contract columns found (the only ones read)."""
    ignored: tuple[str, ...]
    """Columns outside the contract, not read."""
    rows: int | None
    """Known up front for Parquet; None for CSV."""

    def reading(self, custom: Sequence[str], readers: str) -> LeadSource:
        """The source also reading the custom columns `readers` (the models) were trained on."""
        if absent := [c for c in custom if c not in self.ignored and c not in self.columns]:
            raise InputError(
                f"{self.path} lacks the column(s) {', '.join(absent)} that {readers} "
                "was trained on (custom columns of the import it learnt from)"
            )
        return replace(
            self,
            columns=(*self.columns, *(c for c in custom if c not in self.columns)),
            ignored=tuple(c for c in self.ignored if c not in custom),
        )


def is_csv(path: Path) -> bool:
    return path.name.lower().endswith(CSV_SUFFIXES)


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def _visible(path: Path, root: Path) -> bool:
    """Not a hidden or bookkeeping file (Spark's _SUCCESS, .crc files)."""
    return not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def _files(path: Path) -> tuple[Format, tuple[Path, ...]]:
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_file():
        return ("csv" if is_csv(path) else "parquet"), (path,)
    found = sorted(p for p in path.rglob("*") if p.is_file() and _visible(p, path))
    if parquet := [p for p in found if _is_parquet(p)]:
        return "parquet", tuple(parquet)
    if csvs := [p for p in found if is_csv(p)]:
        return "csv", tuple(csvs)
    raise InputError(f"no Parquet or CSV files in {path}")


def _csv_header(path: Path) -> list[str]:
    with pa.input_stream(str(path), compression="detect") as stream:
        head = stream.read(1 << 16).decode("utf-8-sig", errors="replace")
    return next(csv.reader(io.StringIO(head)), [])


def _file_columns(path: Path, format: Format) -> tuple[list[str], int | None]:
    """Column names and row count (None if unknown) of one input file."""
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty")
    if format == "csv":
        return _csv_header(path), None
    try:
        metadata = pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path} is not a readable Parquet file ({reason})") from exc
    return list(metadata.schema.to_arrow_schema().names), metadata.num_rows


def open_source(path: Path) -> LeadSource:
    """Find the input files and check their columns; `InputError` says what is wrong."""
    format, files = _files(path)
    contract, required = columns(Lead), required_columns()
    found: dict[str, None] = {}
    rows: int | None = 0
    for file in files:
        names, count = _file_columns(file, format)
        if absent := [c for c in required if c not in names]:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise InputError(
                f"{file} lacks the required column(s) {', '.join(absent)} "
                f"(found: {shown or 'no columns'})"
            )
        found.update(dict.fromkeys(names))
        rows = None if rows is None or count is None else rows + count
    if rows == 0:
        raise InputError(f"{path} has no rows")
    return LeadSource(
        path=path,
        format=format,
        files=files,
        columns=tuple(c for c in contract if c in found),
        ignored=tuple(c for c in found if c not in contract),
        rows=rows,
    )


def _types(kind: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    """Text stays in Arrow (no Python string per value); flags become nullable booleans."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pd.ArrowDtype(kind)
    return pd.BooleanDtype() if kind == pa.bool_() else None


def _parquet_batches(file: Path, batch_size: int, wanted: list[str]) -> Iterator[pa.RecordBatch]:
    parquet = pq.ParquetFile(file)
    names = [c for c in parquet.schema_arrow.names if c in wanted]
    # One decoding thread: the reader already overlaps with scoring, and more threads
    # would only compete with LightGBM for the same cores.
    yield from parquet.iter_batches(batch_size=batch_size, columns=names, use_threads=False)


def _csv_batches(file: Path, batch_size: int, wanted: list[str]) -> Iterator[pa.RecordBatch]:
    names = [c for c in _csv_header(file) if c in wanted]
    # Everything as text: the checks parse numbers, flags and times per row, so one
    # bad value rejects its row instead of failing the whole file.
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in names},
        include_columns=names,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],
    )
    block = max(1 << 20, batch_size * CSV_BYTES_PER_ROW)
    yield from pacsv.open_csv(
        file, read_options=pacsv.ReadOptions(block_size=block), convert_options=convert
    )


def _batches(
    source: LeadSource, batch_size: int, wanted: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    read = _csv_batches if source.format == "csv" else _parquet_batches
    for file in source.files:
        try:
            yield from read(file, batch_size, wanted or list(source.columns))
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{file}: {str(exc).splitlines()[0]}") from exc


def read_frames(source: LeadSource, batch_size: int) -> Iterator[pd.DataFrame]:
    """The input's rows as frames of at most about `batch_size` rows, file after file."""
    for batch in _batches(source, batch_size):
        # Without pandas' own metadata: nullable integers come as plain floats (NaN for
        # missing), which every later step reads faster than masked arrays.
        yield batch.to_pandas(types_mapper=_types, ignore_metadata=True)


def channel_counts(source: LeadSource, batch_size: int = 1 << 20) -> Counter[str]:
    """Leads per channel value, reading only that column (to refuse a job up front)."""
    counts: Counter[str] = Counter()
    for batch in _batches(source, batch_size, ["channel"]):
        for item in batch.column(0).value_counts().to_pylist():
            if item["values"] is not None:
                counts[str(item["values"])] += item["counts"]
    return counts
