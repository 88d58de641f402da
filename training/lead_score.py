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

The fold models the two share are boosted once. Pure functions on frames and
arrays: MLflow, files and the console stay in `training.pipeline` and the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from data.labels import LABELS, lead_outcomes
from features.columns import Columns, from_frame, take
from features.spec import FeatureSpec
from models.lead_score_model import LeadScoreModel
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

ROUNDS_GROWTH = 0.5
"""Rounds chosen on a fold are scaled by (rows of the refit / rows of the fold) ** this.

More rows let the same trees grow further before they fit noise, so the best
round count grows with the data, but slower than the rows: 0 would keep the
folds' count, 1 would scale it with the rows. The optimum is flat: in the
rolling-origin backtests (`training.backtest`, 100,000 generated leads, seed 11,
drifting and stationary, both channels) 0, 0.5 and 1 moved the mean gains by at
most 0.0005 ROC AUC and 0.0003 log loss. The square root is the middle way.
"""

SCALE_ROWS = 200_000
"""Rows whose probabilities place the score scale's percentiles: a percentile of 200,000
values is within about a tenth of a point, so a million leads need not all be predicted."""

Progress = Callable[[int, int], None]
"""Called with (boosting rounds done, rounds at most) while boosting, over all fits."""

T = TypeVar("T")


class NotEnoughDataError(ValueError):
    """Too few rows or outcomes to train or validate honestly."""


@dataclass(frozen=True)
class TrainingConfig:
    target: str = "won"
    validation_share: float = 0.2
    calibration_share: float = 0.15
    """The rep-fit models' calibration period (`time_split`); the lead scores cross-fit."""
    inner_folds: int = 3
    """Folds inside the learning rows that choose the rounds and calibrate: the newest
    blocks of `fold_share` each when dated (forward chaining), else stratified K-fold."""
    fold_share: float = 0.1
    """Share of all rows in each dated inner block."""
    dated: bool = True
    """The leads carry real creation dates: validate on the newest period. Without, the
    validation rows are a stratified random share and the inner folds random too."""
    time_features: bool = True
    """Calendar features (month, weekday, hour...) where the dates support them."""
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


def _no_rows() -> np.ndarray:
    return np.array([], dtype=np.int64)


@dataclass(frozen=True)
class Fold:
    """A fold model learns from `train` and stops early on, and calibrates with, `held`."""

    train: np.ndarray
    held: np.ndarray


@dataclass(frozen=True)
class Split:
    """Which rows play which part (row positions)."""

    validation: np.ndarray
    """The newest period (or a stratified random share when not dated)."""
    earlier: np.ndarray
    """Every other row: all the evaluated model may learn from."""
    validation_start: pd.Timestamp | None
    """None when not dated."""
    folds: tuple[Fold, ...] = ()
    """The evaluated model's inner folds, inside `earlier`, oldest block first."""
    train: np.ndarray = field(default_factory=_no_rows)
    """The rep fits' training period (`time_split`); empty in a lead-score split."""
    calibration: np.ndarray = field(default_factory=_no_rows)
    """The rep fits' calibration period (`time_split`); empty in a lead-score split."""

    @property
    def dated(self) -> bool:
        return self.validation_start is not None

    @property
    def refit_folds(self) -> tuple[Fold, ...]:
        """The production model's folds over all rows: the validation period held out
        from everything before it, after the newest inner folds (all when not dated)."""
        return tuple(_refit_part(self.folds, Fold(self.earlier, self.validation), self.dated))


@dataclass(frozen=True)
class TimeSplit(Split):
    """Three time-ordered periods, oldest first: what the rep fits still train on."""

    validation_start: pd.Timestamp


def _refit_part(inner: Sequence[T], outer: T, dated: bool) -> list[T]:
    """From the evaluated model's folds to the production model's: with dates, the
    oldest inner fold gives way to the validation period (forward chaining, K folds
    both); without, every random fold is kept and the validation share joins them."""
    return [*(inner[1:] if dated else inner), outer]


@dataclass
class ChannelData:
    channel: str
    leads: pd.DataFrame
    columns: Columns
    y: np.ndarray


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


def _ticks(created_at: pd.Series) -> np.ndarray:
    times = pd.to_datetime(created_at).to_numpy().astype("datetime64[us]")
    return np.asarray(times.astype(np.int64))


