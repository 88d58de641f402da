"""Metrics for a binary lead score: ranking, calibration and top-decile lift.

Pure functions on arrays, so training, model comparison and the tests share one
definition of every number that is logged to MLflow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _validated(
    y_true: npt.ArrayLike, probability: npt.ArrayLike, *, both_outcomes: bool
) -> tuple[IntArray, FloatArray]:
    """Name the problem up front instead of returning a silent NaN or a deep sklearn error."""
    y = np.asarray(y_true)
    p = np.asarray(probability)
    if y.ndim != 1:
        raise ValueError(f"y_true must be 1-D, got shape {y.shape}")
    if p.ndim != 1:
        raise ValueError(
            f"probability must be 1-D (the positive-class column), got shape {p.shape}"
        )
    if len(y) != len(p):
        raise ValueError(f"length mismatch: y_true has {len(y)} rows, probability has {len(p)}")
    if len(y) == 0:
        raise ValueError("empty input: y_true and probability have no rows")
    if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
        found = np.unique(y[~np.isin(y, (0, 1))])[:5] if y.dtype.kind in "biuf" else y.dtype
        raise ValueError(f"y_true must contain only 0 and 1, found {found}")
    if p.dtype.kind not in "biuf":
        raise ValueError(f"probability must be numeric, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if np.isnan(p).any():
        raise ValueError(f"probability contains {int(np.isnan(p).sum())} NaN value(s)")
    if (p < 0).any() or (p > 1).any():
        raise ValueError(f"probability must lie in [0, 1], got values from {p.min()} to {p.max()}")
    y = y.astype(np.int64)
    positives = int(y.sum())
    if both_outcomes and positives in (0, len(y)):
        only = "0s" if positives == 0 else "1s"
        raise ValueError(f"y_true needs both outcomes (0 and 1) for AUC, got only {only}")
    return y, p


def _check_bins(n_bins: int) -> None:
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")


def _calibration_bins(y: IntArray, p: FloatArray, n_bins: int) -> tuple[FloatArray, ...]:
    """Equal-frequency bins as (mean predicted, observed rate, rows), empty bins dropped.

    Bin edges are the scores at rows k*n//n_bins of the sorted scores (integer arithmetic, so
    no float rounding moves a boundary) and bins are right-closed, so tied scores always share
    a bin: a constant predictor gets a single bin rather than arbitrary splits of its ties.
    """
    n = len(p)
    cuts = np.arange(1, n_bins) * n // n_bins
    edges = np.unique(np.sort(p)[cuts[cuts > 0] - 1])
    bin_of_row = np.searchsorted(edges, p, side="left")
    size = len(edges) + 1
    rows = np.bincount(bin_of_row, minlength=size).astype(np.float64)
    predicted = np.bincount(bin_of_row, weights=p, minlength=size)
    positives = np.bincount(bin_of_row, weights=y, minlength=size)
    keep = rows > 0
    rows = rows[keep]
    return predicted[keep] / rows, positives[keep] / rows, rows


def _ece(y: IntArray, p: FloatArray, n_bins: int) -> float:
    predicted, observed, rows = _calibration_bins(y, p, n_bins)
    return float(np.sum(rows * np.abs(predicted - observed)) / len(p))


def _top_decile(y: IntArray, p: FloatArray) -> IntArray:
    """Outcomes of the ceil(n/10) highest-scored rows; ties keep input order (stable sort).

    ceil is taken in integers: 0.1 * 30 is 3.0000000000000004 in floats, whose ceil is 4.
    """
    k = -(-len(y) // 10)
    return y[np.argsort(-p, kind="stable")[:k]]


# Each metric takes validated arrays and n_bins; bootstrap_interval calls one of them directly.
_METRICS: dict[str, Callable[[IntArray, FloatArray, int], float]] = {
    "roc_auc": lambda y, p, _: float(roc_auc_score(y, p)),
    "pr_auc": lambda y, p, _: float(average_precision_score(y, p)),
    "log_loss": lambda y, p, _: float(log_loss(y, p, labels=[0, 1])),
    "brier": lambda y, p, _: float(brier_score_loss(y, p)),
    "ece": _ece,
    "lift_top_decile": lambda y, p, _: float(_top_decile(y, p).mean() / y.mean()),
    "gains_top_decile": lambda y, p, _: float(_top_decile(y, p).sum() / y.sum()),
    "positive_rate": lambda y, p, _: float(y.mean()),
    "rows": lambda y, p, _: float(len(y)),
}


def evaluate(
    y_true: npt.ArrayLike, probability: npt.ArrayLike, n_bins: int = 10
) -> dict[str, float]:
    """All metrics of one model on one data set, as floats ready for `mlflow.log_metrics`.

    Ranking (roc_auc, pr_auc), probability quality (log_loss, brier, ece over `n_bins`
    equal-frequency bins) and what sales sees: how much richer in positives the top 10% of
    leads is (lift_top_decile) and which share of all positives it holds (gains_top_decile).
    """
    y, p = _validated(y_true, probability, both_outcomes=True)
    _check_bins(n_bins)
    return {name: compute(y, p, n_bins) for name, compute in _METRICS.items()}


def bootstrap_interval(
    y_true: npt.ArrayLike,
    probability: npt.ArrayLike,
    metric: str,
    n_resamples: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    n_bins: int = 10,
) -> tuple[float, float]:
    """Percentile bootstrap interval of one `evaluate` metric, to tell real gains from noise.

    Rows are resampled with replacement; resamples holding a single outcome are skipped,
    because AUC and lift are undefined on them. `ece` is biased upward by resampling noise,
    so near zero its interval can lie entirely above the point estimate.
    """
    if metric not in _METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(_METRICS)}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    _check_bins(n_bins)
    y, p = _validated(y_true, probability, both_outcomes=True)
    compute = _METRICS[metric]
    rng = np.random.default_rng(seed)
    values: list[float] = []
    for _ in range(n_resamples):
        rows = rng.integers(0, len(y), size=len(y))
        y_sample = y[rows]
        if 0 < y_sample.sum() < len(y_sample):
            values.append(compute(y_sample, p[rows], n_bins))
    if not values:
        raise ValueError("every bootstrap resample held a single outcome; too few positives")
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def calibration_table(
    y_true: npt.ArrayLike, probability: npt.ArrayLike, n_bins: int = 10
) -> pd.DataFrame:
    """Reliability table over equal-frequency bins: the numbers behind `ece` and the plot.

    Columns `bin`, `mean_predicted`, `observed_rate`, `rows`. Tied scores share a bin, so
    there can be fewer than `n_bins` rows.
    """
    y, p = _validated(y_true, probability, both_outcomes=False)
    _check_bins(n_bins)
    predicted, observed, rows = _calibration_bins(y, p, n_bins)
    return pd.DataFrame(
        {
            "bin": np.arange(len(rows)),
            "mean_predicted": predicted,
            "observed_rate": observed,
            "rows": rows.astype(np.int64),
        }
    )


def cumulative_gains(
    y_true: npt.ArrayLike, probability: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """(share of rows contacted, share of positives captured), best-scored rows first.

    Both arrays start at 0 and have n + 1 points; ties keep input order, as in
    `gains_top_decile`.
    """
    y, p = _validated(y_true, probability, both_outcomes=False)
    positives = y.sum()
    if positives == 0:
        raise ValueError("cumulative gains need at least one positive in y_true, got only 0s")
    captured = np.concatenate(([0], np.cumsum(y[np.argsort(-p, kind="stable")])))
    contacted = np.arange(len(y) + 1, dtype=np.float64) / len(y)
    return contacted, captured.astype(np.float64) / positives


INTERVAL_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "lift_top_decile")
"""Metrics given with a bootstrap interval (ece is left out: resampling biases it upward)."""


def _fast_metrics(y: IntArray, p: FloatArray) -> dict[str, float]:
    """INTERVAL_METRICS in plain numpy: the same numbers as sklearn, without its checks,
    because a bootstrap computes them hundreds of times."""
    n, positives = len(y), int(y.sum())
    order = np.argsort(-p, kind="stable")
    ranks = rankdata(p)
    auc = (ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * (n - positives))
    y_sorted, p_sorted = y[order], p[order]
    # average precision steps at each distinct score (ties share one threshold, as sklearn)
    last_of_tie = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    hits = np.cumsum(y_sorted)[last_of_tie]
    seen = np.arange(1, n + 1)[last_of_tie]
    recall_steps = np.diff(np.r_[0, hits]) / positives
    pr_auc = float(np.sum(recall_steps * hits / seen))
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    log_loss_value = -np.mean(y * np.log(clipped) + (1 - y) * np.log1p(-clipped))
    k = -(-n // 10)
    return {
        "roc_auc": float(auc),
        "pr_auc": pr_auc,
        "log_loss": float(log_loss_value),
        "brier": float(np.mean((p - y) ** 2)),
        "lift_top_decile": float(y_sorted[:k].mean() / y.mean()),
    }


@dataclass(frozen=True)
class Intervals:
    """Bootstrap intervals of each model's metrics, on the same resamples."""

    by_model: dict[str, dict[str, tuple[float, float]]]
    roc_auc_difference: tuple[float, float] | None
    """Interval of the first model's ROC AUC minus the second's (paired): excludes 0 when
    one model really ranks better than the other on these rows."""
    resamples: int
    confidence: float


