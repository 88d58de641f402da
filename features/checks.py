"""Checking a frame of leads against the contract, whole columns at a time.

pydantic per row would cost more than scoring the row, so each rule of the
contract (`features.rules`) becomes a few numpy operations on a column.
Python runs only for the rows that break a rule, to say why. The checked
frame is also normalised to what the feature spec reads, whatever the file
typed: numbers and flags as floats (NaN = missing), times as naive UTC. A
CSV's text, a Parquet file's nullable integers and Spark's object columns
all end up the same, so every engine and format gives the same numbers.

Batch re-scoring (both engines) and the MLflow pyfunc check frames here, the
model's custom fields included (`features.rules.custom_rules`), so a lead
scores the same whichever way it comes in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.columns import FieldType, map_distinct
from features.rules import FieldRule, lead_rules

FLAG_WORDS = {
    "true": 1.0,
    "t": 1.0,
    "yes": 1.0,
    "y": 1.0,
    "on": 1.0,
    "1": 1.0,
    "false": 0.0,
    "f": 0.0,
    "no": 0.0,
    "n": 0.0,
    "off": 0.0,
    "0": 0.0,
}
"""The texts pydantic reads as true or false."""

_NOT_A_FLAG = -1.0


@dataclass(frozen=True)
class CheckedLeads:
    """A normalised frame (every input row) and, per row, what is wrong with it (None: nothing)."""

    frame: pd.DataFrame
    problems: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return pd.isna(self.problems)

    def describe(self, limit: int = 5) -> str:
        """The first `limit` problems, one per row ("row 3: company_size: -3 is below 0")."""
        bad = np.flatnonzero(~self.valid)
        said = "; ".join(f"row {row}: {self.problems[row]}" for row in bad[:limit])
        return said + (f"; and {len(bad) - limit} more rows" if len(bad) > limit else "")


class _Problems:
    """Per-row problem text, built only for the rows that have one."""

    def __init__(self, rows: int) -> None:
        self.text = np.full(rows, None, dtype=object)

    def add(self, bad: np.ndarray, field: str, say: Callable[[Any], str], values: Any) -> None:
        for row in np.flatnonzero(bad):
            if values is None:
                value = None
            else:
                value = values.iloc[row] if isinstance(values, pd.Series) else values[row]
            message = f"{field}: {say(value)}"
            before = self.text[row]
            self.text[row] = message if before is None else f"{before}; {message}"


def _show(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return str(value)


def _text(series: pd.Series) -> pd.Series:
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        return series  # Arrow-backed text stays so: the feature spec converts what it reads
    # e.g. numeric ids in a Parquet file: read as text, as a CSV would give them
    text = series.astype(str).to_numpy(dtype=object)
    text[series.isna().to_numpy()] = None
    return pd.Series(text, index=series.index)


def _lengths(text: pd.Series, rule: FieldRule) -> np.ndarray:
    """Characters per value (0 if missing), for the rule's length limits."""
    if not isinstance(text.dtype, pd.ArrowDtype):
        return text.str.len().to_numpy(dtype=np.float64, na_value=0)
    arrow = pa.array(text.array)
    size = pc.binary_length(arrow).to_numpy(zero_copy_only=False)
    # Bytes bound characters from above, and a value has a character iff it has a
    # byte: counting UTF-8 characters is needed only when some value is that long.
    if (rule.min_length or 0) > 1 or np.nanmax(size, initial=0) > (rule.max_length or math.inf):
        size = pc.utf8_length(arrow).to_numpy(zero_copy_only=False)
    return np.nan_to_num(np.asarray(size, dtype=np.float64), nan=0.0)


def _check_text(rule: FieldRule, series: pd.Series, missing: np.ndarray, out: _Problems) -> Any:
    values = _text(series)
    if rule.choices:
        bad = ~missing & ~values.isin(rule.choices).to_numpy()
        allowed = ", ".join(rule.choices)
        out.add(bad, rule.name, lambda v: f"{_show(v)} is not one of {allowed}", values)
    elif rule.min_length is not None or rule.max_length is not None:
        lengths = _lengths(values, rule)
        short, long = rule.min_length or 0, rule.max_length or math.inf
        out.add(~missing & (lengths < short), rule.name, lambda _: "is empty", values)
        too_long = ~missing & (lengths > long)
        out.add(too_long, rule.name, lambda _: f"longer than {long} characters", values)
    return values


