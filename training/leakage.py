"""The leakage guard: columns that could not have been known when the lead was scored.

A column filled in by sales after first contact (a tag set, a quality rating,
the last activity, a won date, a "status") makes validation look brilliant
and production useless. Such columns are rarely near-perfect: "Will revert
after reading the email" is typed on won and lost leads alike. So the guard
weighs several kinds of evidence per column (`training.leakage_evidence`):

- alone it predicts the outcome near-perfectly (ROC AUC >= `max_auc`), or
  holds timestamps later than the lead's creation: strong, enough alone;
- alone it rivals a quick model of the other, unsuspected columns;
- it fills up as leads are worked: the newest leads have it blank far more
  often than older ones (every lead counts, decided or not);
- some of its values appear on decided leads only, never on undecided ones;
- its name is what CRMs call a post-contact field (status, rating, tags, ...).

One strong piece or two kinds of evidence drop a column; one weak kind makes
it a suspect, reported with its figures and kept; `keep` overrides both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from features.columns import FieldType
from training.leakage_evidence import (
    DECIDED_ONLY_SHARE,
    MIN_FILL_DROP,
    RIVAL_FLOOR,
    RIVAL_MARGIN,
    ColumnEvidence,
    Frames,
    column_evidence,
    others_auc,
    single_column_auc,
)

__all__ = ["ColumnCheck", "LeakageReport", "check_leakage", "single_column_auc"]

MAX_SINGLE_AUC = 0.95
"""A column that alone ranks converted leads this well is almost surely filled in later."""
MAX_LATER_SHARE = 0.01
"""Share of a timestamp column's values later than creation that marks it as post-contact."""
MAX_ROWS = 100_000
"""Rows of each kind (decided, held out, undecided) the guard looks at, sampled at random."""

Decision = Literal["kept", "suspect", "dropped", "kept by override"]
STRONG = ("near-perfect", "later than created")
"""Evidence kinds that drop a column on their own."""


@dataclass(frozen=True)
class ColumnCheck:
    column: str
    decision: Decision
    single_column_auc: float | None
    later_share: float | None
    reason: str
    evidence: tuple[str, ...] = ()
    """Kinds of evidence found: near-perfect, later than created, rivals the others,
    fills as worked, decided-only values, post-contact name."""
    others_auc: float | None = None
    """Out-of-fold ROC AUC of a quick model of the unsuspected columns other than this one."""
    filled_newest: float | None = None
    filled_older: float | None = None
    newest_leads: int | None = None
    decided_only_share: float | None = None
    """Share of the recent decided leads holding a value no undecided lead holds."""
    decided_only_values: tuple[str, ...] = ()
    name_hint: str | None = None


