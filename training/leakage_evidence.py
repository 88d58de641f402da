"""The evidence the leakage guard weighs for one column, each kind with its figures.

Pure functions on frames; `training.leakage` decides from what they find.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache, cached_property

import numpy as np
import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from data.importing.cleaning import clean_date
from data.importing.mapping import PRESETS
from features.columns import FieldType

LATE_GRACE = pd.Timedelta(days=1)
"""Date-only exports put a same-day time at midnight: a day's grace before 'later'."""
DATE_LIKE_SHARE = 0.9
"""A text column whose values parse as dates this often is checked as a timestamp."""
RIVAL_FLOOR = 0.8
"""Single-column ROC AUC below which a column is not said to rival the others: a lone honest
signal beside columns that carry none would rival them too, without being any less honest."""
RIVAL_MARGIN = 0.02
"""A column rivals the others when alone it comes this close to their model, or beats it."""
NEWEST_SHARES = (0.02, 0.05, 0.1)
"""Windows of the newest leads whose filled share is compared with the older leads'."""
MIN_NEWEST = 50
MIN_FILL_DROP = 0.15
"""Fewer filled among the newest leads than among older ones, by at least this share..."""
FILL_Z = 4.0
"""...and by this many standard errors: a post-contact field fills up as leads are worked."""
DECIDED_ONLY_SHARE = 0.05
"""Share of recent decided leads whose value no undecided lead holds, that counts as evidence."""
DECIDED_ONLY_EXPECTED = 8.0
"""A value counts as decided-only when, at its recent rate, undecided leads should hold it this
often and none does (at 8 expected, chance leaves it out 3 times in 10,000)."""
RECENT_DECIDED = 0.25
"""Share of the decided leads, newest first, whose values are compared with the undecided."""
FOLDS = 5
REFERENCE_ROWS = 50_000
_BINS = 20
_DATE_LIKE = r"^\d{4}-\d{2}-\d{2}|^\d{1,2}/\d{1,2}/\d{4}"
_PRIOR_WEIGHT = 10.0

POST_CONTACT_WORDS = frozenset({
    "status", "stage", "rating", "quality", "tag", "tags", "owner", "contacted", "converted",
    "closed", "close", "won", "lost", "disqualified", "outcome", "disposition", "notes",
    "lifecycle",
})  # fmt: skip
POST_CONTACT_PHRASES = ("last activity", "last notable", "notable activit", "last contact",
                        "last engagement", "next step", "sales activit", "activity date",
                        "became a customer")  # fmt: skip
"""Words and phrases CRMs use for fields filled in after first contact."""


@dataclass(frozen=True)
class Frames:
    """The leads the guard looks at: the decided ones (aligned with the outcomes), and
    held-out and undecided ones when given; `dates` says created_at orders them."""

    decided: pd.DataFrame
    held_out: pd.DataFrame | None = None
    undecided: pd.DataFrame | None = None
    dates: bool = True

    @property
    def all(self) -> list[pd.DataFrame]:
        return [f for f in (self.decided, self.held_out, self.undecided) if f is not None]

    @cached_property
    def by_age(self) -> np.ndarray:
        """Positions in the frames laid end to end, oldest lead first (no date: left out)."""
        created = _naive_utc(pd.concat([pd.to_datetime(f["created_at"]) for f in self.all]))
        known = np.flatnonzero(created.notna().to_numpy())
        return known[np.argsort(created.to_numpy()[known], kind="stable")]


@dataclass(frozen=True)
class FillTrend:
    newest: float
    """Filled share among the newest `newest_leads` leads."""
    older: float
    """Filled share among the older three quarters of the leads."""
    newest_leads: int
    z: float

    @property
    def telling(self) -> bool:
        return self.older - self.newest >= MIN_FILL_DROP and self.z >= FILL_Z


@dataclass(frozen=True)
class DecidedOnly:
    share: float
    values: tuple[str, ...]
    """The commonest values seen only on decided leads (five at most)."""


