"""The lead-score model of one channel: features -> LightGBM -> calibrated
probability -> 1-99 score, A-D grade and the reasons behind it.

This object is what travels in MLflow (inside `models.packaging`), and both
the API and batch re-scoring call `score()` on it, so there is one scoring
code path. `score()` works on `Columns`, which a single API lead and a Parquet
batch both become.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import lightgbm as lgb
import numpy as np

from features.columns import Columns, FieldType, cell, from_records
from features.lead_features import LEAD_FIELD_TYPES
from features.spec import FeatureSpec
from models.scale import PlattCalibration, ScoreScale
from models.shap_table import ShapTable
from models.single_row import SingleRowPredictor

ROW_PATH_MAX = 16
"""Up to this many leads, features are computed row by row in plain Python."""


MIN_REASON_EFFECT = 0.5
"""A field that moves the score by less than half a point is no reason worth showing."""


class Booster(Protocol):
    """What scoring asks of a model's booster: LightGBM's, or the logistic baseline's
    (`models.linear.LinearBooster`) when that is the model worth serving."""

    def predict(
        self, data: Any, *, raw_score: bool = ..., pred_contrib: bool = ..., num_threads: int = ...
    ) -> Any: ...

    def feature_importance(self, importance_type: str = ...) -> Any: ...


@dataclass(frozen=True)
class Reason:
    """One field that moved a lead's score, with its effect in score points."""

    field: str
    value: Any
    effect: float


@dataclass
class ScoredLeads:
    """Scores of a batch of leads, row-aligned with the input."""

    probability: np.ndarray
    score: np.ndarray
    grade: np.ndarray
    reasons: list[list[Reason]] | None = None


