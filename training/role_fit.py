"""Fitting a rep-fit model and its lead-only baseline on a time-based split.

The baseline is the same model without rep, match and rate features: what
the lead alone predicts. Pure functions on `RepData`; MLflow stays in
`training.rep_pipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.columns import Columns, take
from features.rep_features import RepFeatureSpec
from models.rep_fit import RepFitModel, RepScores
from models.scale import PlattCalibration
from training.rep_data import RepData
from training.splits import TimeSplit, time_split
from training.training_config import DEFAULT_LGBM_PARAMS, NotEnoughDataError, TrainingConfig

REP_LGBM_PARAMS: dict[str, Any] = {
    **DEFAULT_LGBM_PARAMS,
    # Thousands of rows, not hundreds of thousands: smaller leaves let the trees
    # reach rep x industry and rep x segment cells.
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "max_cat_to_onehot": 16,
}
EXPANSION_OBJECTIVE = "gamma"
"""Expansion is multiplicative (a share of the account value, scaled by the manager's
growth skill) and positive: a log-link objective fits that shape."""


def rep_training_config(**changes: Any) -> TrainingConfig:
    """The default training settings of the rep-fit models.

    One thread: a few thousand rows gain nothing from more, and on a busy
    machine OpenMP threads waiting for a core slow small trainings by far.
    """
    defaults = TrainingConfig(lgbm_params=dict(REP_LGBM_PARAMS), threads=1)
    return replace(defaults, **changes)


@dataclass
class FittedRep:
    model: RepFitModel
    baseline: RepFitModel
    split: TimeSplit
    data: RepData
    best_iteration: int
    baseline_iteration: int
    placebo: RepFitModel | None = None
    """The same model trained with owners shuffled within territory and segment
    (`training.placebo`); None until fitted."""

    def validation_scores(self) -> tuple[RepScores, RepScores]:
        """(model, baseline) scores of the validation rows, through the serving path."""
        rows = self.split.validation
        leads, reps = take(self.data.columns, rows), self.data.rep_ids[rows]
        return self.model.score_pairs(leads, reps), self.baseline.score_pairs(leads, reps)

    def placebo_scores(self) -> RepScores | None:
        """The placebo's scores of the same validation rows, with their real owners."""
        if self.placebo is None:
            return None
        rows = self.split.validation
        return self.placebo.score_pairs(take(self.data.columns, rows), self.data.rep_ids[rows])


def _check_enough(y: np.ndarray, part: str, role: str, minimum: int) -> None:
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives < minimum or negatives < minimum:
        raise NotEnoughDataError(
            f"{role}: the {part} period has {positives} positive and {negatives} negative "
            f"outcomes; at least {minimum} of each are needed for a trustworthy model"
        )


def check_rep_data(data: RepData, config: TrainingConfig) -> None:
    """Refuse, before anything is logged, a role with too few decided rows to split."""
    role = data.role.value
    if len(data.y) == 0:
        raise NotEnoughDataError(f"{role}: no decided {role} assignments in this data")
    split = time_split(pd.Series(data.at), config)
    for part in ("train", "calibration", "validation"):
        _check_enough(data.y[getattr(split, part)], part, role, config.min_positives)


@dataclass
class _RepClassifier:
    """One rep-fit classifier and what its siblings (baseline, expansion) reuse."""

    model: RepFitModel
    iterations: int
    spec: RepFeatureSpec
    matrix: np.ndarray
    pairs: Columns
    rows: np.ndarray
    train: np.ndarray
    calib: np.ndarray


def _fit_classifier(
    data: RepData, spec: RepFeatureSpec, config: TrainingConfig, split: TimeSplit
) -> _RepClassifier:
    """Fit the spec (vocabularies, rates as of the validation start) and the calibrated
    classifier on the rows before the validation period."""
    history = data.outcomes(spec)
    fitted_spec = spec.fit(
        take(history.columns, split.train),
        history,
        as_of=split.validation_start.to_datetime64().astype("datetime64[us]"),
        prior=float(data.y[split.train].mean()),
        roster=data.roster,
    )
    rows = np.concatenate([split.train, split.calibration])
    fit_pairs = take(history.columns, rows)
    train, calib = np.arange(len(split.train)), np.arange(len(split.train), len(rows))
    matrix = fitted_spec.transform_point_in_time(fit_pairs, data.at[rows], history)
    model, iterations = _classifier(fitted_spec, matrix, data.y[rows], train, calib, config)
    return _RepClassifier(model, iterations, fitted_spec, matrix, fit_pairs, rows, train, calib)


