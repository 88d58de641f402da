"""Has the world moved away from what a model learnt? Drift per live model.

Each served model carries a training reference (`training.reference`): per
input field the share of its learning rows in each bin (numbers: ten decile
bins; text and flags: the top categories, "other"), the missing rate, the
score distribution and the grade shares. Here the leads a model version
scored in [start, end) (each lead once; its payload is the last one posted)
are put in the same bins, plus two the training rows never filled: "missing"
is always a bin, and "new" holds text categories never seen in training.

The population stability index per field and for the score:

    PSI = sum over bins of (now - then) * ln(now / then)

with both shares floored at `EPSILON` so an empty bin counts a lot but not
infinitely. Bands: below 0.1 stable, 0.1 to 0.25 moving, above 0.25 shifted.
Below `MIN_LEADS` leads a PSI is noise: the answer says so instead.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from data.store.schema import leads, scores
from serving.insights import score_backtest as _backtest
from serving.insights.frames import frame
from serving.insights.responses import (
    Band,
    Drift,
    DriftBin,
    FieldDrift,
    ModelDrift,
    NewCategory,
    Period,
    VersionBacktest,
)

DEFAULT_DAYS = 7
MIN_LEADS = 100
"""Fewer leads than this in a period give no PSI: ten bins of a handful each are noise."""
EPSILON = 1e-4
"""Shares are floored at this in the PSI, so an empty bin adds a large finite term."""
STABLE_BELOW = 0.1
SHIFTED_ABOVE = 0.25
NEW_SHOWN = 5
CALIBRATION_LOOKBACK_DAYS = 365
"""The backtest beside the drift judges this version's scores of the last year."""
NO_REFERENCE = "no training reference (trained before drift monitoring); retrain"

References = Mapping[tuple[str, str], Mapping[str, Any] | None]
"""(model name, version) -> its training reference, None when it was trained without."""

DRIFT_COLUMNS = ["id", "lead_id", "scored_at", "model_name", "model_version", "score", "grade"]


def band(psi: float) -> Band:
    """The usual reading of a PSI: < 0.1 stable, 0.1-0.25 moving, > 0.25 shifted."""
    if psi < STABLE_BELOW:
        return "stable"
    return "moving" if psi <= SHIFTED_ABOVE else "shifted"


