"""Rolling-origin backtest: the training scheme before drift-aware training against it.

At each origin both schemes learn from the leads whose outcomes were known by
then (created at least `gap_days` before the origin: younger leads are still
unresolved, `data.labels.MATURITY_DAYS`), with the same features, and score
the leads created in the window after the origin. The comparison is paired:
the same leads, scored by both.

- `legacy`: the scheme this project used before (`legacy_fit`, kept here for
  this comparison only): train on the oldest 65%, stop early and calibrate on
  the next 15%, leave the newest 20% to validation; that model is the one
  registered, so it never learns from the newest 35% of what it was given.
- `drift_aware`: the production model of `training.channel_fit.fit_channel`,
  refit on every labelled row.

Pure: no files, no MLflow. `bench/backtest.py` prints the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.stats import rankdata

from data.labels import MATURITY_DAYS
from features.columns import take
from features.spec import FeatureSpec
from models.lead_score import LeadScoreModel
from models.scale import PlattCalibration, ScoreScale
from training.channel_data import ChannelData
from training.channel_fit import fit_channel
from training.splits import time_split
from training.time_features import time_feature_plan, without_calendar
from training.training_config import NotEnoughDataError, TrainingConfig

SCHEMES = ("legacy", "drift_aware")
METRICS = ("roc_auc", "log_loss")
HIGHER_IS_BETTER = {"roc_auc": True, "log_loss": False}
RESAMPLES_AT_ONCE = 50
"""Bootstrap resamples ranked together (memory grows with this times the window's leads)."""


@dataclass(frozen=True)
class BacktestConfig:
    origins: int = 6
    every_days: int = 61
    """Days between origins (about two months)."""
    window_days: int = 61
    """Each origin is judged on the leads created in this many days after it."""
    gap_days: int = MATURITY_DAYS
    """Leads younger than this at the origin had no known outcome yet: neither scheme
    may learn from them."""
    resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    training: TrainingConfig = field(default_factory=TrainingConfig)


@dataclass(frozen=True)
class OriginResult:
    origin: pd.Timestamp
    learnt_rows: int
    scored_rows: int
    scored_rate: float
    metrics: dict[str, dict[str, float]]
    """Scheme -> metric -> value on the window after the origin."""
    rounds: dict[str, int]
    y: np.ndarray = field(repr=False)
    probability: dict[str, np.ndarray] = field(repr=False)


@dataclass(frozen=True)
class Backtest:
    channel: str
    origins: list[OriginResult]
    skipped: list[str]
    difference: dict[str, float]
    """Metric -> mean over origins of drift_aware minus legacy."""
    interval: dict[str, tuple[float, float]]
    """Metric -> paired bootstrap interval of that mean (leads resampled in each window)."""
    confidence: float

    def wins(self, metric: str) -> int:
        """Origins where the drift-aware model did better on `metric`."""
        sign = 1 if HIGHER_IS_BETTER[metric] else -1
        return sum(
            sign * (o.metrics["drift_aware"][metric] - o.metrics["legacy"][metric]) > 0
            for o in self.origins
        )

    def verdict(self, metric: str) -> str:
        """The difference on `metric` in words."""
        low, high = self.interval[metric]
        mean = self.difference[metric]
        better = (low > 0) if HIGHER_IS_BETTER[metric] else (high < 0)
        worse = (high < 0) if HIGHER_IS_BETTER[metric] else (low > 0)
        word = "better" if better else "worse" if worse else "no clear difference"
        return (
            f"{metric}: drift-aware {mean:+.4f} vs legacy on average "
            f"({self.confidence:.0%} interval {low:+.4f} to {high:+.4f}), "
            f"better at {self.wins(metric)} of {len(self.origins)} origins: {word}"
        )


def origins_of(created_at: pd.Series, config: BacktestConfig) -> list[pd.Timestamp]:
    """Origins every `every_days`, the newest leaving a full window of resolved leads."""
    newest = pd.Timestamp(pd.to_datetime(created_at).max()).normalize()
    last = newest - pd.Timedelta(days=config.window_days)
    return [last - pd.Timedelta(days=k * config.every_days) for k in range(config.origins)][::-1]


def backtest(
    data: ChannelData,
    spec: FeatureSpec,
    config: BacktestConfig,
    say: Callable[[str], None] = lambda _: None,
) -> Backtest:
    """Both schemes at every origin of `data` (one channel's labelled leads)."""
    created = pd.to_datetime(data.leads["created_at"]).to_numpy()
    results, skipped = [], []
    for origin in origins_of(data.leads["created_at"], config):
        learn = np.flatnonzero(created < origin - pd.Timedelta(days=config.gap_days))
        end = origin + pd.Timedelta(days=config.window_days)
        scored = np.flatnonzero((created >= origin) & (created < end))
        try:
            result = _at_origin(data, spec, config.training, origin, learn, scored)
        except NotEnoughDataError as error:
            skipped.append(f"{origin.date()}: {error}")
            say(f"{data.channel} {origin.date()}: skipped ({error})")
            continue
        say(f"{data.channel} {origin.date()}: {result.metrics}")
        results.append(result)
    if not results:
        raise NotEnoughDataError(f"{data.channel}: no origin had enough data: {skipped}")
    difference, interval = _paired_bootstrap(results, config)
    return Backtest(data.channel, results, skipped, difference, interval, config.confidence)


def _subset(data: ChannelData, rows: np.ndarray) -> ChannelData:
    return ChannelData(
        channel=data.channel,
        leads=data.leads.iloc[rows].reset_index(drop=True),
        columns=take(data.columns, rows),
        y=data.y[rows],
    )


def _at_origin(
    data: ChannelData,
    spec: FeatureSpec,
    config: TrainingConfig,
    origin: pd.Timestamp,
    learn: np.ndarray,
    scored: np.ndarray,
) -> OriginResult:
    y = data.y[scored]
    if len(scored) == 0 or y.min() == y.max():
        raise NotEnoughDataError("the window after the origin holds a single outcome")
    past = _subset(data, learn)
    dropped, _ = time_feature_plan(past.leads["created_at"], config)
    origin_spec = without_calendar(spec, dropped)
    legacy = legacy_fit(past, origin_spec, config)
    fitted = fit_channel(past, origin_spec, config)
    columns = take(data.columns, scored)
    probability = {
        "legacy": legacy.score(columns).probability,
        "drift_aware": fitted.model.score(columns).probability,
    }
    return OriginResult(
        origin=origin,
        learnt_rows=len(learn),
        scored_rows=len(scored),
        scored_rate=float(y.mean()),
        metrics={name: _metrics(y, p) for name, p in probability.items()},
        rounds={
            "legacy": int(legacy.trees.current_iteration()),
            "drift_aware": fitted.best_iteration,
        },
        y=y,
        probability=probability,
    )


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    auc, loss = _auc_and_log_loss(y[None, :], p[None, :])
    return {"roc_auc": float(auc[0]), "log_loss": float(loss[0])}


def _auc_and_log_loss(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUC (ties averaged, as sklearn) and log loss of each row of `y` and `p`."""
    positives = y.sum(axis=1)
    negatives = y.shape[1] - positives
    ranks = rankdata(p, axis=1)
    auc = ((ranks * y).sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives)
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    loss = -np.mean(y * np.log(clipped) + (1 - y) * np.log1p(-clipped), axis=1)
    return auc, loss


def _paired_bootstrap(
    results: list[OriginResult], config: BacktestConfig
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Mean over origins of drift_aware minus legacy, and its interval: each resample draws
    every window's leads with replacement, the same draw for both schemes."""
    rng = np.random.default_rng(config.seed)
    differences = {metric: np.zeros(config.resamples) for metric in METRICS}
    for result in results:
        n = len(result.y)
        for start in range(0, config.resamples, RESAMPLES_AT_ONCE):
            chunk = slice(start, min(start + RESAMPLES_AT_ONCE, config.resamples))
            rows = rng.integers(0, n, size=(chunk.stop - chunk.start, n))
            y = result.y[rows].astype(np.float64)
            # A resample with one outcome only has no AUC: use the window as it is.
            single = (y.sum(axis=1) == 0) | (y.sum(axis=1) == n)
            rows[single] = np.arange(n)
            y[single] = result.y
            values = {
                name: _auc_and_log_loss(y, result.probability[name][rows]) for name in SCHEMES
            }
            for i, metric in enumerate(METRICS):
                differences[metric][chunk] += values["drift_aware"][i] - values["legacy"][i]
    tail = (1 - config.confidence) / 2
    mean: dict[str, float] = {}
    interval: dict[str, tuple[float, float]] = {}
    for metric in METRICS:
        mean[metric] = float(
            np.mean(
                [o.metrics["drift_aware"][metric] - o.metrics["legacy"][metric] for o in results]
            )
        )
        low, high = np.quantile(differences[metric] / len(results), [tail, 1 - tail])
        interval[metric] = (float(low), float(high))
    return mean, interval


def legacy_fit(data: ChannelData, spec: FeatureSpec, config: TrainingConfig) -> LeadScoreModel:
    """The registered model of the scheme before drift-aware training, as it was: LightGBM
    on the oldest 65%, early stopping and Platt on the next 15%, the newest 20% left to
    validation. For `backtest` only."""
    split = time_split(data.leads["created_at"], config)
    for part in (split.train, split.calibration):
        if min(int(data.y[part].sum()), int((1 - data.y[part]).sum())) < config.min_positives:
            raise NotEnoughDataError(f"{data.channel}: too few outcomes for the legacy split")
    fitted_spec = spec.fit(take(data.columns, split.train))
    matrix = fitted_spec.transform(data.columns)
    train_set = lgb.Dataset(
        matrix[split.train],
        data.y[split.train],
        feature_name=fitted_spec.names,
        categorical_feature=fitted_spec.categorical_indices,
        free_raw_data=False,
    )
    calib_set = train_set.create_valid(matrix[split.calibration], data.y[split.calibration])
    params: dict[str, Any] = {
        **config.lgbm_params,
        "num_threads": config.threads,
        "seed": config.seed,
        "monotone_constraints": fitted_spec.monotone_constraints,
    }
    booster = lgb.train(
        params,
        train_set,
        config.max_rounds,
        valid_sets=[calib_set],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    booster = booster.model_from_string(
        booster.model_to_string(num_iteration=booster.best_iteration)
    )
    calib_raw = np.asarray(booster.predict(matrix[split.calibration], raw_score=True))
    calibration = PlattCalibration.fit(calib_raw, data.y[split.calibration])
    train_probability = calibration.probability(
        np.asarray(booster.predict(matrix[split.train], raw_score=True))
    )
    return LeadScoreModel(
        channel=data.channel,
        spec=fitted_spec,
        booster=booster,
        calibration=calibration,
        scale=ScoreScale.fit(train_probability),
        target=config.target,
    )
