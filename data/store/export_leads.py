"""The leads and their outcome labels in a store export (`data.store.export`).

A lead's features are its first payload, never a later one; its label comes from its
first won or lost event, and stays undecided while it is too young to judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pandas as pd

from data.contract import Lead, columns


def naive_utc(values: pd.Series) -> pd.Series:
    """UTC times without a zone, as the contract tables hold them."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(None).astype("datetime64[us]")


def first_payloads(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Contract columns of each lead's first payload, its custom fields one column each,
    and their kinds (categorical, numeric, boolean)."""
    payloads = [dict(p) for p in rows["first_payload"]]
    custom = [p.pop("custom_fields", None) or {} for p in payloads]
    frame = pd.DataFrame(payloads, columns=columns(Lead))
    frame["created_at"] = naive_utc(frame["created_at"])
    kinds: dict[str, str] = {}
    for name in sorted({key for fields in custom for key in fields}):
        values = pd.Series([fields.get(name) for fields in custom], dtype=object)
        kinds[name] = _kind(values)
        frame[name] = _as_kind(values, kinds[name])
    return frame, kinds


def _kind(values: pd.Series) -> str:
    """Text anywhere makes a categorical; only flags a boolean; else numeric."""
    present = [v for v in values if v is not None]
    if any(isinstance(v, str) for v in present):
        return "categorical"
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    return "numeric"


def _as_kind(values: pd.Series, kind: str) -> pd.Series:
    if kind == "categorical":
        return values.map(lambda v: None if v is None else str(v))
    if kind == "boolean":
        return values.astype("boolean")
    return pd.to_numeric(values.map(lambda v: None if v is None else float(v)), errors="coerce")


def first_events(events: pd.DataFrame, types: Sequence[str], key: str) -> pd.DataFrame:
    """Each subject's first event of `types` (events are sorted by time)."""
    chosen = events[events["type"].isin(types) & events[key].notna()]
    return chosen.drop_duplicates(key, keep="first").set_index(key)


def qualified_labels(
    frame: pd.DataFrame, events: pd.DataFrame, assignments: pd.DataFrame, days: int
) -> pd.Series:
    """1 qualified (a `qualified` or `won` event, or routed to a closer), 0 never qualified
    though old enough (a `lost` alone is a disqualified lead), NA too young: the same
    maturity as `converted_labels`."""
    routed = assignments.loc[assignments["kind"] == "lead", "subject_id"]
    qualifying = events.loc[events["type"].isin(("qualified", "won")), "lead_id"]
    reached = set(qualifying.dropna()) | set(routed)
    labels = pd.Series(frame["lead_id"].isin(reached).astype(int), dtype="Int64")
    return labels.mask(_young(frame, days)).astype("Int64")


def _young(frame: pd.DataFrame, days: int) -> pd.Series:
    """Leads created within `days` of the newest: too young for their outcome to be known."""
    created = frame["created_at"]
    young: pd.Series = created > created.max() - timedelta(days=days)
    return young


def converted_labels(
    frame: pd.DataFrame, events: pd.DataFrame, days: int
) -> tuple[pd.Series, dict[str, int]]:
    """1 won, 0 lost, NA without either or too young; and the counts an import keeps."""
    decided = first_events(events, ("won", "lost"), "lead_id")["type"]
    outcome = frame["lead_id"].map(decided)
    labels = pd.Series(outcome.map({"won": 1, "lost": 0}), dtype="Int64")
    still_open = labels.isna()
    young = _young(frame, days) if len(frame) else still_open
    too_young = young & ~still_open
    labels = labels.mask(too_young)
    counts = {
        "converted": int((labels == 1).sum()),
        "not_converted": int((labels == 0).sum()),
        "open": int(still_open.sum()),
        "too_young": int(too_young.sum()),
    }
    return labels.astype("Int64"), counts
