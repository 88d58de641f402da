"""Fitting a channel's lead-score model and its baseline, drift-aware.

No slice of recent history is spent only on early stopping or calibration:

- the *evaluated* model learns from every row before the validation period
  (`Split.earlier`); its boosting rounds come from early stopping on inner
  folds of those rows (forward-chaining time blocks, or stratified K-fold
  when the data has no usable dates) and its Platt calibration from the
  out-of-fold raw scores of the same folds, so no row fits a tree and its
  own calibration. It alone is scored on `Split.validation`;
- the *production* model is then refit on ALL labelled rows, newest
  included, with rounds and calibration chosen the same honest way on folds
  of all rows (`Split.refit_folds`: the validation period is the newest).

The fold models the two share are boosted once (`training.boosting`), on the
rows `training.splits` assigns; the logistic baseline (`training.baseline`) is
fitted on the same rows. Pure functions on frames and arrays: MLflow, files and
the console stay in `training.pipeline` and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.pipeline import Pipeline

from features.columns import Columns, take
from features.spec import FeatureSpec
from models.lead_score import Booster, LeadScoreModel
from models.linear import LinearBooster
from models.scale import PlattCalibration, ScoreScale
from training.baseline import fit_baseline
from training.boosting import (
    ROUNDS_GROWTH,
    FoldBoosting,
    Progress,
    ProgressCounter,
    boost,
    scaled_rounds,
)
from training.channel_data import ChannelData
from training.splits import Fold, Split, check_enough, make_split, refit_part
from training.training_config import TrainingConfig

SCALE_ROWS = 200_000
"""Rows whose probabilities place the score scale's percentiles: a percentile of 200,000
values is within about a tenth of a point, so a million leads need not all be predicted."""


@dataclass
class FittedChannel:
    model: LeadScoreModel
    """Production: refit on all labelled rows."""
    evaluated: LeadScoreModel
    """Learnt from `split.earlier` only: the one scored on `split.validation`."""
    baseline: Pipeline
    """Logistic baseline on all rows."""
    evaluated_baseline: Pipeline
    """Logistic baseline on `split.earlier` only."""
    split: Split
    data: ChannelData
    best_iteration: int
    """Boosting rounds of the production model."""
    settings: dict[str, Any]
    """What was chosen inside (rounds, folds, calibration), for MLflow params."""


def fit_channel(
    data: ChannelData,
    spec: FeatureSpec,
    config: TrainingConfig,
    progress: Progress | None = None,
) -> FittedChannel:
    """The evaluated model (on `split.earlier`), the production model (on all rows), both
    with cross-fitted Platt calibration and score scale, and their logistic baselines."""
    split = make_split(data, config)
    check_enough(data.y, split, data.channel, config.min_positives)
    runs_at_most = (len(split.folds) + 2) * config.max_rounds
    counter = ProgressCounter(progress, runs_at_most)

    early_spec = spec.fit(take(data.columns, split.earlier))
    early_matrix = early_spec.transform(data.columns)
    boosting = FoldBoosting(early_matrix, data.y, early_spec, split.earlier, config, counter)
    inner = [boosting.run(fold) for fold in split.folds]
    evaluated_rounds = scaled_rounds(inner, len(split.earlier), config)
    # Boosting on everything before the validation period, watching it only to learn how
    # far the production model may go: the first `evaluated_rounds` trees are the
    # evaluated model, exactly as if it had stopped there.
    outer = boosting.run(Fold(split.earlier, split.validation), at_least=evaluated_rounds)
    evaluated_calibration = boosting.calibration(inner, evaluated_rounds)
    evaluated = _lead_model(
        data.channel,
        early_spec,
        lgb.Booster(model_str=outer.booster.model_to_string(num_iteration=evaluated_rounds)),
        evaluated_calibration,
        early_matrix[split.earlier],
        config.target,
    )

    refit_runs = refit_part(inner, outer, split.dated)
    rounds = scaled_rounds(refit_runs, len(data.y), config)
    calibration = boosting.calibration(refit_runs, rounds)
    full_spec = spec.fit(data.columns)
    full_matrix = full_spec.transform(data.columns)
    booster = boost(full_matrix, data.y, full_spec, config, rounds, counter)
    model = _lead_model(data.channel, full_spec, booster, calibration, full_matrix, config.target)
    counter.finish()
    settings = {
        "scheme": "forward_chaining" if split.dated else "stratified_kfold",
        "inner_folds": len(split.folds),
        "fold_share": config.fold_share if split.dated else None,
        "fold_best_iterations": ",".join(str(run.best) for run in inner),
        "validation_best_iteration": outer.best,
        "rounds_growth": ROUNDS_GROWTH,
        "evaluated_rounds": evaluated_rounds,
        "rounds": rounds,
        "calibration": "platt_cross_fitted",
        "evaluated_calibration_rows": sum(len(run.fold.held) for run in inner),
        "calibration_rows": sum(len(run.fold.held) for run in refit_runs),
    }
    return FittedChannel(
        model=model,
        evaluated=evaluated,
        baseline=fit_baseline(full_matrix, data.y, full_spec),
        evaluated_baseline=fit_baseline(
            early_matrix[split.earlier], data.y[split.earlier], early_spec
        ),
        split=split,
        data=data,
        best_iteration=int(booster.current_iteration()),
        settings=settings,
    )


def _lead_model(
    channel: str,
    spec: FeatureSpec,
    booster: lgb.Booster,
    calibration: PlattCalibration,
    learnt: np.ndarray,
    target: str,
) -> LeadScoreModel:
    """The servable model; its score scale spreads the probabilities of the rows it learnt
    (evenly spaced `SCALE_ROWS` of them at most: percentiles need no more)."""
    sample = learnt[:: -(-len(learnt) // SCALE_ROWS)]
    probability = calibration.probability(np.asarray(booster.predict(sample, raw_score=True)))
    return _scaled(channel, spec, booster, calibration, probability, target)


def baseline_model(
    pipeline: Any, spec: FeatureSpec, columns: Columns, channel: str, target: str
) -> LeadScoreModel:
    """The logistic baseline as a servable lead-score model (scored, graded, explained).

    Its probabilities are the regression's own (it is fitted on log-loss, so no
    further calibration); the score scale comes from the rows it was fitted on.
    """
    matrix = spec.transform(columns)
    booster = LinearBooster(pipeline, matrix)
    identity = PlattCalibration(slope=1.0, intercept=0.0)
    probability = identity.probability(booster.predict(matrix, raw_score=True))
    metadata = {"algorithm": "logistic regression"}
    return _scaled(channel, spec, booster, identity, probability, target, metadata)


def _scaled(
    channel: str,
    spec: FeatureSpec,
    booster: Booster,
    calibration: PlattCalibration,
    probability: np.ndarray,
    target: str,
    metadata: dict[str, Any] | None = None,
) -> LeadScoreModel:
    """A lead-score model whose score scale spreads `probability`."""
    return LeadScoreModel(
        channel=channel,
        spec=spec,
        booster=booster,
        calibration=calibration,
        scale=ScoreScale.fit(probability),
        target=target,
        metadata=metadata or {},
    )