@dataclass(frozen=True)
class ColumnEvidence:
    max_auc: float
    max_later_share: float
    single_auc: float | None = None
    encoded: np.ndarray | None = None
    """Out-of-fold conversion rate of each decided lead's value, for the reference model."""
    later_share: float | None = None
    fill: FillTrend | None = None
    decided_only: DecidedOnly | None = None
    name_hint: str | None = None
    others_auc: float | None = None

    def with_rivalry(self, others: float) -> ColumnEvidence:
        return replace(self, others_auc=others)

    @property
    def rivals(self) -> bool:
        auc, others = self.single_auc, self.others_auc
        return (
            auc is not None
            and others is not None
            and auc >= RIVAL_FLOOR
            and auc >= others - RIVAL_MARGIN
        )

    @property
    def found(self) -> list[tuple[str, str]]:
        """(kind, reason) of every piece of evidence, strongest first."""
        out = []
        auc, later = self.single_auc, self.later_share
        if auc is not None and auc >= self.max_auc:
            out.append(("near-perfect", f"alone it predicts the outcome with ROC AUC {auc:.3f}"))
        if later is not None and later > self.max_later_share:
            reason = f"{later:.0%} of its timestamps are later than the lead's creation"
            out.append(("later than created", reason))
        if self.rivals:
            reason = (
                f"alone (ROC AUC {auc:.3f}) it rivals a model of the other columns "
                f"({self.others_auc:.3f})"
            )
            out.append(("rivals the others", reason))
        if self.fill is not None and self.fill.telling:
            fill = self.fill
            reason = (
                f"filled for {fill.newest:.0%} of the newest {fill.newest_leads:,} "
                f"leads vs {fill.older:.0%} of older ones: filled in as leads are "
                "worked"
            )
            out.append(("fills as worked", reason))
        if self.decided_only is not None and self.decided_only.share >= DECIDED_ONLY_SHARE:
            shown = ", ".join(repr(v) for v in self.decided_only.values[:3])
            reason = (
                f"{self.decided_only.share:.0%} of recent decided leads hold values no "
                f"undecided lead holds ({shown})"
            )
            out.append(("decided-only values", reason))
        if self.name_hint is not None:
            reason = f"'{self.name_hint}' is what CRMs call a field filled in after contact"
            out.append(("post-contact name", reason))
        return out

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind, _ in self.found)

    @property
    def reasons(self) -> list[str]:
        return [reason for _, reason in self.found]


def column_evidence(
    column: str,
    kind: FieldType,
    frames: Frames,
    y: np.ndarray,
    seed: int,
    max_auc: float,
    max_later_share: float,
) -> ColumnEvidence:
    """Everything but the rivalry, which needs every column's rates."""
    values = frames.decided[column]
    encoded = _out_of_fold_rates(_codes(values, kind), y, seed)
    created = frames.decided["created_at"]
    return ColumnEvidence(
        max_auc=max_auc,
        max_later_share=max_later_share,
        single_auc=None if encoded is None else float(roc_auc_score(y, encoded)),
        encoded=encoded,
        later_share=_later_share(values, kind, created) if frames.dates else None,
        fill=_fill_trend(column, frames) if frames.dates else None,
        decided_only=_decided_only(column, kind, frames),
        name_hint=post_contact_name(column),
    )


def single_column_auc(
    values: pd.Series, kind: FieldType, y: np.ndarray, seed: int = 0, folds: int = FOLDS
) -> float | None:
    """Out-of-fold ROC AUC of the column's smoothed conversion rate per value.

    Numbers and times are binned by quantile; a missing value is a value of
    its own, because "filled in only for won deals" is the commonest leak.
    Out of fold, so an id-like column (every value unique) scores 0.5, not 1.
    """
    encoded = _out_of_fold_rates(_codes(values, kind), y, seed, folds)
    return None if encoded is None else float(roc_auc_score(y, encoded))


def others_auc(
    encoded: Mapping[str, np.ndarray], columns: list[str], y: np.ndarray, seed: int
) -> float | None:
    """Out-of-fold ROC AUC of a logistic model on the columns' out-of-fold conversion rates:
    a quick stand-in for what a model of those columns achieves (None without columns)."""
    if not columns:
        return None
    rows = np.arange(len(y))
    if len(rows) > REFERENCE_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, REFERENCE_ROWS, replace=False))
    rates = np.column_stack([encoded[c][rows] for c in columns]).clip(1e-4, 1 - 1e-4)
    logits = np.log(rates / (1 - rates))
    target = y[rows]
    splits = StratifiedKFold(3, shuffle=True, random_state=seed)
    model = LogisticRegression(solver="newton-cholesky", max_iter=100)
    predicted = cross_val_predict(model, logits, target, cv=splits, method="predict_proba")
    return float(roc_auc_score(target, predicted[:, 1]))


