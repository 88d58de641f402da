"""Boosting a lead-score model: fold models with early stopping, the rounds they choose,
their out-of-fold calibration, and the progress summed over every fit of a channel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from features.spec import FeatureSpec
from models.scale import PlattCalibration
from training.splits import Fold
from training.training_config import TrainingConfig

ROUNDS_GROWTH = 0.5
"""Rounds chosen on a fold are scaled by (rows of the refit / rows of the fold) ** this.

More rows let the same trees grow further before they fit noise, so the best
round count grows with the data, but slower than the rows: 0 would keep the
folds' count, 1 would scale it with the rows. The optimum is flat: in the
rolling-origin backtests (`training.backtest`, 100,000 generated leads, seed 11,
drifting and stationary, both channels) 0, 0.5 and 1 moved the mean gains by at
most 0.0005 ROC AUC and 0.0003 log loss. The square root is the middle way.
"""

Progress = Callable[[int, int], None]
"""Called with (boosting rounds done, rounds at most) while boosting, over all fits."""


def _params(spec: FeatureSpec, config: TrainingConfig) -> dict[str, Any]:
    return {
        **config.lgbm_params,
        "num_threads": config.threads,
        "seed": config.seed,
        "monotone_constraints": spec.monotone_constraints,
    }


def scaled_rounds(runs: Sequence[FoldRun], rows: int, config: TrainingConfig) -> int:
    """The rounds for a model on `rows` rows: the folds' best, scaled to the rows."""
    scaled = [run.best * (rows / max(run.rows, 1)) ** ROUNDS_GROWTH for run in runs]
    return int(np.clip(round(float(np.mean(scaled))), 1, config.max_rounds))


def boost(
    matrix: np.ndarray,
    y: np.ndarray,
    spec: FeatureSpec,
    config: TrainingConfig,
    rounds: int,
    counter: ProgressCounter,
) -> lgb.Booster:
    """`rounds` rounds on every row given, nothing held out."""
    params = _params(spec, config)
    train_set = lgb.Dataset(
        matrix,
        y,
        feature_name=spec.names,
        categorical_feature=spec.categorical_indices,
        params=params,
    )
    return lgb.train(params, train_set, rounds, callbacks=[counter.callback()])


@dataclass
class FoldRun:
    """A fold model, still trainable, and the round its held-out rows liked best."""

    fold: Fold
    booster: lgb.Booster
    best: int
    rows: int


class _StopEarly:
    """Early stopping on the held-out rows' first metric that never stops before
    `at_least` rounds (LightGBM's own cannot be held back)."""

    def __init__(self, patience: int, at_least: int) -> None:
        self.patience = patience
        self.at_least = at_least
        self.best = 0
        self.best_loss = np.inf
        self.best_result: list[Any] = []

    def __call__(self, env: Any) -> None:
        _, _, score, higher_is_better = env.evaluation_result_list[0][:4]
        loss = -score if higher_is_better else score
        done = env.iteration + 1
        if loss < self.best_loss:
            self.best, self.best_loss, self.best_result = done, loss, env.evaluation_result_list
        elif done - self.best >= self.patience and done >= self.at_least:
            raise lgb.callback.EarlyStopException(self.best - 1, self.best_result)


class FoldBoosting:
    """Fold models on one fitted spec's matrix, binned once on the rows they may learn
    from (`rows`, sorted) and kept trainable for longer calibration fits."""

    def __init__(
        self,
        matrix: np.ndarray,
        y: np.ndarray,
        spec: FeatureSpec,
        rows: np.ndarray,
        config: TrainingConfig,
        counter: ProgressCounter,
    ) -> None:
        self.matrix, self.y, self.rows, self.config, self.counter = matrix, y, rows, config, counter
        self.params = _params(spec, config)
        self.base = lgb.Dataset(
            matrix[rows],
            y[rows],
            feature_name=spec.names,
            categorical_feature=spec.categorical_indices,
            params=self.params,
        ).construct()

    def run(self, fold: Fold, at_least: int = 0) -> FoldRun:
        if len(fold.train) == len(self.rows):
            train_set = self.base
        else:
            train_set = self.base.subset(np.searchsorted(self.rows, fold.train).tolist())
        held = train_set.create_valid(self.matrix[fold.held], self.y[fold.held])
        stop = _StopEarly(self.config.early_stopping_rounds, at_least)
        booster = lgb.train(
            self.params,
            train_set,
            self.config.max_rounds,
            valid_sets=[held],
            callbacks=[stop, self.counter.callback()],
            keep_training_booster=True,
        )
        return FoldRun(fold, booster, max(stop.best, 1), len(fold.train))

    def raw(self, run: FoldRun, rounds: int) -> np.ndarray:
        """The fold model's raw scores of its held-out rows after `rounds` rounds."""
        while run.booster.current_iteration() < rounds:
            if run.booster.update():  # no split left to make
                break
        scores = run.booster.predict(
            self.matrix[run.fold.held], raw_score=True, num_iteration=rounds
        )
        return np.asarray(scores, dtype=np.float64)

    def calibration(self, runs: Sequence[FoldRun], rounds: int) -> PlattCalibration:
        """Platt on out-of-fold raw scores: no row calibrates a tree it helped fit."""
        raw = np.concatenate([self.raw(run, rounds) for run in runs])
        y = np.concatenate([self.y[run.fold.held] for run in runs])
        return PlattCalibration.fit(raw, y)


class ProgressCounter:
    """Boosting progress summed over every fit of a channel."""

    def __init__(self, progress: Progress | None, at_most: int) -> None:
        self.progress, self.at_most, self.done = progress, at_most, 0

    def callback(self) -> Callable[[Any], None]:
        start = self.done

        def callback(env: Any) -> None:
            self.done = start + env.iteration + 1
            if self.progress is not None:
                self.progress(self.done, self.at_most)

        return callback

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.at_most, self.at_most)
