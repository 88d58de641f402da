"""Named derivations a feature can use (`Feature.derive`).

Each derivation has two faces that must agree to the last bit: `vector`
takes raw column arrays (see `features.columns`) and returns one array of the
same length (floats with NaN for missing, or objects for categories), for
training and batches; `scalar` takes one lead's normalised values, for the
online path, where numpy's per-call overhead would cost more than the work.
`tests/features/test_spec.py` proves the two give identical matrices.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from data.contract import SEGMENT_UPPER_BOUNDS, Segment, Seniority
from features.columns import map_distinct

_SENIORITY_RANK = {level.value: float(rank) for rank, level in enumerate(Seniority, start=1)}
_TITLE_FUNCTIONS = tuple(
    (name, re.compile(rf"\b(?:{'|'.join(words)})\b"))
    for name, words in (
        (
            "executive",
            ("ceo", "chief", "founder", "owner", "president", "cfo", "cto", "coo", "cmo"),
        ),
        ("it", ("it", "engineering", "engineer", "technology", "developer", "cio", "data")),
        ("sales", ("sales", "revenue", "business development", "account")),
        ("marketing", ("marketing", "growth", "brand", "demand")),
        ("finance", ("finance", "financial", "controller", "accounting")),
        ("operations", ("operations", "ops", "supply", "logistics", "procurement")),
    )
)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator; NaN where either is missing or the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / denominator
    out = np.asarray(out, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def per_minute_ratio(seconds: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Minutes per unit, e.g. minutes on site per visit."""
    return ratio(seconds / 60.0, denominator)


def seniority_rank(seniority: np.ndarray) -> np.ndarray:
    """entry=1 ... c_level=5, so the model can use the order."""
    return map_distinct(seniority, seniority_rank_one, np.float64)


def segment(company_size: np.ndarray) -> np.ndarray:
    """smb / mid_market / enterprise from head count (None if unknown)."""
    out = np.full(len(company_size), Segment.enterprise.value, dtype=object)
    for name, upper in reversed(SEGMENT_UPPER_BOUNDS):
        out[company_size < upper] = name.value
    out[np.isnan(company_size)] = None
    return out


def function_of_title(title: str | None) -> str | None:
    """The department a job title belongs to, by keyword (None if no match)."""
    if title is None:
        return None
    text = title.lower()
    for name, pattern in _TITLE_FUNCTIONS:
        if pattern.search(text):
            return name
    return None


def title_function(title: np.ndarray) -> np.ndarray:
    return map_distinct(title, function_of_title, object)