@dataclass
class LeadScoreModel:
    """Everything needed to score one channel's leads, fixed at training time."""

    channel: str
    spec: FeatureSpec
    booster: Booster
    calibration: PlattCalibration
    scale: ScoreScale
    target: str = "won"
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._derive()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._derive()

    def __getstate__(self) -> dict[str, Any]:
        # The single-row predictor holds C handles, the SHAP table is derived from the
        # trees: both are rebuilt after unpickling.
        return {k: v for k, v in self.__dict__.items() if k not in _DERIVED}

    @property
    def trees(self) -> lgb.Booster:
        """The LightGBM booster, for what only trees have (rounds, tree counts)."""
        if not isinstance(self.booster, lgb.Booster):
            raise TypeError(f"this {self.channel} model is {self.metadata.get('algorithm')}")
        return self.booster

    @cached_property
    def _single_row(self) -> SingleRowPredictor | None:
        """LightGBM's single-row path, prepared at the first one-lead score (training builds
        many models that never score one lead alone); not pickled, so rebuilt after loading."""
        if not isinstance(self.booster, lgb.Booster):
            return None
        return SingleRowPredictor.for_booster(self.booster)

    @cached_property
    def _shap_table(self) -> ShapTable | None:
        """Every tree's contributions looked up instead of walked (`models.shap_table`),
        prepared at the first score with reasons, or by `prepare_online`."""
        if not isinstance(self.booster, lgb.Booster):
            return None
        return ShapTable.for_booster(self.booster)

    def prepare_online(self) -> LeadScoreModel:
        """Prepare now what the first one-lead score would (the single-row predictor and
        the SHAP table), so a served model's first request is as fast as the next."""
        _ = self._single_row, self._shap_table
        return self

    def _derive(self) -> None:
        self._reason_groups = _reason_groups(self.spec)
        self._groups = _ReasonGroups(self._reason_groups)
        self._custom_fields = {
            name: kind
            for name, kind in self.spec.input_fields.items()
            if name not in LEAD_FIELD_TYPES
        }

    @property
    def custom_fields(self) -> dict[str, FieldType]:
        """The CRM's own fields this model reads (an import's extra columns), with their types.

        Online they arrive in the lead's `custom_fields`; in files, as columns.
        """
        return self._custom_fields

    def raw_score(self, matrix: np.ndarray, threads: int = 0) -> np.ndarray:
        """LightGBM log-odds before calibration; `threads=0` means LightGBM's default."""
        return np.asarray(
            self.booster.predict(matrix, raw_score=True, num_threads=threads), dtype=np.float64
        )

    def probability(self, matrix: np.ndarray, threads: int = 0) -> np.ndarray:
        return self.calibration.probability(self.raw_score(matrix, threads))

    def score(self, columns: Columns, reasons: int = 0, threads: int = 0) -> ScoredLeads:
        """Score leads; with `reasons=k`, also the top k fields up and k down."""
        return self.score_matrix(self.spec.transform(columns), columns, reasons, threads)

    def score_matrix(
        self, matrix: np.ndarray, columns: Columns, reasons: int = 0, threads: int = 0
    ) -> ScoredLeads:
        """`score` with the model matrix (`spec.transform(columns)`) already built, for a
        caller that also reads it (batch re-scoring finds unseen categories there)."""
        if not reasons:
            return self._scored(self.probability(matrix, threads))
        contrib = self.contributions(matrix, threads)
        return self._explained(contrib, lambda f, row: columns[f][row], reasons)

    def contributions(self, matrix: np.ndarray, threads: int = 0) -> np.ndarray:
        """SHAP contributions per feature column and the bias last (`pred_contrib`), from
        the SHAP table where the model has one."""

        def lightgbm(rows: np.ndarray) -> np.ndarray:
            if len(rows) == 1 and self._single_row is not None:
                return self._single_row.contributions(np.ascontiguousarray(rows[0]))[None, :]
            return np.asarray(
                self.booster.predict(rows, pred_contrib=True, num_threads=threads),
                dtype=np.float64,
            )

        table = self._shap_table
        return lightgbm(matrix) if table is None else table.contributions(matrix, lightgbm)

    def score_records(
        self, records: Sequence[Mapping[str, Any]], reasons: int = 0, threads: int = 0
    ) -> ScoredLeads:
        """`score` for dict-like leads (the API's validated bodies), same numbers.

        Without reasons, a handful of leads take the spec's row-by-row path;
        reasons need the columns for the leads' own values.
        """
        if len(records) == 1 and self._single_row is not None:
            return self._score_one(records, reasons)
        if reasons or len(records) > ROW_PATH_MAX:
            return self.score(from_records(records, self.spec.input_fields), reasons, threads)
        return self._scored(self.probability(self.spec.transform_records(records), threads))

    def _score_one(self, records: Sequence[Mapping[str, Any]], reasons: int) -> ScoredLeads:
        """One lead through LightGBM's single-row path: the same numbers as `score`, with
        none of the per-call set-up of `Booster.predict` (the API's usual request)."""
        assert self._single_row is not None
        matrix = self.spec.transform_records(records)
        if not reasons:
            probability = self.calibration.probability_one(self._single_row.raw_score(matrix[0]))
            score = min(max(self.scale.extended_one(probability), 1.0), 99.0)
            return ScoredLeads(
                probability=np.array([probability]),
                score=np.array([score]),
                grade=np.array([self.scale.grade_one(probability)], dtype=object),
            )
        contrib = self.contributions(matrix)
        record, types = records[0], self.spec.field_types
        return self._explained(contrib, lambda f, _: cell(record.get(f), types[f]), reasons)

    def field_contributions(self, columns: Columns) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(fields, log-odds contribution of each field per lead, raw log-odds): what a
        reason reads, for asking which fields carry the model's ranking."""
        contrib = self.contributions(self.spec.transform(columns))
        return list(self._reason_groups), self._groups.sums(contrib), contrib.sum(axis=1)

    def _scored(self, probability: np.ndarray) -> ScoredLeads:
        return ScoredLeads(
            probability=probability,
            score=self.scale.score(probability),
            grade=self.scale.grade(probability),
        )

    def _explained(
        self, contrib: np.ndarray, value_of: Callable[[str, int], Any], k: int
    ) -> ScoredLeads:
        """Scores and the top k fields up and down per lead, from SHAP contributions;
        `value_of(field, row)` is the lead's raw value of a field."""
        raw = contrib.sum(axis=1)
        # Effect of a field = the score with it minus the score without its contribution,
        # on the unclipped scale, so leads beyond the 1st or 99th percentile keep reasons.
        # One pass through calibration and scale for both: the lead as it is (column 0,
        # which is also its score), then without each field.
        both = np.concatenate([raw[:, None], raw[:, None] - self._groups.sums(contrib)], axis=1)
        probability = self.calibration.probability(both)
        extended = self.scale.extended(probability)
        own = probability[:, 0]
        return ScoredLeads(
            probability=own,
            score=np.clip(extended[:, 0], 1.0, 99.0),
            grade=self.scale.grade(own),
            reasons=self._reasons(value_of, extended[:, :1] - extended[:, 1:], k),
        )

    def _reasons(
        self, value_of: Callable[[str, int], Any], effects: np.ndarray, k: int
    ) -> list[list[Reason]]:
        fields = list(self._reason_groups)
        out: list[list[Reason]] = []
        types = self.spec.field_types
        for row in range(len(effects)):
            order = np.argsort(effects[row], kind="stable").tolist()
            effect = effects[row].tolist()
            ups = [j for j in order[::-1][:k] if effect[j] >= MIN_REASON_EFFECT]
            downs = [j for j in order[:k] if effect[j] <= -MIN_REASON_EFFECT]
            out.append(
                [
                    Reason(
                        field=fields[j],
                        value=_plain(value_of(fields[j], row), types[fields[j]]),
                        effect=round(effect[j], 1),
                    )
                    for j in ups + downs
                ]
            )
        return out