def _start_of(ticks: np.ndarray, newest_share: float) -> np.int64:
    """The time from which the newest `newest_share` of rows start."""
    return np.int64(np.quantile(ticks, 1 - newest_share))


def _timestamp(tick: np.int64) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(tick), "us"))


def time_split(created_at: pd.Series, config: TrainingConfig) -> TimeSplit:
    """The rep fits' scheme: validate on the newest period; calibrate and stop early on
    the one before; train on the rest."""
    if created_at.dropna().empty:
        # np.quantile of nothing is an IndexError: say what is missing instead.
        raise NotEnoughDataError("no dated rows to split by time (no decided outcomes)")
    ticks = _ticks(created_at)
    validation_start = _start_of(ticks, config.validation_share)
    calibration_start = _start_of(ticks, config.validation_share + config.calibration_share)
    positions = np.arange(len(ticks))
    return TimeSplit(
        validation=positions[ticks >= validation_start],
        earlier=positions[ticks < validation_start],
        validation_start=_timestamp(validation_start),
        train=positions[ticks < calibration_start],
        calibration=positions[(ticks >= calibration_start) & (ticks < validation_start)],
    )


def make_split(data: ChannelData, config: TrainingConfig) -> Split:
    """The validation rows, the rows before them and the inner folds: by time when
    `config.dated`, else stratified random."""
    if config.dated:
        return _dated_split(data.leads["created_at"], config)
    return _random_split(data.y, config)


def _dated_split(created_at: pd.Series, config: TrainingConfig) -> Split:
    ticks = _ticks(created_at)
    positions = np.arange(len(ticks))
    validation_start = _start_of(ticks, config.validation_share)
    folds = []
    for newer in range(config.inner_folds, 0, -1):
        start = _start_of(ticks, config.validation_share + newer * config.fold_share)
        end = _start_of(ticks, config.validation_share + (newer - 1) * config.fold_share)
        held = positions[(ticks >= start) & (ticks < end)]
        folds.append(Fold(train=positions[ticks < start], held=held))
    return Split(
        validation=positions[ticks >= validation_start],
        earlier=positions[ticks < validation_start],
        validation_start=_timestamp(validation_start),
        folds=tuple(folds),
    )


def _random_split(y: np.ndarray, config: TrainingConfig) -> Split:
    """A stratified random validation share; stratified K-fold inside the rest."""
    rng = np.random.default_rng(config.seed)
    chosen = []
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        chosen.append(rng.choice(rows, round(config.validation_share * len(rows)), False))
    validation = np.sort(np.concatenate(chosen))
    earlier = np.setdiff1d(np.arange(len(y)), validation)
    folds: tuple[Fold, ...] = ()
    k = max(config.inner_folds, 2)
    if min(np.bincount(y[earlier], minlength=2)) >= k:
        splitter = StratifiedKFold(k, shuffle=True, random_state=config.seed)
        folds = tuple(
            Fold(train=earlier[train], held=earlier[held])
            for train, held in splitter.split(earlier, y[earlier])
        )
    return Split(validation=validation, earlier=earlier, validation_start=None, folds=folds)


CALENDAR = ("month", "month_in_quarter", "weekday", "hour")
"""The derivations of `created_at` in the default spec (`features.lead_features.COMMON`).
None marks absolute time: a trend learnt on the past cannot extrapolate to the future."""

SEASONS_NEEDED = 2
"""A cyclic calendar feature needs each of its values seen in at least this many cycles
(every month of the year in two years, every month of a quarter in two quarters). Seen
once, a value's effect is the level of that one period: under drift it learns the period,
not the season, and a history of 19 months meets May of the new year with last May's level.
Seen twice, the effect of each value averages over years, as the future does."""

PLACEHOLDER_SHARE = 0.02
"""A real time of day to the minute or second spreads leads thin: more than this share at
one exact time (midnight, or a timezone shift of it) is a made-up time."""

HOUR_PEAK_SHARE = 0.2
"""Times recorded to the hour only: the busiest hour may hold this much, not more."""

DAY_PEAK_SHARE = 0.1
"""Real dates spread over the month (1/30 each): a day of the month holding more than this
is the export's placeholder (e.g. every lead on the 1st when only the month is known)."""