def fit_rep_model(
    data: RepData, spec: RepFeatureSpec, config: TrainingConfig, split: TimeSplit
) -> RepFitModel:
    """Only the rep-fit classifier on a given split: what a placebo needs (no baseline,
    no expansion)."""
    return _fit_classifier(data, spec, config, split).model


def fit_rep(data: RepData, spec: RepFeatureSpec, config: TrainingConfig) -> FittedRep:
    """Fit the rep-fit model (point-in-time rates), its calibration, the baseline and,
    for account managers, the expansion regressor."""
    split = time_split(pd.Series(data.at), config)
    for part in ("train", "calibration", "validation"):
        _check_enough(data.y[getattr(split, part)], part, data.role.value, config.min_positives)
    fitted = _fit_classifier(data, spec, config, split)
    model, iterations, rows = fitted.model, fitted.iterations, fitted.rows
    train, calib = fitted.train, fitted.calib
    base_spec = fitted.spec.lead_only()
    baseline, base_iterations = _classifier(
        base_spec, base_spec.transform(fitted.pairs), data.y[rows], train, calib, config
    )
    if data.expansion is not None:
        model.expansion = _expansion(fitted.spec, fitted.matrix, data, rows, train, calib, config)
    model.metadata = {
        "role": data.role.value,
        "validation_start": str(split.validation_start),
        "rows": {"train": len(split.train), "calibration": len(split.calibration)},
        "best_iteration": iterations,
    }
    return FittedRep(
        model=model,
        baseline=baseline,
        split=split,
        data=data,
        best_iteration=iterations,
        baseline_iteration=base_iterations,
    )


def _boost(
    spec: RepFeatureSpec,
    matrix: np.ndarray,
    target: np.ndarray,
    train: np.ndarray,
    calib: np.ndarray,
    config: TrainingConfig,
    params: dict[str, Any],
) -> lgb.Booster:
    train_set = lgb.Dataset(
        matrix[train],
        target[train],
        feature_name=spec.names,
        categorical_feature=spec.features.categorical_indices,
        free_raw_data=False,
    )
    calib_set = train_set.create_valid(matrix[calib], target[calib])
    booster = lgb.train(
        {**params, "num_threads": config.threads, "seed": config.seed},
        train_set,
        config.max_rounds,
        valid_sets=[calib_set],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    return booster.model_from_string(booster.model_to_string(num_iteration=booster.best_iteration))


def _classifier(
    spec: RepFeatureSpec,
    matrix: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    calib: np.ndarray,
    config: TrainingConfig,
) -> tuple[RepFitModel, int]:
    """LightGBM with early stopping on the calibration period, then Platt on it."""
    booster = _boost(spec, matrix, y, train, calib, config, config.lgbm_params)
    raw = np.asarray(booster.predict(matrix[calib], raw_score=True), dtype=np.float64)
    model = RepFitModel(spec=spec, booster=booster, calibration=PlattCalibration.fit(raw, y[calib]))
    return model, int(booster.current_iteration())


def _expansion(
    spec: RepFeatureSpec,
    matrix: np.ndarray,
    data: RepData,
    rows: np.ndarray,
    train: np.ndarray,
    calib: np.ndarray,
    config: TrainingConfig,
) -> lgb.Booster | None:
    """Expansion value of retained customers; None if too few have one."""
    assert data.expansion is not None
    value = data.expansion[rows]
    usable = (data.y[rows] == 1) & np.isfinite(value) & (value > 0)
    train_rows, calib_rows = train[usable[train]], calib[usable[calib]]
    if min(len(train_rows), len(calib_rows)) < config.min_positives:
        return None
    params = {**config.lgbm_params, "objective": EXPANSION_OBJECTIVE}
    return _boost(spec, matrix, value, train_rows, calib_rows, config, params)
