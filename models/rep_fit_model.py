"""The rep-fit models: P(won | lead, closer) and P(retained at 12 months | customer,
account manager), with expected expansion as a second output where trained.

`RepFitModel` travels in MLflow (`models.rep_packaging`). The assignment
policy, the API, batch jobs and training evaluation all end in the same
`_predict` on pair rows: `fit()` pairs leads with every candidate rep,
`score_pairs()` takes row-aligned (lead, rep) pairs. "fit" is the domain
word (how well a rep fits a lead), not scikit-learn's "learn". Scoring uses
one LightGBM thread unless told otherwise: pair batches are small, and idle
OpenMP threads on a busy host cost more than they save.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.columns import Columns, FieldType, from_frame, row_count
from features.rep_features import RepFeatureSpec, Roster
from models.scale import PlattCalibration

Leads = Columns | pd.DataFrame
"""Lead (or customer) rows: normalised columns, or a frame with the contract's columns."""
Candidates = Roster | pd.DataFrame | Sequence[str] | None
"""Candidate reps: a roster, roster rows, ids looked up in the training roster, or None
for everyone on the training roster."""


@dataclass(frozen=True)
class RepScores:
    """Scores of (lead, rep) pairs: row-aligned vectors, or (leads x reps) matrices."""

    probability: np.ndarray
    expected_expansion: np.ndarray | None = None
    """P(retained) x `expansion_if_retained`: what the pair is expected to add."""
    expansion_if_retained: np.ndarray | None = None
    """Expected expansion value should the customer stay (account managers)."""
    rep_ids: tuple[str, ...] = ()

    def reshaped(self, leads: int, reps: int, rep_ids: tuple[str, ...]) -> RepScores:
        """Pair vectors as (leads x reps) matrices."""

        def shaped(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values.reshape(leads, reps)

        return RepScores(
            probability=self.probability.reshape(leads, reps),
            expected_expansion=shaped(self.expected_expansion),
            expansion_if_retained=shaped(self.expansion_if_retained),
            rep_ids=rep_ids,
        )


@dataclass
class RepFitModel:
    """Everything needed to score (lead, rep) pairs, fixed at training time."""

    spec: RepFeatureSpec
    booster: lgb.Booster
    calibration: PlattCalibration
    expansion: lgb.Booster | None = None
    """Regressor of the expansion value of customers that were retained."""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def role(self) -> str:
        return self.spec.role.value

    @property
    def id_field(self) -> str:
        return self.spec.id_field

    @property
    def input_fields(self) -> dict[str, FieldType]:
        """The columns a scoring row carries: the lead's fields and the rep's id."""
        return {**self.spec.lead_fields, self.id_field: FieldType.text}

    @property
    def rep_ids(self) -> tuple[str, ...]:
        """The reps known at training time."""
        return () if self.spec.roster is None else self.spec.roster.rep_ids

    def candidates(self, reps: Candidates = None) -> Roster:
        """The candidate reps as a roster (unknown ids get unknown attributes)."""
        roster = self.spec.roster
        if roster is None:
            raise RuntimeError("RepFitModel without a roster: the spec was never fitted")
        if reps is None:
            return roster
        if isinstance(reps, Roster):
            return reps
        if isinstance(reps, pd.DataFrame):
            return Roster.from_frame(reps, self.spec.role)
        if isinstance(reps, str):
            raise TypeError("pass a sequence of rep ids, not one id string")
        return roster.select(list(reps))

    def fit(self, leads: Leads, reps: Candidates = None, threads: int = 1) -> np.ndarray:
        """P(outcome) of every lead with every candidate rep: a (leads x reps) matrix."""
        return self.fit_scores(leads, reps, threads).probability

    def fit_scores(self, leads: Leads, reps: Candidates = None, threads: int = 1) -> RepScores:
        """All outputs of every (lead, candidate) pair as (leads x reps) matrices."""
        columns = self._lead_columns(leads)
        roster = self.candidates(reps)
        n, m = row_count(columns), len(roster.rep_ids)
        pairs = self.spec.pair_columns(
            columns, np.repeat(np.arange(n), m), roster, np.tile(np.arange(m), n)
        )
        return self._predict(self.spec.transform(pairs), threads).reshaped(n, m, roster.rep_ids)

    def score_pairs(
        self, leads: Leads, rep_ids: Sequence[str | None] | np.ndarray, threads: int = 1
    ) -> RepScores:
        """Row-aligned pairs: lead i with rep `rep_ids[i]` (an unknown rep gets the prior)."""
        columns = self._lead_columns(leads)
        ids = ["" if rep is None else str(rep) for rep in rep_ids]
        if len(ids) != row_count(columns):
            raise ValueError(f"{row_count(columns)} leads but {len(ids)} rep ids")
        unique, positions = np.unique(np.array(ids, dtype=str), return_inverse=True)
        roster = self.candidates([str(u) for u in unique])
        pairs = self.spec.pair_columns(columns, np.arange(len(ids)), roster, positions)
        return self._predict(self.spec.transform(pairs), threads)

    def score_frame(self, frame: pd.DataFrame, threads: int = 1) -> RepScores:
        """Pairs from one frame holding lead fields and the rep id column."""
        if self.id_field not in frame.columns:
            raise ValueError(f"the rows need a {self.id_field!r} column naming the rep")
        return self.score_pairs(frame, frame[self.id_field].tolist(), threads)

    def raw_score(self, matrix: np.ndarray, threads: int = 1) -> np.ndarray:
        """LightGBM log-odds before calibration (`threads=0`: LightGBM's default)."""
        return np.asarray(
            self.booster.predict(matrix, raw_score=True, num_threads=threads), dtype=np.float64
        )

    def _predict(self, matrix: np.ndarray, threads: int) -> RepScores:
        probability = self.calibration.probability(self.raw_score(matrix, threads))
        if self.expansion is None:
            return RepScores(probability=probability)
        given = np.asarray(self.expansion.predict(matrix, num_threads=threads), dtype=np.float64)
        return RepScores(
            probability=probability,
            expected_expansion=probability * given,
            expansion_if_retained=given,
        )

    def _lead_columns(self, leads: Leads) -> Columns:
        if isinstance(leads, pd.DataFrame):
            return from_frame(leads, self.spec.lead_fields)
        missing = sorted(set(self.spec.lead_fields) - set(leads))
        if missing:
            raise ValueError(f"lead columns lack the fields {missing}")
        return leads