def time_feature_plan(created_at: pd.Series, config: TrainingConfig) -> tuple[list[str], list[str]]:
    """Which calendar features (`CALENDAR` derive names) the dates cannot carry, and why.

    Pass the creation times of the rows the evaluated model learns from
    (`split.earlier`). Nothing is used without real dates (`config.dated` off) or
    with `config.time_features` off; the hour only with a real time of day (not a
    constant or midnight placeholder), the weekday only with real days (not the 1st of
    each month, not batch dates), the month of the year and of the quarter only once
    each value was seen `SEASONS_NEEDED` times.
    """
    if not config.dated or not config.time_features:
        why = "the leads have no usable creation dates" if not config.dated else "switched off"
        return list(CALENDAR), [f"no calendar features: {why}"]
    times = pd.Series(pd.to_datetime(created_at)).dropna()
    if times.empty:
        return list(CALENDAR), ["no calendar features: no creation dates"]
    drop, notes = [], []
    checks = (
        ("hour", "the hour of the day", _time_of_day_problem(times)),
        ("weekday", "the weekday", _date_problem(times)),
        ("month", "the month of the year", _season_problem(times, 12, "calendar month", "year")),
        ("month_in_quarter", "the month of the quarter", _season_problem(times, 3, "", "quarter")),
    )
    for derive, name, problem in checks:
        if problem is not None:
            drop.append(derive)
            notes.append(f"{name} is not used: {problem}")
    return drop, notes


def without_calendar(spec: FeatureSpec, derives: Sequence[str]) -> FeatureSpec:
    """`spec` less its calendar features of `created_at` with these derivations."""
    dropped = [f for f in spec.features if f.derive in derives and f.fields == ("created_at",)]
    if not dropped:
        return spec
    return FeatureSpec(tuple(f for f in spec.features if f not in dropped), spec.field_types)


def _time_of_day_problem(times: pd.Series) -> str | None:
    of_day = times - times.dt.normalize()
    hours = times.dt.hour
    if hours.nunique() < 2:
        return f"every lead was created in the same hour ({hours.iloc[0]:02d}h)"
    shares = of_day.value_counts(normalize=True)
    to_the_hour = bool((of_day % pd.Timedelta(hours=1) == pd.Timedelta(0)).mean() > 0.5)
    limit = HOUR_PEAK_SHARE if to_the_hour else PLACEHOLDER_SHARE
    if shares.iloc[0] > limit:
        clock = str(shares.index[0]).split(" days ")[-1]
        return f"{shares.iloc[0]:.0%} of leads share one time of day ({clock}), a placeholder"
    midnight = float((of_day == pd.Timedelta(0)).mean())
    # To the hour, midnight is an hour like any other: only more than its neighbours is odd.
    hourly = hours.value_counts(normalize=True)
    usual = hourly.get(23, 0.0) + hourly.get(1, 0.0) if to_the_hour else 0.0
    if midnight > PLACEHOLDER_SHARE + usual:
        return f"{midnight:.0%} of leads are stamped at midnight, a date without a time"
    return None


def _date_problem(times: pd.Series) -> str | None:
    weekdays = times.dt.weekday.nunique()
    if weekdays < 5:
        return f"the dates fall on {weekdays} weekday(s) only: batch or placeholder dates"
    days = times.dt.day.value_counts(normalize=True)
    if days.iloc[0] > DAY_PEAK_SHARE:
        return (
            f"{days.iloc[0]:.0%} of leads are dated day {days.index[0]} of a month: "
            "the export knows the month, not the day"
        )
    return None


