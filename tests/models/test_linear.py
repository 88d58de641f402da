"""The logistic baseline served as a booster: the same numbers as scikit-learn."""

from __future__ import annotations

import numpy as np

from features.lead_features import default_spec
from models.linear import LinearBooster
from training.baseline import fit_baseline


def _data(rng: np.random.Generator, n: int, width: int, categorical: list[int]) -> np.ndarray:
    matrix = rng.normal(size=(n, width)) * 3
    matrix[rng.random((n, width)) < 0.2] = np.nan
    for j in categorical:
        matrix[:, j] = np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 6, n))
    return matrix


def test_probabilities_and_contributions_equal_the_fitted_pipeline() -> None:
    rng = np.random.default_rng(0)
    spec = default_spec("inbound")
    categorical = spec.categorical_indices
    train = _data(rng, 3000, len(spec.features), categorical)
    train[:, 2] = np.nan  # a feature with no values at all
    y = (rng.random(3000) < 1 / (1 + np.exp(-np.nan_to_num(train[:, 0])))).astype(int)
    pipeline = fit_baseline(train, y, spec)
    booster = LinearBooster(pipeline, train)
    # Unseen categories (codes 6 and more) and missing values in the rows scored.
    rows = _data(rng, 500, len(spec.features), categorical)
    rows[:, categorical] = np.where(
        rng.random((500, len(categorical))) < 0.2, 9.0, rows[:, categorical]
    )
    np.testing.assert_allclose(
        booster.predict(rows), pipeline.predict_proba(rows)[:, 1], rtol=0, atol=1e-12
    )
    contrib = booster.predict(rows, pred_contrib=True)
    assert contrib.shape == (500, len(spec.features) + 1)
    np.testing.assert_allclose(
        contrib.sum(axis=1), pipeline.decision_function(rows), rtol=0, atol=1e-9
    )
    # Centred like LightGBM's: on the training rows every feature's mean contribution is 0.
    np.testing.assert_allclose(
        booster.predict(train, pred_contrib=True)[:, :-1].mean(axis=0), 0.0, atol=1e-9
    )
    one = booster.predict(rows[0], raw_score=True)
    assert one.shape == (1,)
    importance = booster.feature_importance("gain")
    assert importance[0] > 100 * importance[2]
