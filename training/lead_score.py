"""Fitting a channel's lead-score model and its baseline on a time-based split.

Pure functions on frames and arrays: MLflow, files and the console stay in
`training.pipeline` and the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from data.labels import LABELS, lead_outcomes
from features.columns import Columns, from_frame, take
from features.spec import FeatureSpec
from models.lead_score import LeadScoreModel
from models.scale import PlattCalibration, ScoreScale

DEFAULT_LGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    # Small trees, strong regularisation: converted leads are rare, so a
    # channel often has only hundreds of positives to learn from.
    "learning_rate": 0.03,
    "num_leaves": 7,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 10.0,
    "max_bin": 63,
    "max_cat_to_onehot": 8,
    "cat_smooth": 10.0,
    "verbose": -1,
}

Progress = Callable[[int, int], None]
"""Called with (iterations done, iterations at most) while boosting."""


class NotEnoughDataError(ValueError):
    """Too few rows or outcomes to train or validate honestly."""


@dataclass(frozen=True)
class TrainingConfig:
    target: str = "won"
    validation_share: float = 0.2
    calibration_share: float = 0.15
    max_rounds: int = 1000
    early_stopping_rounds: int = 50
    threads: int = 2
    seed: int = 7
    min_positives: int = 40
    """Converted and other leads needed in each period (Dynamics 365 asks 40 of each class)."""
    leakage_auc: float = 0.95
    """A column alone predicting the outcome with this ROC AUC is dropped as leakage."""
    keep_columns: tuple[str, ...] = ()
    """Columns kept whatever the leakage guard says (reported all the same)."""
    lgbm_params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_LGBM_PARAMS))


@dataclass(frozen=True)
class Split:
    """Row positions of the three time-ordered periods, oldest first."""

    train: np.ndarray
    calibration: np.ndarray
    validation: np.ndarray
    validation_start: pd.Timestamp


@dataclass
class ChannelData:
    channel: str
    leads: pd.DataFrame
    columns: Columns
    y: np.ndarray


@dataclass
class FittedChannel:
    model: LeadScoreModel
    baseline: Pipeline
    split: Split
    data: ChannelData
    best_iteration: int


def channel_data(
    leads: pd.DataFrame, opportunities: pd.DataFrame, channel: str, target: str, spec: FeatureSpec
) -> ChannelData:
    """A channel's leads with known outcomes, oldest first, and their labels."""
    if target not in LABELS:
        raise ValueError(f"target must be one of {list(LABELS)}, got {target!r}")
    return labelled_channel(leads, lead_outcomes(leads, opportunities), channel, target, spec)


def labelled_channel(
    leads: pd.DataFrame, outcomes: pd.DataFrame, channel: str, target: str, spec: FeatureSpec
) -> ChannelData:
    """`channel_data` from outcomes (`lead_id`, `resolved`, `target`) aligned with `leads`."""
    keep = (leads["channel"].to_numpy() == channel) & outcomes["resolved"].to_numpy()
    rows = leads[keep].sort_values("created_at", kind="stable").reset_index(drop=True)
    labels = outcomes[keep].set_index("lead_id").loc[rows["lead_id"], target].to_numpy()
    return ChannelData(
        channel=channel,
        leads=rows,
        columns=from_frame(rows, spec.input_fields),
        y=labels.astype(np.int8),
    )


def time_split(created_at: pd.Series, config: TrainingConfig) -> Split:
    """Validate on the newest period; calibrate and stop early on the one before."""
    times = pd.to_datetime(created_at).to_numpy().astype("datetime64[us]")
    ticks = times.astype(np.int64)

    def start_of(share: float) -> np.datetime64:
        return np.datetime64(int(np.quantile(ticks, 1 - share)), "us")

    validation_start = start_of(config.validation_share)
    calibration_start = start_of(config.validation_share + config.calibration_share)
    positions = np.arange(len(times))
    return Split(
        train=positions[times < calibration_start],
        calibration=positions[(times >= calibration_start) & (times < validation_start)],
        validation=positions[times >= validation_start],
        validation_start=pd.Timestamp(validation_start),
    )


def check_enough(y: np.ndarray, split: Split, channel: str, minimum: int) -> None:
    """Refuse to train when a period has too few outcomes of either kind to learn or judge."""
    for part in ("train", "calibration", "validation"):
        part_y = y[getattr(split, part)]
        positives = int(part_y.sum())
        negatives = len(part_y) - positives
        if positives < minimum or negatives < minimum:
            total = int(y.sum())
            raise NotEnoughDataError(
                f"{channel}: the {part} period has {positives} converted and {negatives} other "
                f"leads; at least {minimum} of each are needed in each period for a trustworthy "
                f"model ({total:,} converted of {len(y):,} leads in all). Import more history, "
                "or lower the bar with --min-outcomes at the price of wider intervals"
            )


def fit_channel(
    data: ChannelData,
    spec: FeatureSpec,
    config: TrainingConfig,
    progress: Progress | None = None,
) -> FittedChannel:
    """Fit LightGBM (early stopping), Platt calibration, score scale and the baseline."""
    split = time_split(data.leads["created_at"], config)
    check_enough(data.y, split, data.channel, config.min_positives)
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
    params = {
        **config.lgbm_params,
        "num_threads": config.threads,
        "seed": config.seed,
        "monotone_constraints": fitted_spec.monotone_constraints,
    }
    callbacks: list[Callable[..., Any]] = [
        lgb.early_stopping(config.early_stopping_rounds, verbose=False)
    ]
    if progress is not None:
        callbacks.append(_progress_callback(progress, config.max_rounds))
    booster = lgb.train(
        params, train_set, config.max_rounds, valid_sets=[calib_set], callbacks=callbacks
    )
    booster = booster.model_from_string(
        booster.model_to_string(num_iteration=booster.best_iteration)
    )
    calib_raw = np.asarray(booster.predict(matrix[split.calibration], raw_score=True))
    calibration = PlattCalibration.fit(calib_raw, data.y[split.calibration])
    train_probability = calibration.probability(
        np.asarray(booster.predict(matrix[split.train], raw_score=True))
    )
    model = LeadScoreModel(
        channel=data.channel,
        spec=fitted_spec,
        booster=booster,
        calibration=calibration,
        scale=ScoreScale.fit(train_probability),
        target=config.target,
    )
    baseline = fit_baseline(matrix[split.train], data.y[split.train], fitted_spec)
    return FittedChannel(
        model=model,
        baseline=baseline,
        split=split,
        data=data,
        best_iteration=int(booster.current_iteration()),
    )


def _progress_callback(progress: Progress, total: int) -> Callable[[Any], None]:
    def callback(env: Any) -> None:
        progress(env.iteration + 1, total)

    return callback


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.sign(x) * np.log1p(np.abs(x)), dtype=np.float64)


def fit_baseline(matrix: np.ndarray, y: np.ndarray, spec: FeatureSpec) -> Pipeline:
    """Logistic regression on the same features: what the model must beat."""
    categorical = spec.categorical_indices
    numeric = [i for i in range(len(spec.features)) if i not in categorical]
    transform = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    FunctionTransformer(_signed_log),
                    StandardScaler(),
                ),
                numeric,
            ),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )
    pipeline = Pipeline([("features", transform), ("logistic", LogisticRegression(max_iter=2000))])
    pipeline.fit(matrix, y)
    return pipeline
