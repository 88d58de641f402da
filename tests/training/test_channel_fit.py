"""Drift-aware fitting: what each model learnt from, and that calibration is cross-fitted.

On a small drifting history (one channel), so each fit takes seconds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate
from features.columns import from_frame, take
from features.lead_features import default_spec
from features.spec import FeatureSpec
from models.scale import PlattCalibration
from training.channel_data import ChannelData, channel_data
from training.channel_fit import FittedChannel, fit_channel
from training.splits import Fold
from training.training_config import TrainingConfig

pytestmark = pytest.mark.slow

CONFIG = TrainingConfig(threads=1)
NEW_SOURCE = "late_partner"


@pytest.fixture(scope="module")
def spec() -> FeatureSpec:
    return default_spec("inbound")


@pytest.fixture(scope="module")
def data(spec: FeatureSpec) -> ChannelData:
    tables = generate(GeneratorConfig(leads=40_000, seed=2, drift=True))
    return channel_data(tables["leads"], tables["opportunities"], "inbound", "won", spec)


@pytest.fixture(scope="module")
def fitted(data: ChannelData, spec: FeatureSpec) -> FittedChannel:
    return fit_channel(data, spec, CONFIG)


def _newest_changed(data: ChannelData, validation: np.ndarray, spec: FeatureSpec) -> ChannelData:
    """`data` with other outcomes in the validation period, and a new source that brings
    every converted lead there and few others."""
    rng = np.random.default_rng(3)
    y = data.y.copy()
    y[validation] = rng.permutation(y[validation])
    leads = data.leads.copy()
    new = validation[(y[validation] == 1) | (rng.random(len(validation)) < 0.05)]
    source = leads["source"].to_numpy(dtype=object, copy=True)
    source[new] = NEW_SOURCE
    leads["source"] = source
    return ChannelData(data.channel, leads, from_frame(leads, spec.input_fields), y)


@pytest.fixture(scope="module")
def changed(data: ChannelData, spec: FeatureSpec, fitted: FittedChannel) -> FittedChannel:
    return fit_channel(_newest_changed(data, fitted.split.validation, spec), spec, CONFIG)


def test_the_evaluated_model_never_sees_the_validation_period(
    data: ChannelData, fitted: FittedChannel, changed: FittedChannel
) -> None:
    columns = take(data.columns, fitted.split.validation)
    np.testing.assert_array_equal(
        fitted.evaluated.score(columns).probability, changed.evaluated.score(columns).probability
    )
    matrix = fitted.evaluated.spec.transform(columns)
    np.testing.assert_array_equal(
        fitted.evaluated_baseline.predict_proba(matrix),
        changed.evaluated_baseline.predict_proba(matrix),
    )
    assert fitted.settings["evaluated_rounds"] == changed.settings["evaluated_rounds"]


def test_the_production_model_learns_from_the_newest_rows(
    data: ChannelData, fitted: FittedChannel, changed: FittedChannel
) -> None:
    assert NEW_SOURCE in changed.model.spec.vocabularies["source"]
    assert NEW_SOURCE not in changed.evaluated.spec.vocabularies["source"]
    leads = data.leads.iloc[fitted.split.validation[:500]]
    model = changed.model
    usual = model.score(from_frame(leads, model.spec.input_fields)).probability
    new = leads.assign(source=NEW_SOURCE)
    learnt = model.score(from_frame(new, model.spec.input_fields)).probability
    assert np.mean(learnt) > 2 * np.mean(usual)
    # The production model's vocabularies come from every labelled row.
    assert fitted.model.spec.vocabularies == fitted.model.spec.fit(data.columns).vocabularies


def _fold_models(
    data: ChannelData, fitted: FittedChannel, folds: tuple[Fold, ...], rounds: int
) -> tuple[np.ndarray, list[lgb.Booster]]:
    """Raw scores of each fold's held-out rows from a model boosted `rounds` rounds on that
    fold's training rows alone (binned as the evaluated model's rows), and the models."""
    spec = fitted.evaluated.spec
    matrix = spec.transform(data.columns)
    earlier = fitted.split.earlier
    params: dict[str, Any] = {
        **CONFIG.lgbm_params,
        "num_threads": CONFIG.threads,
        "seed": CONFIG.seed,
        "monotone_constraints": spec.monotone_constraints,
    }
    base = lgb.Dataset(
        matrix[earlier],
        data.y[earlier],
        feature_name=spec.names,
        categorical_feature=spec.categorical_indices,
        params=params,
    ).construct()
    raw, models = [], []
    for fold in folds:
        assert not np.intersect1d(fold.train, fold.held).size
        rows = np.searchsorted(earlier, fold.train).tolist()
        train_set = base if len(fold.train) == len(earlier) else base.subset(rows)
        booster = lgb.train(params, train_set, rounds)
        raw.append(booster.predict(matrix[fold.held], raw_score=True))
        models.append(booster)
    return np.concatenate(raw), models


@pytest.mark.parametrize("which", ["evaluated", "production"])
def test_calibration_is_platt_on_scores_of_rows_the_trees_never_saw(
    data: ChannelData, fitted: FittedChannel, which: str
) -> None:
    split = fitted.split
    if which == "evaluated":
        folds, rounds, model = split.folds, fitted.settings["evaluated_rounds"], fitted.evaluated
    else:
        folds, rounds, model = split.refit_folds, fitted.settings["rounds"], fitted.model
    raw, _ = _fold_models(data, fitted, folds, rounds)
    held = np.concatenate([fold.held for fold in folds])
    expected = PlattCalibration.fit(raw, data.y[held])
    assert model.calibration.slope == pytest.approx(expected.slope, rel=1e-6)
    assert model.calibration.intercept == pytest.approx(expected.intercept, rel=1e-6)
    assert fitted.settings[f"{'evaluated_' if which == 'evaluated' else ''}calibration_rows"] == (
        len(held)
    )


def test_the_evaluated_model_is_boosted_on_every_row_before_validation(
    data: ChannelData, fitted: FittedChannel
) -> None:
    rounds = fitted.settings["evaluated_rounds"]
    outer = Fold(fitted.split.earlier, fitted.split.validation)
    _, (alone,) = _fold_models(data, fitted, (outer,), rounds)
    matrix = fitted.evaluated.spec.transform(take(data.columns, fitted.split.validation))
    np.testing.assert_allclose(
        fitted.evaluated.booster.predict(matrix, raw_score=True),
        alone.predict(matrix, raw_score=True),
        rtol=1e-12,
    )
    assert fitted.evaluated.trees.current_iteration() == rounds
    assert fitted.model.trees.current_iteration() == fitted.best_iteration


def test_without_dates_validation_and_folds_are_stratified_random(
    data: ChannelData, spec: FeatureSpec
) -> None:
    ticks: list[tuple[int, int]] = []
    fitted = fit_channel(
        data,
        spec,
        replace(CONFIG, dated=False),
        lambda done, at_most: ticks.append((done, at_most)),
    )
    split = fitted.split
    assert split.validation_start is None
    assert fitted.settings["scheme"] == "stratified_kfold"
    assert data.y[split.validation].mean() == pytest.approx(data.y.mean(), abs=0.001)
    created = pd.to_datetime(data.leads["created_at"])
    assert created.iloc[split.validation].min() < created.iloc[split.earlier].median()
    # Every labelled row calibrates the production model, from a fold model without it.
    assert fitted.settings["calibration_rows"] == len(data.y)
    # Progress runs over every fit and ends full.
    done = [d for d, _ in ticks]
    assert done == sorted(done) and ticks[-1][0] == ticks[-1][1]
