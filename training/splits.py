"""Which rows play which part: validation, the rows before it, and the inner folds.

The lead scores validate on the newest period and cross-fit inside the rows
before it (`make_split`); the rep fits still train, calibrate and validate on
three time-ordered periods (`time_split`). Both refuse periods with too few
outcomes to learn or judge (`check_enough`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from training.channel_data import ChannelData
from training.training_config import NotEnoughDataError, TrainingConfig

T = TypeVar("T")


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
        return tuple(refit_part(self.folds, Fold(self.earlier, self.validation), self.dated))


@dataclass(frozen=True)
class TimeSplit(Split):
    """Three time-ordered periods, oldest first: what the rep fits still train on."""

    validation_start: pd.Timestamp


def refit_part(inner: Sequence[T], outer: T, dated: bool) -> list[T]:
    """From the evaluated model's folds to the production model's: with dates, the
    oldest inner fold gives way to the validation period (forward chaining, K folds
    both); without, every random fold is kept and the validation share joins them."""
    return [*(inner[1:] if dated else inner), outer]


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
