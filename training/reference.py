"""The training reference a served model's drift is measured against.

At registration the production model's own learning rows are summarised per
input field (numbers: decile bin edges and the share per bin; flags and text:
the share per category, the most frequent first, the rest as "other"; each
with its missing rate), with the model's score distribution (share per score
decile, 1-10 ... 91-99) and grade shares on the same rows. The summary is
small JSON: it travels inside the model (`metadata["reference"]`) and is
logged beside it as `drift_reference.json`, and `serving.insights.drift` bins the
leads scored in production with the same edges.

Time fields are left out: a creation date moves with the calendar, so its
"drift" would only say that time has passed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features.columns import Columns, FieldType, row_count
from models.lead_score import LeadScoreModel

REFERENCE_FORMAT = 1
QUANTILE_BINS = 10
"""Numbers are cut at their training deciles: ten bins of about a tenth each."""
TOP_CATEGORIES = 20
"""Categories kept by name; rarer ones are pooled as "other"."""
KNOWN_CATEGORIES = 500
"""Up to this many training categories are listed, to tell a new category from a rare one."""
MAX_ROWS = 200_000
"""Evenly spaced rows at most: shares of 200,000 rows are exact to a few thousandths."""
SCORE_EDGES = (10, 20, 30, 40, 50, 60, 70, 80, 90)
"""Score bins 1-10, 11-20, ..., 91-99 (a score equal to an edge falls in the lower bin)."""


def _share(count: int | float, total: int) -> float:
    return round(float(count) / total, 6) if total else 0.0


def numeric_summary(values: np.ndarray) -> dict[str, Any]:
    """Decile edges of the present values and the share of all rows per bin, plus missing."""
    values = np.asarray(values, dtype=np.float64)
    present = values[~np.isnan(values)]
    total = len(values)
    if not len(present):
        return {"kind": "numeric", "edges": [], "shares": [], "missing": _share(total, total)}
    quantiles = np.quantile(present, np.linspace(0, 1, QUANTILE_BINS + 1)[1:-1])
    edges = np.unique(quantiles)
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=len(edges) + 1)
    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "shares": [_share(c, total) for c in counts],
        "missing": _share(total - len(present), total),
    }


def category_text(value: Any, field_type: FieldType) -> str | None:
    """A value as the category it is counted under: flags as "true"/"false"."""
    if value is None:
        return None
    if field_type is FieldType.boolean:
        if isinstance(value, float) and np.isnan(value):
            return None
        return "true" if value else "false"
    return str(value)


def categorical_summary(values: np.ndarray, field_type: FieldType) -> dict[str, Any]:
    """Share per category (the `TOP_CATEGORIES` most frequent), "other", missing, and the
    categories seen at all (to spot new ones)."""
    total = len(values)
    texts = [category_text(v, field_type) for v in values]
    present = np.array([t for t in texts if t is not None], dtype=object)
    uniques, counts = (
        np.unique(present.astype(str), return_counts=True)
        if len(present)
        else (np.array([], dtype=str), np.array([], dtype=np.int64))
    )
    order = np.lexsort((uniques, -counts))
    top = order[:TOP_CATEGORIES]
    return {
        "kind": "categorical",
        "categories": {str(uniques[i]): _share(counts[i], total) for i in top},
        "other": _share(int(counts[order[TOP_CATEGORIES:]].sum()), total),
        "missing": _share(total - len(present), total),
        "known": sorted(str(uniques[i]) for i in order[:KNOWN_CATEGORIES]),
        "known_complete": len(uniques) <= KNOWN_CATEGORIES,
    }


def score_bins(scores: np.ndarray) -> np.ndarray:
    """The score bin (0-9) of rounded 1-99 scores."""
    return np.searchsorted(np.asarray(SCORE_EDGES, dtype=np.float64), scores, side="left")


def training_reference(
    model: LeadScoreModel, columns: Columns, created_at: pd.Series | None = None
) -> dict[str, Any]:
    """The reference of `model` from the rows it learnt (`columns`, as training read them)."""
    total = row_count(columns)
    step = max(1, -(-total // MAX_ROWS))
    rows = {name: values[::step] for name, values in columns.items()}
    n = row_count(rows)
    fields: dict[str, Any] = {}
    for name, field_type in model.spec.input_fields.items():
        if field_type is FieldType.time:
            continue
        values = rows[name]
        fields[name] = (
            numeric_summary(values)
            if field_type is FieldType.number
            else categorical_summary(values, field_type)
        )
        fields[name]["type"] = field_type.value
    scored = model.score(rows)
    score_counts = np.bincount(score_bins(np.rint(scored.score)), minlength=len(SCORE_EDGES) + 1)
    grades = sorted({g for g, _ in model.scale.grade_thresholds} | {"D"})
    window: dict[str, str | None] = {"first": None, "last": None}
    if created_at is not None:
        times = pd.to_datetime(created_at, utc=True, errors="coerce").dropna()
        if len(times):
            window = {"first": times.min().isoformat(), "last": times.max().isoformat()}
    return {
        "format": REFERENCE_FORMAT,
        "rows": int(total),
        "window": window,
        "fields": fields,
        "score": {
            "edges": list(SCORE_EDGES),
            "shares": [_share(c, n) for c in score_counts],
        },
        "grades": {g: _share(int((scored.grade == g).sum()), n) for g in grades},
    }


def with_reference(
    model: LeadScoreModel, columns: Columns, created_at: pd.Series | None = None
) -> dict[str, Any]:
    """Compute the reference and keep it in `model.metadata["reference"]`; returns it."""
    reference = training_reference(model, columns, created_at)
    model.metadata["reference"] = reference
    return reference