def post_contact_name(column: str) -> str | None:
    """The word or phrase of `column` that CRMs use for a post-contact field, if any
    (the whole name if a CRM preset lists it as post-contact)."""
    if column in _preset_post_contact():
        return column
    name = re.sub(r"__c$", "", column)
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    words = re.sub(r"[^a-z0-9]+", " ", name.lower()).split()
    text = " ".join(words)
    for phrase in POST_CONTACT_PHRASES:
        if re.search(rf"\b{phrase}", text):
            return phrase
    return next((word for word in words if word in POST_CONTACT_WORDS), None)


@cache
def _preset_post_contact() -> frozenset[str]:
    """The post-contact columns every preset names: leads, deals, accounts and users."""
    names: set[str] = set()
    for path in PRESETS.glob("*.yaml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names |= {str(name) for name in raw.get("post_contact", [])}
    return frozenset(names)


def _out_of_fold_rates(
    codes: np.ndarray, y: np.ndarray, seed: int, folds: int = FOLDS
) -> np.ndarray | None:
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
    return encoded


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
        sample = values.dropna().astype(str).head(1_000)
        if not given or sample.str.match(_DATE_LIKE).mean() < DATE_LIKE_SHARE:
            return None
        parsed = clean_date(_text_or_none(values), str(values.name))
        if parsed.refused or parsed.values.notna().sum() < DATE_LIKE_SHARE * given:
            return None
        times = parsed.values
    elif kind is FieldType.time:
        times = pd.to_datetime(values)
    else:
        return None
    times, created = _naive_utc(times), _naive_utc(pd.to_datetime(created))
    filled = times.notna() & created.notna()
    if not filled.any():
        return None
    later = times[filled] > created[filled] + LATE_GRACE
    return float(later.mean())


def _fill_trend(column: str, frames: Frames) -> FillTrend | None:
    """Filled share among the newest leads (all of them, decided or not) vs older ones;
    of the windows in `NEWEST_SHARES`, the one where the gap is clearest."""
    pieces = [
        f[column].notna().to_numpy(dtype=float) if column in f else np.full(len(f), np.nan)
        for f in frames.all
    ]
    filled = np.concatenate(pieces)[frames.by_age]
    filled = filled[~np.isnan(filled)]
    n = len(filled)
    older = filled[: int(n * 0.75)]
    if len(older) < MIN_NEWEST:
        return None
    best: FillTrend | None = None
    for share in NEWEST_SHARES:
        size = max(int(n * share), MIN_NEWEST)
        if size > n // 4:
            continue
        newest = filled[-size:]
        pooled = (newest.sum() + older.sum()) / (size + len(older))
        error = np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / size + 1 / len(older)))
        z = float((older.mean() - newest.mean()) / error)
        if best is None or z > best.z:
            best = FillTrend(float(newest.mean()), float(older.mean()), size, z)
    return best


def _decided_only(column: str, kind: FieldType, frames: Frames) -> DecidedOnly | None:
    """Values the recent decided leads hold often enough that undecided ones should too,
    but none does: an outcome or a closing step written into the field."""
    undecided = frames.undecided
    if kind is not FieldType.text or undecided is None or column not in undecided:
        return None
    seen = undecided[column].dropna()
    if seen.empty:
        return None
    parts = [
        f[["created_at", column]]
        for f in (frames.decided, frames.held_out)
        if f is not None and column in f
    ]
    decided = pd.concat(parts, ignore_index=True)
    if frames.dates:
        decided = decided.sort_values("created_at", kind="stable")
    recent = decided[column].iloc[-max(int(len(decided) * RECENT_DECIDED), 200) :]
    filled = recent.dropna().astype(str)
    if filled.empty:
        return None
    counts = filled.value_counts()
    expected = counts / len(filled) * len(seen)
    only = counts[~counts.index.isin(set(seen.astype(str))) & (expected >= DECIDED_ONLY_EXPECTED)]
    if only.empty:
        return None
    return DecidedOnly(float(only.sum() / len(recent)), tuple(str(v) for v in only.index[:5]))


def _naive_utc(times: pd.Series) -> pd.Series:
    if getattr(times.dt, "tz", None) is None:
        return times
    naive: pd.Series = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return naive


def _text_or_none(values: pd.Series) -> pd.Series:
    """Text with None for missing: how the importer's cleaners expect a column."""
    return values.astype(object).mask(values.isna(), None)