def psi(then: list[float], now: list[float]) -> float:
    """sum((now - then) * ln(now / then)) over aligned bins, shares floored at EPSILON."""
    expected = np.maximum(np.asarray(then, dtype=np.float64), EPSILON)
    actual = np.maximum(np.asarray(now, dtype=np.float64), EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def field_value(payload: Mapping[str, Any], name: str) -> Any:
    """A field of a posted lead, a CRM's own field included (they sit in custom_fields)."""
    if name in payload:
        return payload[name]
    custom = payload.get("custom_fields") or {}
    return custom.get(name)


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan if value is None else float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _category(value: Any, field_type: str) -> str | None:
    if value is None:
        return None
    if field_type == "boolean":
        if isinstance(value, str):
            value = value.strip().lower() in ("true", "1", "yes")
        return "true" if value else "false"
    return str(value)


def _range_labels(edges: list[float]) -> list[str]:
    def show(x: float) -> str:
        return f"{x:.4g}"

    if not edges:
        return ["present"]
    labels = [f"<= {show(edges[0])}"]
    labels += [f"{show(low)} - {show(high)}" for low, high in pairwise(edges)]
    return [*labels, f"> {show(edges[-1])}"]


def _shares(counts: list[int], total: int) -> list[float]:
    return [c / total if total else 0.0 for c in counts]


def numeric_drift(name: str, reference: Mapping[str, Any], values: list[Any]) -> FieldDrift:
    edges = [float(e) for e in reference["edges"]]
    then_shares = list(reference["shares"]) or [0.0]
    numbers = np.array([_number(v) for v in values], dtype=np.float64)
    present = numbers[~np.isnan(numbers)]
    counts = np.bincount(
        np.searchsorted(np.asarray(edges, dtype=np.float64), present, side="left"),
        minlength=len(edges) + 1,
    )
    total = len(numbers)
    labels = [*_range_labels(edges), "missing"]
    then = [*then_shares, float(reference["missing"])]
    now = _shares([*counts.tolist(), total - len(present)], total)
    return _field(name, "numeric", labels, then, now, total, None, [])


def categorical_drift(
    name: str, reference: Mapping[str, Any], values: list[Any], field_type: str
) -> FieldDrift:
    top: dict[str, float] = dict(reference["categories"])
    known = set(reference.get("known", ())) | set(top)
    complete = bool(reference.get("known_complete", True))
    counts: Counter[str] = Counter()
    new: Counter[str] = Counter()
    for value in values:
        text = _category(value, field_type)
        if text is None:
            counts["missing"] += 1
        elif text in top:
            counts[f"={text}"] += 1
        elif text in known or not complete:
            counts["other"] += 1
        else:
            new[text] += 1
    total = len(values)
    keys = [f"={c}" for c in top]
    labels = [*top, "other", "new", "missing"]
    then = [*top.values(), float(reference["other"]), 0.0, float(reference["missing"])]
    now = _shares(
        [*(counts[k] for k in keys), counts["other"], sum(new.values()), counts["missing"]],
        total,
    )
    newest = [
        NewCategory(value=value, share=count / total) for value, count in new.most_common(NEW_SHOWN)
    ]
    new_share = sum(new.values()) / total if total else None
    return _field(name, "categorical", labels, then, now, total, new_share, newest)


def _field(
    name: str,
    kind: Any,
    labels: list[str],
    then: list[float],
    now: list[float],
    total: int,
    new_share: float | None,
    new_categories: list[NewCategory],
) -> FieldDrift:
    enough = total >= MIN_LEADS
    value = round(psi(then, now), 4) if enough else None
    return FieldDrift(
        field=name,
        kind=kind,
        psi=value,
        band=band(value) if value is not None else None,
        missing_then=then[-1],
        missing_now=now[-1] if total else None,
        new_share=new_share,
        new_categories=new_categories,
        bins=[
            DriftBin(key=label, then=t, now=n)
            for label, t, n in zip(labels, then, now, strict=True)
        ],
    )


def _scored(connection: Connection, period: Period) -> pd.DataFrame:
    """The last score of each lead per model version in the period, with its payload."""
    query = (
        select(*(scores.c[n] for n in DRIFT_COLUMNS), leads.c.payload)
        .join(leads, leads.c.lead_id == scores.c.lead_id)
        .where(scores.c.scored_at >= period.start, scores.c.scored_at < period.end)
    )
    given = frame(connection, query, [*DRIFT_COLUMNS, "payload"])
    if given.empty:
        return given
    given = given.sort_values(["scored_at", "id"])
    return given.groupby(["lead_id", "model_name", "model_version"], as_index=False).last()


def _empty_model(model: str, version: str, leads_: int, message: str) -> ModelDrift:
    return ModelDrift(
        model=model,
        version=version,
        leads=leads_,
        message=message,
        reference_rows=None,
        reference_window=None,
        score_psi=None,
        score_band=None,
        score_bins=[],
        grades=[],
        fields=[],
        calibration=None,
    )


def _worst_first(item: FieldDrift) -> tuple[float, str]:
    return (-(item.psi if item.psi is not None else -1.0), item.field)


def model_drift(
    model: str,
    version: str,
    reference: Mapping[str, Any] | None,
    scored: pd.DataFrame,
    calibration: VersionBacktest | None,
) -> ModelDrift:
    """One version's drift from the leads it scored (`scored`: score, grade, payload)."""
    n = len(scored)
    if reference is None:
        return _empty_model(model, version, n, NO_REFERENCE)
    payloads = [p if isinstance(p, Mapping) else {} for p in scored["payload"]]
    fields = []
    for name, summary in reference["fields"].items():
        values = [field_value(p, name) for p in payloads]
        fields.append(
            numeric_drift(name, summary, values)
            if summary["kind"] == "numeric"
            else categorical_drift(name, summary, values, summary.get("type", "text"))
        )
    fields.sort(key=_worst_first)
    score_ref = reference["score"]
    edges = np.asarray(score_ref["edges"], dtype=np.float64)
    score_counts = np.bincount(
        np.searchsorted(edges, scored["score"].to_numpy(dtype=np.float64), side="left"),
        minlength=len(edges) + 1,
    )
    score_now = _shares(score_counts.tolist(), n)
    bounds = [0, *(int(e) for e in edges), 99]
    score_labels = [f"{low + 1}-{high}" for low, high in pairwise(bounds)]
    grade_now = scored["grade"].value_counts()
    enough = n >= MIN_LEADS
    score_psi = round(psi(score_ref["shares"], score_now), 4) if enough else None
    window = reference.get("window") or {}
    return ModelDrift(
        model=model,
        version=version,
        leads=n,
        message=None
        if enough
        else f"{n} leads scored in the period; a PSI needs at least {MIN_LEADS}",
        reference_rows=int(reference.get("rows", 0)),
        reference_window=[window.get("first"), window.get("last")],
        score_psi=score_psi,
        score_band=band(score_psi) if score_psi is not None else None,
        score_bins=[
            DriftBin(key=label, then=t, now=s)
            for label, t, s in zip(score_labels, score_ref["shares"], score_now, strict=True)
        ],
        grades=[
            DriftBin(key=g, then=float(share), now=int(grade_now.get(g, 0)) / n if n else 0.0)
            for g, share in reference["grades"].items()
        ],
        fields=fields,
        calibration=calibration,
    )


def _warnings(found: ModelDrift) -> list[str]:
    name = f"{found.model} v{found.version}"
    out = []
    if found.score_band in ("moving", "shifted"):
        out.append(f"{name}: the score distribution {found.score_band} (PSI {found.score_psi:.2f})")
    for item in found.fields:
        if item.band in ("moving", "shifted"):
            out.append(f"{name}: {item.field} {item.band} (PSI {item.psi:.2f})")
        if item.new_share and found.leads >= MIN_LEADS:
            named = ", ".join(f"{c.value} {c.share:.0%}" for c in item.new_categories)
            out.append(
                f"{name}: {item.new_share:.0%} of leads have a {item.field} never seen in "
                f"training ({named})"
            )
    return out


def drift(
    connection: Connection,
    period: Period,
    now: datetime,
    references: References,
    horizon_days: int = _backtest.DEFAULT_HORIZON_DAYS,
) -> Drift:
    """The drift of each model in `references` (the live ones) over the leads it scored in
    the period, worst field first, with the backtest of its older scores."""
    scored = _scored(connection, period)
    lookback = Period(start=period.end - timedelta(days=CALIBRATION_LOOKBACK_DAYS), end=period.end)
    judged = _backtest.backtest(connection, lookback, now, horizon_days)
    calibrations = {(v.model, v.version): v for v in judged.versions}
    models = []
    for model, version in sorted(references):
        part = (
            scored[(scored["model_name"] == model) & (scored["model_version"] == version)]
            if not scored.empty
            else scored
        )
        models.append(
            model_drift(
                model,
                version,
                references[(model, version)],
                part,
                calibrations.get((model, version)),
            )
        )
    warnings = [w for found in models for w in _warnings(found)]
    return Drift(period=period, min_leads=MIN_LEADS, models=models, warnings=warnings)
