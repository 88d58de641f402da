"""Which rows play which part in lead-score training: pure checks, no model fitted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.channel_data import ChannelData
from training.splits import Split, check_enough, make_split, time_split
from training.training_config import NotEnoughDataError, TrainingConfig

ROWS = 6_000
RATE = 0.12


def _data(rows: int = ROWS, rate: float = RATE, seed: int = 0) -> ChannelData:
    """Leads over two years, oldest first, with a time of day; outcomes at `rate`."""
    rng = np.random.default_rng(seed)
    created = np.sort(
        pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 730, rows), unit="D")
    )
    leads = pd.DataFrame({"created_at": created})
    y = (rng.random(rows) < rate).astype(np.int8)
    return ChannelData(channel="inbound", leads=leads, columns={}, y=y)


def _times(data: ChannelData, rows: np.ndarray) -> pd.Series:
    return data.leads["created_at"].iloc[rows]


def _assert_partition(parts: list[np.ndarray], rows: np.ndarray) -> None:
    together = np.concatenate(parts)
    assert len(together) == len(np.unique(together)) == len(rows)
    np.testing.assert_array_equal(np.sort(together), np.sort(rows))


# --- dated: forward chaining


def test_dated_validation_is_the_newest_period_and_earlier_everything_else() -> None:
    data = _data()
    split = make_split(data, TrainingConfig())
    assert split.dated and split.validation_start is not None
    _assert_partition([split.validation, split.earlier], np.arange(ROWS))
    assert _times(data, split.earlier).max() < split.validation_start
    assert _times(data, split.validation).min() >= split.validation_start
    assert len(split.validation) == pytest.approx(0.2 * ROWS, abs=2)


def test_dated_inner_folds_learn_only_from_the_past_of_their_held_block() -> None:
    data = _data()
    config = TrainingConfig()
    split = make_split(data, config)
    assert len(split.folds) == config.inner_folds
    for fold in split.folds:
        assert np.isin(fold.held, split.earlier).all() and np.isin(fold.train, split.earlier).all()
        assert _times(data, fold.train).max() < _times(data, fold.held).min()
        assert len(fold.held) == pytest.approx(config.fold_share * ROWS, abs=2)
    # Blocks follow each other up to the validation period, the newest last.
    blocks = [fold.held for fold in split.folds]
    _assert_partition([*blocks, split.folds[0].train], split.earlier)


def test_dated_production_folds_end_with_the_validation_period() -> None:
    split = make_split(_data(), TrainingConfig())
    refit = split.refit_folds
    assert len(refit) == len(split.folds)
    np.testing.assert_array_equal(refit[-1].train, split.earlier)
    np.testing.assert_array_equal(refit[-1].held, split.validation)
    for inner, production in zip(split.folds[1:], refit[:-1], strict=True):
        np.testing.assert_array_equal(inner.held, production.held)


@pytest.mark.parametrize("dated", [True, False])
def test_no_fold_holds_out_a_row_it_learns_from(dated: bool) -> None:
    split = make_split(_data(), TrainingConfig(dated=dated))
    for fold in (*split.folds, *split.refit_folds):
        assert not np.intersect1d(fold.train, fold.held).size


# --- not dated: stratified random


def test_random_validation_is_a_stratified_fifth() -> None:
    data = _data()
    split = make_split(data, TrainingConfig(dated=False))
    assert not split.dated and split.validation_start is None
    _assert_partition([split.validation, split.earlier], np.arange(ROWS))
    positives = int(data.y.sum())
    assert int(data.y[split.validation].sum()) == round(0.2 * positives)
    assert len(split.validation) == round(0.2 * positives) + round(0.2 * (ROWS - positives))
    # Random, not the newest rows.
    assert _times(data, split.validation).min() < _times(data, split.earlier).median()


def test_random_inner_folds_are_stratified_and_every_row_is_held_out_once() -> None:
    data = _data()
    config = TrainingConfig(dated=False)
    split = make_split(data, config)
    assert len(split.folds) == config.inner_folds
    _assert_partition([fold.held for fold in split.folds], split.earlier)
    for fold in split.folds:
        _assert_partition([fold.train, fold.held], split.earlier)
        assert data.y[fold.held].mean() == pytest.approx(data.y[split.earlier].mean(), abs=0.002)
    # The production model's calibration rows: every labelled row, each scored by a
    # fold model that never learnt from it.
    _assert_partition([fold.held for fold in split.refit_folds], np.arange(ROWS))


def test_the_random_split_is_reproducible_by_seed() -> None:
    data = _data()
    first = make_split(data, TrainingConfig(dated=False))
    again = make_split(data, TrainingConfig(dated=False))
    other = make_split(data, TrainingConfig(dated=False, seed=8))
    np.testing.assert_array_equal(first.validation, again.validation)
    assert not np.array_equal(first.validation, other.validation)


# --- enough outcomes, and the rep fits' split


@pytest.mark.parametrize("dated", [True, False])
def test_too_few_outcomes_in_any_part_refuses(dated: bool) -> None:
    data = _data(rate=0.05)  # ~30 converted leads per dated inner block, 60 validating
    config = TrainingConfig(dated=dated)
    split = make_split(data, config)
    if dated:
        with pytest.raises(NotEnoughDataError, match="inner fold 1 of 3's held-out"):
            check_enough(data.y, split, "inbound", 40)
    check_enough(data.y, split, "inbound", 10)
    with pytest.raises(NotEnoughDataError, match="at least 1000 of each"):
        check_enough(data.y, split, "inbound", 1_000)


def test_no_inner_folds_is_refused() -> None:
    data = _data()
    split = Split(np.arange(10), np.arange(10, ROWS), None)
    with pytest.raises(NotEnoughDataError, match="inner folds"):
        check_enough(data.y, split, "inbound", 1)


def test_the_rep_fits_keep_their_three_periods() -> None:
    data = _data()
    split = time_split(data.leads["created_at"], TrainingConfig())
    _assert_partition([split.train, split.calibration], split.earlier)
    _assert_partition([split.earlier, split.validation], np.arange(ROWS))
    assert len(split.calibration) == pytest.approx(0.15 * ROWS, abs=2)
    assert _times(data, split.train).max() < _times(data, split.calibration).min()
