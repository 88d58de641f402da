"""Raw input columns in one normalised form, whatever they came from.

Training reads DataFrames, the API reads validated request bodies, batch
re-scoring reads Arrow batches. Each adapter below turns its input into a
`Columns` mapping of numpy arrays (floats with NaN for numbers and booleans,
objects with None for text, datetime64[us] in UTC for times), and the feature
spec computes on that mapping only, so every path gives identical numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

Columns = Mapping[str, np.ndarray]


class FieldType(StrEnum):
    number = "number"
    boolean = "boolean"
    text = "text"
    time = "time"


def _float_array(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        out[i] = np.nan if value is None else float(value)
    return out


def utc_time(value: Any) -> datetime | None:
    """A naive UTC datetime from a datetime or an ISO 8601 string (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):  # also excludes the Any a str parse would leave
        raise TypeError(f"expected a datetime or ISO 8601 text, got {value!r}")
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _time_value(value: Any) -> np.datetime64:
    time = utc_time(value)
    return np.datetime64("NaT", "us") if time is None else np.datetime64(time, "us")


def number_value(value: Any) -> float:
    """A number or flag as the row path sees it: float, NaN if missing."""
    return math.nan if value is None else float(value)


def text_value(value: Any) -> str | None:
    return None if value is None else str(value)


NORMALISERS: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.number: number_value,
    FieldType.boolean: number_value,
    FieldType.time: utc_time,
    FieldType.text: text_value,
}
"""Per field type, one raw value as the row path sees it (see `normalise`)."""


def normalise(value: Any, kind: FieldType) -> Any:
    """One raw value as the row path sees it: float (NaN if missing) for numbers
    and flags, naive UTC datetime for times, str or None for text."""
    return NORMALISERS[kind](value)


def cell(value: Any, kind: FieldType) -> Any:
    """One raw value as it stands in `from_records`' column: what a reason shows of it."""
    if kind is FieldType.number or kind is FieldType.boolean:
        return np.float64(np.nan if value is None else float(value))
    if kind is FieldType.time:
        return _time_value(value)
    return None if value is None else str(value)


def from_records(records: Sequence[Mapping[str, Any]], fields: Mapping[str, FieldType]) -> Columns:
    """Columns from dict-like rows (validated API bodies): the online path."""
    columns: dict[str, np.ndarray] = {}
    for name, kind in fields.items():
        values = [record.get(name) for record in records]
        if kind in (FieldType.number, FieldType.boolean):
            columns[name] = _float_array(values)
        elif kind is FieldType.time:
            columns[name] = np.array([_time_value(v) for v in values], dtype="datetime64[us]")
        else:
            columns[name] = np.array([None if v is None else str(v) for v in values], dtype=object)
    return columns


def _is_arrow_text(dtype: Any) -> bool:
    if isinstance(dtype, pd.ArrowDtype):
        kind = dtype.pyarrow_dtype
        return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
    return isinstance(dtype, pd.StringDtype)


def _distinct_text(series: pd.Series) -> np.ndarray:
    """Arrow-backed text as objects, with one Python string per distinct value, not per row."""
    codes, distinct = pd.factorize(series)  # missing -> -1 -> the None at the end
    table = np.empty(len(distinct) + 1, dtype=object)
    table[: len(distinct)] = distinct.to_numpy(dtype=object)
    table[-1] = None
    return table[codes]


def _series_column(series: pd.Series, kind: FieldType) -> np.ndarray:
    # Plain numpy dtypes take the direct conversions: same values, no masked-array detour.
    if kind in (FieldType.number, FieldType.boolean):
        if series.dtype == object:
            return _float_array([None if pd.isna(v) else v for v in series])
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiub":
            return series.to_numpy(dtype=np.float64)
        return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    if kind is FieldType.time:
        if isinstance(series.dtype, np.dtype) and series.dtype.kind == "M":  # naive: UTC already
            return series.to_numpy(dtype="datetime64[us]")
        times = pd.to_datetime(series, utc=True, errors="coerce").dt.tz_convert(None)
        return times.to_numpy(dtype="datetime64[us]")
    if _is_arrow_text(series.dtype):
        return _distinct_text(series)
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.to_numpy(dtype=object, copy=True)
    else:
        text = series.astype(str).to_numpy(dtype=object)
    text[series.isna().to_numpy()] = None
    return text


def from_frame(frame: pd.DataFrame, fields: Mapping[str, FieldType]) -> Columns:
    """Columns from a DataFrame (training, batch): the vectorised path.

    A field absent from the frame reads as all-missing: optional fields are
    optional in files too.
    """
    columns: dict[str, np.ndarray] = {}
    n = len(frame)
    for name, kind in fields.items():
        if name in frame.columns:
            columns[name] = _series_column(frame[name], kind)
        elif kind is FieldType.text:
            columns[name] = np.full(n, None, dtype=object)
        elif kind is FieldType.time:
            columns[name] = np.full(n, np.datetime64("NaT", "us"))
        else:
            columns[name] = np.full(n, np.nan)
    return columns


SMALL = 32
"""Below this many values, hashing them first costs more than calling `function` on each."""


def _object_array(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def map_distinct(
    values: np.ndarray, function: Callable[[Any], Any], dtype: npt.DTypeLike
) -> np.ndarray:
    """`function` of every value, called once per distinct value (and once for missing).

    Text columns repeat a few values (industries, titles) over millions of
    rows: hashing each value beats a Python call, a regex or a dict lookup
    per row by an order of magnitude, with the same results.
    """
    if len(values) <= SMALL:
        return (
            np.fromiter(
                (function(None if pd.isna(v) else v) for v in values),
                dtype=dtype,
                count=len(values),
            )
            if np.dtype(dtype) != np.dtype(object)
            else _object_array([function(None if pd.isna(v) else v) for v in values])
        )
    codes, distinct = pd.factorize(values)  # None (missing) gets code -1
    mapped = np.empty(len(distinct) + 1, dtype=dtype)
    for i, value in enumerate(distinct):
        mapped[i] = function(value)
    mapped[-1] = function(None)
    return mapped[codes]


def row_count(columns: Columns) -> int:
    for values in columns.values():
        return len(values)
    return 0


def take(columns: Columns, rows: Iterable[int] | np.ndarray) -> Columns:
    """The given rows of every column."""
    index = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows)
    return {name: values[index] for name, values in columns.items()}