def _numbers(series: pd.Series, missing: np.ndarray, field: str, out: _Problems) -> np.ndarray:
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiub":
        return series.to_numpy(dtype=np.float64)  # NaN is missing already
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    parsed = pd.to_numeric(series.astype(object), errors="coerce").astype("Float64")
    values = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    out.add(~missing & np.isnan(values), field, lambda v: f"{_show(v)} is not a number", series)
    return values


def _check_number(rule: FieldRule, series: pd.Series, missing: np.ndarray, out: _Problems) -> Any:
    values = _numbers(series, missing, rule.name, out)
    with np.errstate(invalid="ignore"):
        if rule.minimum is not None:
            below = values < rule.minimum
            say = f"is below {_show(rule.minimum)}"
            out.add(below, rule.name, lambda v: f"{_show(v)} {say}", values)
        if rule.integer:
            fractional = ~np.isnan(values) & ((np.floor(values) != values) | np.isinf(values))
            out.add(fractional, rule.name, lambda v: f"{v} is not a whole number", values)
    return values


def _flag(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, str):
        return FLAG_WORDS.get(value.strip().lower(), _NOT_A_FLAG)
    if isinstance(value, bool | np.bool_ | int | float | np.number):
        return math.nan if value != value else float(value) if value in (0, 1) else _NOT_A_FLAG
    return _NOT_A_FLAG


def _check_flag(rule: FieldRule, series: pd.Series, missing: np.ndarray, out: _Problems) -> Any:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    values = map_distinct(series.to_numpy(dtype=object), _flag, np.float64)
    values[missing] = np.nan
    bad = values == _NOT_A_FLAG
    out.add(bad, rule.name, lambda v: f"{_show(v)} is not true or false", series)
    values[bad] = np.nan
    return values


def _check_time(rule: FieldRule, series: pd.Series, missing: np.ndarray, out: _Problems) -> Any:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_dtype(series.dtype):
        parsed = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
        unreadable = ~missing & parsed.isna().to_numpy()
        say = "is not a date and time (ISO 8601, e.g. 2026-11-20T09:30:00Z)"
        out.add(unreadable, rule.name, lambda v: f"{_show(v)} {say}", series)
        series = parsed.dt.tz_localize(None)
    return series.to_numpy(dtype="datetime64[us]")


_CHECKS = {
    FieldType.text: _check_text,
    FieldType.number: _check_number,
    FieldType.boolean: _check_flag,
    FieldType.time: _check_time,
}


def _of_channels(frame: pd.DataFrame, channels: frozenset[str]) -> np.ndarray:
    if "channel" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame["channel"].isin(list(channels)).to_numpy(dtype=bool, na_value=False)


def check_leads(frame: pd.DataFrame, rules: tuple[FieldRule, ...] | None = None) -> CheckedLeads:
    """The rows of `frame` checked against `rules` (default: the contract's); those
    columns only, normalised.

    An optional column absent from the frame stays absent (the feature spec
    reads it as missing); an absent required column makes every row invalid.
    Pass `(*lead_rules(), *custom_rules(model.custom_fields))` to check and keep
    a model's custom columns too.
    """
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.reset_index(drop=True)  # text columns stay Series: align them by row
    out = _Problems(len(frame))
    columns: dict[str, Any] = {}
    for rule in rules if rules is not None else lead_rules():
        if rule.name not in frame.columns:
            if rule.required:
                out.add(np.ones(len(frame), dtype=bool), rule.name, lambda _: "missing", None)
            continue
        series = frame[rule.name]
        missing = series.isna().to_numpy()
        if rule.required:
            out.add(missing, rule.name, lambda _: "missing", None)
        if rule.channels is not None:  # other channels' rows: not read, so not checked
            missing = missing | ~_of_channels(frame, rule.channels)
        columns[rule.name] = _CHECKS[rule.kind](rule, series, missing, out)
    normalised = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)), copy=False)
    return CheckedLeads(frame=normalised, problems=out.text)