@dataclass(frozen=True)
class LeakageReport:
    checks: list[ColumnCheck] = field(default_factory=list)
    max_auc: float = MAX_SINGLE_AUC
    max_later_share: float = MAX_LATER_SHARE
    reference_auc: float | None = None
    """Out-of-fold ROC AUC of the quick model of every unsuspected column."""
    rows: dict[str, int] = field(default_factory=dict)
    """Rows looked at: decided (with outcomes), held out and undecided."""

    @property
    def dropped(self) -> list[str]:
        return [c.column for c in self.checks if c.decision == "dropped"]

    @property
    def suspicious(self) -> list[ColumnCheck]:
        """Dropped or kept by override: what training says aloud."""
        return [c for c in self.checks if c.decision in ("dropped", "kept by override")]

    @property
    def suspects(self) -> list[ColumnCheck]:
        """One weak kind of evidence: kept, and reported with it."""
        return [c for c in self.checks if c.decision == "suspect"]

    @property
    def reported(self) -> list[ColumnCheck]:
        """Every column with some evidence: what the console table and the run show."""
        return [c for c in self.checks if c.decision != "kept"]

    def as_dict(self) -> dict[str, object]:
        return {
            "max_single_column_auc": self.max_auc,
            "max_later_share": self.max_later_share,
            "rival_floor": RIVAL_FLOOR,
            "rival_margin": RIVAL_MARGIN,
            "min_fill_drop": MIN_FILL_DROP,
            "decided_only_share": DECIDED_ONLY_SHARE,
            "reference_auc": self.reference_auc,
            "rows": self.rows,
            "rule": "dropped: near-perfect or later than created, or two kinds of evidence; "
            "suspect: one kind (kept); keep overrides both",
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
    undecided: pd.DataFrame | None = None,
    held_out: pd.DataFrame | None = None,
    dates: bool = True,
) -> LeakageReport:
    """Check each of `fields` on `leads` (the training rows) against their outcomes `y`.

    `undecided`: the channel's leads without an outcome yet (open, or too young);
    `held_out`: decided leads kept out of the outcome checks (the validation
    period). Neither one's outcomes are read: they count for the fill-up with
    age and, with `leads`, for the values seen only on decided leads.
    `dates=False` says created_at does not order the leads (an export without
    dates): no evidence is taken from time then. `keep` names columns to keep
    whatever the checks say (the user knows they are filled in before contact);
    they are still reported.
    """
    rng = np.random.default_rng(seed)
    dates = dates and "created_at" in leads
    rows = _sample(len(leads), rng)
    leads, y = _dated(leads.iloc[rows].reset_index(drop=True)), np.asarray(y)[rows]
    frames = Frames(leads, _bounded(held_out, rng), _bounded(undecided, rng), dates)
    evidence: dict[str, ColumnEvidence] = {}
    for column, kind in fields.items():
        if column == "created_at" or column not in leads or leads[column].isna().all():
            continue
        found = column_evidence(column, kind, frames, y, seed, max_auc, max_later_share)
        evidence[column] = found
    clean = [c for c, e in evidence.items() if not e.kinds and e.encoded is not None]
    encoded = {c: e.encoded for c, e in evidence.items() if e.encoded is not None}
    reference = others_auc(encoded, clean, y, seed) if clean else None
    checks = []
    for column, found in evidence.items():
        auc = found.single_auc
        if auc is not None and column not in clean:
            found = found.with_rivalry(0.5 if reference is None else reference)
        elif auc is not None and auc >= RIVAL_FLOOR - RIVAL_MARGIN:
            # An unsuspected column is measured against a model of the others without it.
            against = others_auc(encoded, [c for c in clean if c != column], y, seed)
            found = found.with_rivalry(0.5 if against is None else against)
        checks.append(_decide(column, found, keep))
    parts = {"decided": leads, "held_out": frames.held_out, "undecided": frames.undecided}
    rows_seen = {name: len(frame) for name, frame in parts.items() if frame is not None}
    return LeakageReport(checks, max_auc, max_later_share, reference, rows_seen)


def _decide(column: str, found: ColumnEvidence, keep: Sequence[str]) -> ColumnCheck:
    decision: Decision = "kept"
    if found.kinds:
        strong = any(kind in STRONG for kind in found.kinds)
        decision = "dropped" if strong or len(found.kinds) >= 2 else "suspect"
        if column in keep:
            decision = "kept by override"
    fill = found.fill
    return ColumnCheck(
        column=column,
        decision=decision,
        single_column_auc=found.single_auc,
        later_share=found.later_share,
        reason="; ".join(found.reasons),
        evidence=found.kinds,
        others_auc=found.others_auc,
        filled_newest=None if fill is None else fill.newest,
        filled_older=None if fill is None else fill.older,
        newest_leads=None if fill is None else fill.newest_leads,
        decided_only_share=None if found.decided_only is None else found.decided_only.share,
        decided_only_values=() if found.decided_only is None else found.decided_only.values,
        name_hint=found.name_hint,
    )


def _sample(rows: int, rng: np.random.Generator) -> np.ndarray:
    if rows <= MAX_ROWS:
        return np.arange(rows)
    return np.sort(rng.choice(rows, MAX_ROWS, replace=False))


def _bounded(frame: pd.DataFrame | None, rng: np.random.Generator) -> pd.DataFrame | None:
    if frame is None or frame.empty:
        return None
    return _dated(frame.iloc[_sample(len(frame), rng)].reset_index(drop=True))


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a created_at column, empty if it had none."""
    if "created_at" in frame:
        return frame
    return frame.assign(created_at=pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]"))