def bootstrap_intervals(
    y_true: npt.ArrayLike,
    predictions: Mapping[str, npt.ArrayLike],
    n_resamples: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> Intervals:
    """Percentile intervals of INTERVAL_METRICS for every model, resampling rows once for all.

    Small validation sets show their uncertainty here: with 100 conversions an
    AUC of 0.70 may well be anything from 0.64 to 0.76.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    y = _validated(y_true, next(iter(predictions.values())), both_outcomes=True)[0]
    probabilities = {
        name: _validated(y, p, both_outcomes=True)[1] for name, p in predictions.items()
    }
    rng = np.random.default_rng(seed)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in probabilities}
    for _ in range(n_resamples):
        rows = rng.integers(0, len(y), size=len(y))
        y_sample = y[rows]
        if 0 < y_sample.sum() < len(y_sample):
            for name, p in probabilities.items():
                samples[name].append(_fast_metrics(y_sample, p[rows]))
    if not samples[next(iter(samples))]:
        raise ValueError("every bootstrap resample held a single outcome; too few positives")
    tail = (1 - confidence) / 2

    def interval(values: Sequence[float]) -> tuple[float, float]:
        low, high = np.quantile(values, [tail, 1 - tail])
        return float(low), float(high)

    by_model = {
        name: {m: interval([s[m] for s in rows]) for m in INTERVAL_METRICS}
        for name, rows in samples.items()
    }
    names = list(samples)
    difference = None
    if len(names) >= 2:
        first, second = samples[names[0]], samples[names[1]]
        difference = interval(
            [a["roc_auc"] - b["roc_auc"] for a, b in zip(first, second, strict=True)]
        )
    return Intervals(by_model, difference, n_resamples, confidence)