def _calendar(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = ~np.isnat(times)
    months = np.where(valid, times.astype("datetime64[M]").astype(np.int64) % 12 + 1, 0)
    return months.astype(np.float64), valid


def month(times: np.ndarray) -> np.ndarray:
    """Month of the year, 1-12 (seasonality)."""
    months, valid = _calendar(times)
    return np.where(valid, months, np.nan)


def month_in_quarter(times: np.ndarray) -> np.ndarray:
    """1, 2 or 3: buying picks up in the last month of a quarter."""
    months, valid = _calendar(times)
    return np.where(valid, (months - 1) % 3 + 1, np.nan)


def weekday(times: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday."""
    valid = ~np.isnat(times)
    days = times.astype("datetime64[D]").astype(np.int64)
    return np.where(valid, (days + 3) % 7, np.nan).astype(np.float64)


def hour(times: np.ndarray) -> np.ndarray:
    """Hour of day (UTC) the lead arrived."""
    valid = ~np.isnat(times)
    hours = times.astype("datetime64[h]").astype(np.int64) % 24
    return np.where(valid, hours, np.nan).astype(np.float64)


def ratio_one(numerator: float, denominator: float) -> float:
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return math.nan
    out = numerator / denominator
    return out if math.isfinite(out) else math.nan


def per_minute_ratio_one(seconds: float, denominator: float) -> float:
    return ratio_one(seconds / 60.0, denominator)


def seniority_rank_one(seniority: str | None) -> float:
    return math.nan if seniority is None else _SENIORITY_RANK.get(seniority, math.nan)


def segment_one(company_size: float) -> str | None:
    if math.isnan(company_size):
        return None
    for name, upper in SEGMENT_UPPER_BOUNDS:
        if company_size < upper:
            return name.value
    return Segment.enterprise.value


def days_before_created(times: np.ndarray, created_at: np.ndarray) -> np.ndarray:
    """Days from a CRM timestamp to the lead's creation (e.g. first web visit: 12.5)."""
    days = (created_at - times) / np.timedelta64(1, "D")
    return np.asarray(days, dtype=np.float64)  # NaT gives NaN


def days_before_created_one(time: datetime | None, created_at: datetime | None) -> float:
    if time is None or created_at is None:
        return math.nan
    return float(
        np.float64(
            (np.datetime64(created_at, "us") - np.datetime64(time, "us")) / np.timedelta64(1, "D")
        )
    )


def month_one(time: datetime | None) -> float:
    return math.nan if time is None else float(time.month)


def month_in_quarter_one(time: datetime | None) -> float:
    return math.nan if time is None else float((time.month - 1) % 3 + 1)


def weekday_one(time: datetime | None) -> float:
    return math.nan if time is None else float(time.weekday())


def hour_one(time: datetime | None) -> float:
    return math.nan if time is None else float(time.hour)


def same(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """1 where two text fields agree, 0 where they differ, NaN where either is unknown.

    A rep with no region or segment serves any, so "no restriction" is not a mismatch.
    """
    return np.fromiter(
        (
            np.nan if a is None or b is None else float(a == b)
            for a, b in zip(left, right, strict=True)
        ),
        dtype=np.float64,
        count=len(left),
    )


def same_segment(company_size: np.ndarray, rep_segment: np.ndarray) -> np.ndarray:
    """Whether the company's segment (from its head count) is the rep's segment."""
    return same(segment(company_size), rep_segment)


def contains(value: np.ndarray, collection: np.ndarray) -> np.ndarray:
    """1 if a value is among a row's items (e.g. a closer's focus industries), NaN if unknown."""
    return np.fromiter(
        (
            np.nan if v is None or items is None else float(v in items)
            for v, items in zip(value, collection, strict=True)
        ),
        dtype=np.float64,
        count=len(value),
    )


def count_items(collection: np.ndarray) -> np.ndarray:
    """How many items a row holds (e.g. focus industries); NaN if unknown."""
    return np.fromiter(
        (np.nan if items is None else float(len(items)) for items in collection),
        dtype=np.float64,
        count=len(collection),
    )


def same_one(left: str | None, right: str | None) -> float:
    return math.nan if left is None or right is None else float(left == right)


def same_segment_one(company_size: float, rep_segment: str | None) -> float:
    return same_one(segment_one(company_size), rep_segment)


def contains_one(value: str | None, items: Any) -> float:
    return math.nan if value is None or items is None else float(value in items)


def count_items_one(items: Any) -> float:
    return math.nan if items is None else float(len(items))


@dataclass(frozen=True)
class Derivation:
    vector: Callable[..., np.ndarray]
    scalar: Callable[..., Any]


DERIVATIONS: dict[str, Derivation] = {
    "ratio": Derivation(ratio, ratio_one),
    "per_minute_ratio": Derivation(per_minute_ratio, per_minute_ratio_one),
    "seniority_rank": Derivation(seniority_rank, seniority_rank_one),
    "segment": Derivation(segment, segment_one),
    "title_function": Derivation(title_function, function_of_title),
    "month": Derivation(month, month_one),
    "days_before_created": Derivation(days_before_created, days_before_created_one),
    "month_in_quarter": Derivation(month_in_quarter, month_in_quarter_one),
    "weekday": Derivation(weekday, weekday_one),
    "hour": Derivation(hour, hour_one),
    "same": Derivation(same, same_one),
    "same_segment": Derivation(same_segment, same_segment_one),
    "contains": Derivation(contains, contains_one),
    "count_items": Derivation(count_items, count_items_one),
}
