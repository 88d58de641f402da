"""Scores and grades: what a sales rep reads must follow the probability."""

from __future__ import annotations

import numpy as np
import pytest

from models.scale import PlattCalibration, ScoreScale


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return np.random.default_rng(0).beta(1.2, 12.0, 20_000)


def test_score_is_monotone_and_stays_within_1_to_99(reference: np.ndarray) -> None:
    scale = ScoreScale.fit(reference)
    probability = np.linspace(0.0, 1.0, 1001)
    score = scale.score(probability)
    assert np.all(np.diff(score) >= 0)
    assert score.min() == 1.0
    assert score.max() == 99.0


def test_score_is_the_percentile_among_reference_leads(reference: np.ndarray) -> None:
    scale = ScoreScale.fit(reference)
    median = float(np.median(reference))
    assert scale.score(np.array([median]))[0] == pytest.approx(50.0, abs=0.5)


def test_grades_split_reference_leads_10_20_30_40(reference: np.ndarray) -> None:
    scale = ScoreScale.fit(reference)
    grades = scale.grade(reference)
    shares = {g: float(np.mean(grades == g)) for g in "ABCD"}
    assert shares == pytest.approx({"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4}, abs=0.01)
    thresholds = dict(scale.grade_thresholds)
    assert thresholds["A"] > thresholds["B"] > thresholds["C"]


def test_ties_in_the_reference_do_not_break_the_scale() -> None:
    scale = ScoreScale.fit(np.r_[np.zeros(900), np.linspace(0.1, 0.9, 100)])
    score = scale.score(np.array([0.0, 0.5, 0.95]))
    assert np.all(np.isfinite(score))
    assert score[0] < score[1] < score[2]


def test_platt_calibration_recovers_a_known_link() -> None:
    rng = np.random.default_rng(1)
    raw = rng.normal(0.0, 1.5, 50_000)
    y = rng.random(raw.size) < 1 / (1 + np.exp(-(0.5 * raw - 1.0)))
    calibration = PlattCalibration.fit(raw, y.astype(int))
    assert calibration.slope == pytest.approx(0.5, abs=0.05)
    assert calibration.intercept == pytest.approx(-1.0, abs=0.05)


def test_the_extended_scale_keeps_moving_beyond_1_and_99(reference: np.ndarray) -> None:
    """Reasons are measured on it: a lead above every past lead must still have them."""
    scale = ScoreScale.fit(reference)
    beyond = scale.extended(np.array([0.5, 0.7, 0.9]))
    assert np.all(np.diff(beyond) > 0)
    assert beyond[0] > 99.0
    below = scale.extended(np.array([1e-6, 1e-5]))
    assert below[0] < below[1] < 1.0
    inside = np.quantile(reference, [0.2, 0.5, 0.8])
    np.testing.assert_allclose(scale.extended(inside), scale.score(inside))


def test_one_value_paths_equal_the_array_paths_bit_for_bit() -> None:
    """The API scores one lead with plain floats; a batch with arrays: same numbers."""
    rng = np.random.default_rng(7)
    for _ in range(5):
        scale = ScoreScale.fit(1 / (1 + np.exp(-rng.normal(-2, 1.5, 5000))))
        calibration = PlattCalibration(
            slope=float(rng.uniform(0.5, 1.5)), intercept=float(rng.normal())
        )
        raw = np.concatenate([rng.normal(-2, 3, 20_000), [-60.0, 60.0, 0.0]])
        probability = calibration.probability(raw)
        cuts = np.asarray(scale.cuts)  # exactly on a cut point, and beyond both ends
        on_cuts = np.concatenate([cuts, [0.0, 1.0, cuts[0] / 2, (1 + cuts[-1]) / 2]])
        assert [calibration.probability_one(float(r)) for r in raw] == probability.tolist()
        for values in (probability, on_cuts):
            assert [scale.extended_one(float(p)) for p in values] == scale.extended(values).tolist()
            assert [scale.grade_one(float(p)) for p in values] == scale.grade(values).tolist()