def _season_problem(times: pd.Series, length: int, what: str, cycle: str) -> str | None:
    """Each position of a `length`-month cycle must show in `SEASONS_NEEDED` cycles (a month
    counts when it holds a quarter of a typical month's leads, not a few stragglers)."""
    months = times.dt.year.to_numpy() * 12 + times.dt.month.to_numpy() - 1
    index, counts = np.unique(months, return_counts=True)
    real = index[counts >= 0.25 * np.median(counts)]
    seen = min(len(np.unique(real[real % length == p] // length)) for p in range(length))
    if seen >= SEASONS_NEEDED:
        return None
    shows = "never shows" if seen == 0 else f"shows in {seen} {cycle}{'s' * (seen > 1)} only"
    return (
        f"in {len(real)} months of history some {what or f'month of the {cycle}'} {shows} "
        f"({SEASONS_NEEDED} needed): it would learn the period, not the season"
    )


def check_enough(y: np.ndarray, split: Split, channel: str, minimum: int) -> None:
    """Refuse to train when a period has too few outcomes of either kind to learn or judge:
    the validation rows, the rows before them and each inner fold's two parts."""
    count = len(split.folds)
    if count == 0:
        raise NotEnoughDataError(
            f"{channel}: too few converted leads to form inner folds ({len(y):,} leads, "
            f"{int(y.sum()):,} converted); import more history"
        )
    parts = [("validation", split.validation), ("training", split.earlier)]
    for i, fold in enumerate(split.folds, 1):
        parts.append((f"inner fold {i} of {count}'s held-out", fold.held))
        parts.append((f"inner fold {i} of {count}'s training", fold.train))
    for part, rows in parts:
        part_y = y[rows]
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
    """The evaluated model (on `split.earlier`), the production model (on all rows), both
    with cross-fitted Platt calibration and score scale, and their logistic baselines."""
    split = make_split(data, config)
    check_enough(data.y, split, data.channel, config.min_positives)
    runs_at_most = (len(split.folds) + 2) * config.max_rounds
    counter = _Counter(progress, runs_at_most)

    early_spec = spec.fit(take(data.columns, split.earlier))
    early_matrix = early_spec.transform(data.columns)
    boosting = _FoldBoosting(early_matrix, data.y, early_spec, split.earlier, config, counter)
    inner = [boosting.run(fold) for fold in split.folds]
    evaluated_rounds = _rounds(inner, len(split.earlier), config)
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

    refit_runs = _refit_part(inner, outer, split.dated)
    rounds = _rounds(refit_runs, len(data.y), config)
    calibration = boosting.calibration(refit_runs, rounds)
    full_spec = spec.fit(data.columns)
    full_matrix = full_spec.transform(data.columns)
    booster = _boost(full_matrix, data.y, full_spec, config, rounds, counter)
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
    return LeadScoreModel(
        channel=channel,
        spec=spec,
        booster=booster,
        calibration=calibration,
        scale=ScoreScale.fit(probability),
        target=target,
    )


def _params(spec: FeatureSpec, config: TrainingConfig) -> dict[str, Any]:
    return {
        **config.lgbm_params,
        "num_threads": config.threads,
        "seed": config.seed,
        "monotone_constraints": spec.monotone_constraints,
    }


def _rounds(runs: Sequence[_Run], rows: int, config: TrainingConfig) -> int:
    """The rounds for a model on `rows` rows: the folds' best, scaled to the rows."""
    scaled = [run.best * (rows / max(run.rows, 1)) ** ROUNDS_GROWTH for run in runs]
    return int(np.clip(round(float(np.mean(scaled))), 1, config.max_rounds))


def _boost(
    matrix: np.ndarray,
    y: np.ndarray,
    spec: FeatureSpec,
    config: TrainingConfig,
    rounds: int,
    counter: _Counter,
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
class _Run:
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


class _FoldBoosting:
    """Fold models on one fitted spec's matrix, binned once on the rows they may learn
    from (`rows`, sorted) and kept trainable for longer calibration fits."""

    def __init__(
        self,
        matrix: np.ndarray,
        y: np.ndarray,
        spec: FeatureSpec,
        rows: np.ndarray,
        config: TrainingConfig,
        counter: _Counter,
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

    def run(self, fold: Fold, at_least: int = 0) -> _Run:
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
        return _Run(fold, booster, max(stop.best, 1), len(fold.train))

    def raw(self, run: _Run, rounds: int) -> np.ndarray:
        """The fold model's raw scores of its held-out rows after `rounds` rounds."""
        while run.booster.current_iteration() < rounds:
            if run.booster.update():  # no split left to make
                break
        scores = run.booster.predict(
            self.matrix[run.fold.held], raw_score=True, num_iteration=rounds
        )
        return np.asarray(scores, dtype=np.float64)

    def calibration(self, runs: Sequence[_Run], rounds: int) -> PlattCalibration:
        """Platt on out-of-fold raw scores: no row calibrates a tree it helped fit."""
        raw = np.concatenate([self.raw(run, rounds) for run in runs])
        y = np.concatenate([self.y[run.fold.held] for run in runs])
        return PlattCalibration.fit(raw, y)


class _Counter:
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
