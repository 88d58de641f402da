"""The leakage guard: columns that could not have been known when the lead was scored.

A column filled in by sales after first contact (the deal's segment, a won
date, a "status") makes validation look brilliant and production useless.
Two symptoms give it away without knowing the CRM: on its own the column
predicts the outcome almost perfectly, or it holds timestamps later than
the lead's creation. Such columns are dropped unless the user keeps them on
purpose; every decision is reported, with the figure behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from data.importing.cleaning import clean_date
from features.columns import FieldType

MAX_SINGLE_AUC = 0.95
"""A column that alone ranks converted leads this well is almost surely filled in later."""
MAX_LATER_SHARE = 0.01
"""Share of a timestamp column's values later than creation that marks it as post-contact."""
LATE_GRACE = pd.Timedelta(days=1)
"""Date-only exports put a same-day time at midnight: a day's grace before 'later'."""
DATE_LIKE_SHARE = 0.9
"""A text column whose values parse as dates this often is checked as a timestamp."""
_BINS = 20
_PRIOR_WEIGHT = 10.0

Decision = Literal["kept", "dropped", "kept by override"]


@dataclass(frozen=True)
class ColumnCheck:
    column: str
    decision: Decision
    single_column_auc: float | None
    later_share: float | None
    reason: str


@dataclass(frozen=True)
class LeakageReport:
    checks: list[ColumnCheck] = field(default_factory=list)
    max_auc: float = MAX_SINGLE_AUC
    max_later_share: float = MAX_LATER_SHARE

    @property
    def dropped(self) -> list[str]:
        return [c.column for c in self.checks if c.decision == "dropped"]

    @property
    def suspicious(self) -> list[ColumnCheck]:
        """Dropped or kept by override: what the console and the run should show."""
        return [c for c in self.checks if c.decision != "kept"]

    def as_dict(self) -> dict[str, object]:
        return {
            "max_single_column_auc": self.max_auc,
            "max_later_share": self.max_later_share,
            "columns": [asdict(c) for c in self.checks],
        }


def check_leakage(
    leads: pd.DataFrame,
    y: np.ndarray,
    fields: Mapping[str, FieldType],
    *,
    keep: Sequence[str] = (),
    max_auc: float = MAX_SINGLE_AUC,
    max_later_share: float = MAX_LATER_SHARE,
    seed: int = 0,
) -> LeakageReport:
    """Check each of `fields` on `leads` (training rows only) against outcomes `y`.

    `keep` names columns to keep whatever the checks say (the user knows
    they are filled in before contact); they are still reported.
    """
    created = pd.to_datetime(leads["created_at"]).reset_index(drop=True)
    checks = []
    for column, kind in fields.items():
        if column == "created_at" or column not in leads:
            continue
        values = leads[column].reset_index(drop=True)
        if values.isna().all():
            continue
        later = _later_share(values, kind, created)
        auc = single_column_auc(values, kind, y, seed)
        reasons = []
        if later is not None and later > max_later_share:
            reasons.append(f"{later:.0%} of its timestamps are later than the lead's creation")
        if auc is not None and auc >= max_auc:
            reasons.append(f"alone it predicts the outcome with ROC AUC {auc:.3f}")
        decision: Decision = "kept"
        if reasons:
            decision = "kept by override" if column in keep else "dropped"
        checks.append(ColumnCheck(column, decision, auc, later, "; ".join(reasons)))
    return LeakageReport(checks, max_auc, max_later_share)


def single_column_auc(
    values: pd.Series, kind: FieldType, y: np.ndarray, seed: int = 0, folds: int = 5
) -> float | None:
    """Out-of-fold ROC AUC of the column's smoothed conversion rate per value.

    Numbers and times are binned by quantile; a missing value is a value of
    its own, because "filled in only for won deals" is the commonest leak.
    Out of fold, so an id-like column (every value unique) scores 0.5, not 1.
    """
    codes = _codes(values, kind)
    positives = int(y.sum())
    if positives < folds or len(y) - positives < folds:
        return None
    prior = float(y.mean())
    encoded = np.empty(len(y), dtype=np.float64)
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(codes, y)
    for fit_rows, held_rows in splits:
        table = pd.DataFrame({"code": codes[fit_rows], "y": y[fit_rows]}).groupby("code")["y"]
        rate = (table.sum() + _PRIOR_WEIGHT * prior) / (table.count() + _PRIOR_WEIGHT)
        encoded[held_rows] = pd.Series(codes[held_rows]).map(rate).fillna(prior).to_numpy()
    return float(roc_auc_score(y, encoded))


def _codes(values: pd.Series, kind: FieldType) -> np.ndarray:
    """Small integer codes, -1 for missing, on which a conversion rate per value is taken."""
    if kind is FieldType.time:
        values = pd.to_datetime(values).astype("int64").where(values.notna())
        kind = FieldType.number
    if kind is FieldType.number:
        numbers = pd.to_numeric(values, errors="coerce")
        binned = pd.qcut(numbers, _BINS, labels=False, duplicates="drop")
        return np.asarray(binned.fillna(-1), dtype=np.int64)
    codes, _ = pd.factorize(_text_or_none(values), use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64)


def _later_share(values: pd.Series, kind: FieldType, created: pd.Series) -> float | None:
    """Share of filled values later than creation, for timestamps and date-like text."""
    if kind is FieldType.text:
        given = int(values.notna().sum())
        if not given:
            return None
        parsed = clean_date(_text_or_none(values), str(values.name))
        if parsed.refused or parsed.values.notna().sum() < DATE_LIKE_SHARE * given:
            return None
        times = parsed.values
    elif kind is FieldType.time:
        times = pd.to_datetime(values)
    else:
        return None
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    created_naive = created.dt.tz_convert("UTC").dt.tz_localize(None) if created.dt.tz else created
    filled = times.notna()
    if not filled.any():
        return None
    later = times[filled] > created_naive[filled] + LATE_GRACE
    return float(later.mean())


def _text_or_none(values: pd.Series) -> pd.Series:
    """Text with None for missing: how the importer's cleaners expect a column."""
    return values.astype(object).mask(values.isna(), None)
