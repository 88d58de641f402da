"""Hand-checked numbers, input errors and the bootstrap of training.evaluation_metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.evaluation_metrics import (
    INTERVAL_METRICS,
    _fast_metrics,
    bootstrap_interval,
    bootstrap_intervals,
    calibration_table,
    cumulative_gains,
    evaluate,
)

KEYS = {
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "ece",
    "lift_top_decile",
    "gains_top_decile",
    "positive_rate",
    "rows",
}


@pytest.fixture
def synthetic() -> tuple[np.ndarray, np.ndarray]:
    """A calibrated but imperfect model: outcomes drawn from the predicted probabilities."""
    rng = np.random.default_rng(7)
    probability = rng.beta(1, 6, 5_000)
    return (rng.random(5_000) < probability).astype(np.int64), probability


def test_evaluate_returns_exactly_the_documented_float_metrics(synthetic):
    y, probability = synthetic
    metrics = evaluate(y, probability)
    assert set(metrics) == KEYS
    assert all(type(value) is float for value in metrics.values())
    assert metrics["rows"] == 5_000.0


@pytest.mark.parametrize(
    ("rows", "positives", "gains"),
    [(20, 5, 0.4), (20, 1, 1.0), (100, 30, 1 / 3), (30, 6, 0.5)],  # (30, 6): 3 rows, not 4
)
def test_perfect_ranking(rows, positives, gains):
    y = np.array([0] * (rows - positives) + [1] * positives)
    probability = np.linspace(0.01, 0.99, rows)  # ascending, so every positive outranks every 0

    metrics = evaluate(y, probability)

    assert metrics["roc_auc"] == 1.0
    assert metrics["pr_auc"] == 1.0
    assert metrics["gains_top_decile"] == pytest.approx(min(1, 0.1 * rows / positives))
    assert metrics["gains_top_decile"] == pytest.approx(gains)
    assert metrics["lift_top_decile"] == pytest.approx(gains / 0.1)  # k is 10% of rows
    assert metrics["positive_rate"] == pytest.approx(positives / rows)


def test_ten_rows_lift_by_hand():
    # Top decile of 10 rows is 1 row: the 0.9 score, a positive. Its positive rate is 1/1;
    # the overall rate is 3/10, so lift = 1 / 0.3 = 3.33 and gains = 1 of 3 positives.
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0, 0, 0])
    probability = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])

    metrics = evaluate(y, probability)

    assert metrics["lift_top_decile"] == pytest.approx(10 / 3)
    assert metrics["gains_top_decile"] == pytest.approx(1 / 3)
    # Pairs (positive, negative) ranked right: 0.9 beats 7, 0.7 beats 6, 0.3 beats 3 of 7.
    assert metrics["roc_auc"] == pytest.approx((7 + 6 + 3) / 21)


def test_ties_at_the_decile_boundary_keep_input_order():
    # 20 rows, so the top decile is 2 rows: the 0.9 (a positive) and the first of the two
    # 0.8 scores in input order (row 1, a negative). Rate 1/2 over 4/20 overall: lift 2.5.
    y = np.zeros(20, dtype=np.int64)
    y[[3, 4, 10, 11]] = 1
    probability = np.full(20, 0.1)
    probability[[1, 3]] = 0.8
    probability[4] = 0.9

    metrics = evaluate(y, probability)

    assert metrics["lift_top_decile"] == pytest.approx(2.5)
    assert metrics["gains_top_decile"] == pytest.approx(0.25)


def test_brier_and_log_loss_by_hand():
    metrics = evaluate([0, 1], [0.2, 0.6])
    assert metrics["brier"] == pytest.approx((0.2**2 + 0.4**2) / 2)
    assert metrics["log_loss"] == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_constant_calibrated_predictor_has_zero_ece():
    y = np.array([1] * 30 + [0] * 70)
    assert evaluate(y, np.full(100, 0.3))["ece"] == pytest.approx(0.0, abs=1e-12)
    assert evaluate(y, np.full(100, 0.8))["ece"] == pytest.approx(0.5)


def test_calibrated_model_has_small_ece(synthetic):
    y, probability = synthetic
    assert evaluate(y, probability)["ece"] < 0.02


def test_calibration_table_uses_equal_frequency_bins():
    y = np.array([0, 0, 0, 1, 0, 1, 1, 0, 1, 1])
    probability = np.arange(10) / 10  # 0.0 ... 0.9: five bins of two rows

    table = calibration_table(y, probability, n_bins=5)

    assert list(table.columns) == ["bin", "mean_predicted", "observed_rate", "rows"]
    assert table["bin"].tolist() == [0, 1, 2, 3, 4]
    assert table["rows"].tolist() == [2] * 5
    assert table["mean_predicted"].tolist() == pytest.approx([0.05, 0.25, 0.45, 0.65, 0.85])
    assert table["observed_rate"].tolist() == pytest.approx([0.0, 0.5, 0.5, 0.5, 1.0])


def test_calibration_table_keeps_ties_in_one_bin():
    table = calibration_table([0, 1, 0, 0], [0.25, 0.25, 0.25, 0.25])
    assert table["rows"].tolist() == [4]
    assert table["observed_rate"].tolist() == [0.25]


def test_ece_is_the_row_weighted_gap_of_the_calibration_table(synthetic):
    y, probability = synthetic
    table = calibration_table(y, probability, n_bins=7)
    gap = (table["mean_predicted"] - table["observed_rate"]).abs()
    expected = (gap * table["rows"]).sum() / table["rows"].sum()
    assert evaluate(y, probability, n_bins=7)["ece"] == pytest.approx(expected)


def test_cumulative_gains_by_hand():
    # Best scores first: 0.9 (positive), 0.6 (negative), 0.4 (positive), 0.1 (negative).
    contacted, captured = cumulative_gains([0, 1, 1, 0], [0.1, 0.9, 0.4, 0.6])
    assert contacted.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert captured.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]


def test_cumulative_gains_needs_a_positive():
    with pytest.raises(ValueError, match="at least one positive"):
        cumulative_gains([0, 0], [0.2, 0.3])


@pytest.mark.parametrize(
    ("y_true", "probability", "problem"),
    [
        ([0, 1, 0], [0.1, 0.9], "length mismatch"),
        ([], [], "empty"),
        ([0, 2, 1], [0.1, 0.2, 0.3], "only 0 and 1"),
        ([0, np.nan, 1], [0.1, 0.2, 0.3], "only 0 and 1"),
        (["no", "yes"], [0.1, 0.2], "only 0 and 1"),
        ([0, 1], [0.5, 1.2], r"in \[0, 1\]"),
        ([0, 1], [-0.1, 0.5], r"in \[0, 1\]"),
        ([0, 1], [0.5, np.nan], "NaN"),
        ([0, 0, 0], [0.1, 0.2, 0.3], "both outcomes.*only 0s"),
        ([1, 1], [0.1, 0.2], "both outcomes.*only 1s"),
        ([0, 1], [[0.9, 0.1], [0.2, 0.8]], "probability must be 1-D"),
    ],
)
def test_bad_input_is_named(y_true, probability, problem):
    with pytest.raises(ValueError, match=problem):
        evaluate(y_true, probability)


def test_calibration_table_accepts_a_single_outcome():
    assert calibration_table([0, 0], [0.1, 0.2])["observed_rate"].tolist() == [0.0, 0.0]


def test_bootstrap_interval_contains_the_estimate_and_is_seeded(synthetic):
    y, probability = synthetic
    # Not ece: resampling noise inflates it, so its interval can sit above a near-zero estimate.
    for metric in ("roc_auc", "pr_auc", "log_loss", "brier", "lift_top_decile"):
        low, high = bootstrap_interval(y, probability, metric=metric)
        assert low < evaluate(y, probability)[metric] < high

    first = bootstrap_interval(y, probability, metric="roc_auc", n_resamples=50, seed=3)
    assert bootstrap_interval(y, probability, metric="roc_auc", n_resamples=50, seed=3) == first
    assert bootstrap_interval(y, probability, metric="roc_auc", n_resamples=50, seed=4) != first


def test_bootstrap_interval_narrows_with_confidence(synthetic):
    y, probability = synthetic
    wide = bootstrap_interval(y, probability, metric="pr_auc", n_resamples=100, confidence=0.99)
    narrow = bootstrap_interval(y, probability, metric="pr_auc", n_resamples=100, confidence=0.5)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_bootstrap_interval_skips_single_outcome_resamples():
    # One positive in 20 rows: about a third of the resamples miss it and are skipped.
    y = np.zeros(20, dtype=np.int64)
    y[0] = 1
    low, high = bootstrap_interval(y, np.linspace(1, 0, 20), metric="roc_auc")
    assert low == high == 1.0


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"metric": "accuracy"}, "unknown metric 'accuracy'"),
        ({"metric": "roc_auc", "confidence": 1.0}, "confidence"),
        ({"metric": "roc_auc", "n_resamples": 0}, "n_resamples"),
    ],
)
def test_bootstrap_interval_rejects_bad_options(synthetic, options, problem):
    y, probability = synthetic
    with pytest.raises(ValueError, match=problem):
        bootstrap_interval(y, probability, **options)


@pytest.mark.parametrize("decimals", [2, 6])
def test_the_bootstrap_metrics_equal_sklearns(synthetic, decimals):
    y, p = synthetic
    p = np.round(p, decimals)  # 2 decimals: many ties, which average precision must share
    full = evaluate(y, p)
    fast = _fast_metrics(np.asarray(y, dtype=np.int64), p)
    assert set(fast) == set(INTERVAL_METRICS)
    for name, value in fast.items():
        assert value == pytest.approx(full[name], rel=1e-9, abs=1e-12), name


def test_bootstrap_intervals_pair_the_models(synthetic):
    y, p = synthetic
    rng = np.random.default_rng(1)
    noisy = np.clip(p + rng.normal(0, 0.3, len(p)), 0, 1)
    out = bootstrap_intervals(y, {"model": p, "noisy": noisy, "same": p}, seed=3)
    full = evaluate(y, p)
    for metric in INTERVAL_METRICS:
        low, high = out.by_model["model"][metric]
        assert low <= full[metric] <= high, metric
    assert out.roc_auc_difference is not None
    assert out.roc_auc_difference[0] > 0  # the noisy copy really ranks worse
    again = bootstrap_intervals(y, {"model": p, "same": p}, seed=3)
    assert again.roc_auc_difference == (0.0, 0.0)  # a tie is a tie
    assert bootstrap_intervals(y, {"model": p, "noisy": noisy}, seed=3).by_model == {
        k: v for k, v in out.by_model.items() if k != "same"
    }