_DERIVED = frozenset({"_single_row", "_shap_table"})
"""Attributes rebuilt from the booster after unpickling, never pickled."""


class _ReasonGroups:
    """Sums of SHAP contributions per raw field, in a few numpy calls instead of one per field.

    Each field's columns are added left to right, one column position at a time
    across all fields: for fields of under eight columns that is exactly what
    `contrib[:, idx].sum(axis=1)` computes, so the figures do not move. A larger
    field (never seen in our specs) keeps the per-field sums.
    """

    def __init__(self, groups: Mapping[str, list[int]]) -> None:
        self._groups = list(groups.values())
        self._exact = bool(self._groups) and all(len(idx) < 8 for idx in self._groups)
        self._first = np.array([idx[0] for idx in self._groups], dtype=np.intp)
        self._more: list[tuple[np.ndarray, np.ndarray]] = []
        for position in range(1, max((len(idx) for idx in self._groups), default=1)):
            wide = [g for g, idx in enumerate(self._groups) if len(idx) > position]
            columns = [self._groups[g][position] for g in wide]
            self._more.append((np.array(wide, dtype=np.intp), np.array(columns, dtype=np.intp)))

    def sums(self, contrib: np.ndarray) -> np.ndarray:
        if len(contrib) == 1 and self._exact:  # one lead: plain floats, the same additions
            row = contrib[0].tolist()
            sums = []
            for idx in self._groups:
                total = row[idx[0]]
                for column in idx[1:]:
                    total += row[column]
                sums.append(total)
            return np.array([sums], dtype=np.float64)
        if not self._exact:
            return np.stack([contrib[:, idx].sum(axis=1) for idx in self._groups], axis=1)
        out = contrib[:, self._first]
        for groups, columns in self._more:
            out[:, groups] += contrib[:, columns]
        return out


def _reason_groups(spec: FeatureSpec) -> dict[str, list[int]]:
    """Feature columns grouped by the raw field a reason names (the feature's first field)."""
    groups: dict[str, list[int]] = {}
    for index, feat in enumerate(spec.features):
        groups.setdefault(feat.fields[0], []).append(index)
    return groups


def _plain(value: Any, kind: FieldType) -> Any:
    """A JSON-friendly version of a raw column value."""
    if value is None:
        return None
    if kind is FieldType.boolean:
        return None if np.isnan(value) else bool(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value.astype("datetime64[s]"))
    if isinstance(value, np.floating | float):
        if np.isnan(value):
            return None
        return int(value) if float(value).is_integer() else round(float(value), 4)
    return value
