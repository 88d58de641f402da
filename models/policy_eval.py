"""Judging an assignment policy: how evenly it spreads work, and what a new policy
would have earned on decisions logged under the old one (off-policy evaluation).

The off-policy estimators need, for every logged decision t, the reward r_t
(won, retained, or value), the propensity the logging policy gave the chosen
rep (``Decision.propensity``) and the probability a target policy would have
chosen that same rep. Without exploration the logging propensity of every
other rep is 0 and nothing can be learned about them: that is why the online
policy explores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Numbers = Sequence[float] | npt.NDArray[np.float64]


def _array(
    name: str, values: Numbers, low: float = -np.inf, high: float = np.inf
) -> npt.NDArray[np.float64]:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d sequence of numbers")
    if not np.all(np.isfinite(a)) or a.min() < low or a.max() > high:
        raise ValueError(f"{name} must be finite numbers in [{low:g}, {high:g}]")
    return a


def gini(loads: Numbers) -> float:
    """Gini coefficient of the loads: 0 when all are equal, (n - 1) / n when one rep
    holds everything. The mean absolute difference over all pairs, over twice the mean."""
    x = _array("loads", loads, low=0.0)
    if x.sum() == 0:
        return 0.0
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean()))


@dataclass(frozen=True)
class LoadBalance:
    """Spread of the loads; ``max_min_ratio`` is inf when some rep has nothing
    while others have work, 1 when nobody has any."""

    max: float
    min: float
    mean: float
    max_min_ratio: float
    gini: float


def load_balance(loads: Numbers, weights: Numbers | None = None) -> LoadBalance:
    """Spread of the loads; with weights, of the loads per unit of weight, so a rep
    with weight 2 and twice the work counts as balanced."""
    x = _array("loads", loads, low=0.0)
    if weights is not None:
        w = _array("weights", weights, low=0.0)
        if w.size != x.size or w.min() <= 0:
            raise ValueError("weights must be positive, one per load")
        x = x / w
    low, high = float(x.min()), float(x.max())
    ratio = high / low if low > 0 else (1.0 if high == 0 else float("inf"))
    return LoadBalance(high, low, float(x.mean()), ratio, gini(x))


def _ips_weights(
    rewards: Numbers, logged_propensities: Numbers, target_propensities: Numbers
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    r = _array("rewards", rewards)
    p = _array("logged_propensities", logged_propensities, 0.0, 1.0)
    q = _array("target_propensities", target_propensities, 0.0, 1.0)
    if not r.size == p.size == q.size:
        raise ValueError(
            "rewards, logged_propensities and target_propensities must have one value per decision"
        )
    if p.min() <= 0:
        raise ValueError("logged_propensities must be > 0: a logged choice had a chance to happen")
    return r, q / p


def ips_estimate(
    rewards: Numbers, logged_propensities: Numbers, target_propensities: Numbers
) -> float:
    """Inverse propensity scoring: mean(r_t * target_t / logged_t).

    Unbiased for the target policy's mean reward when the logging policy gave
    every option the target might choose a positive propensity; high variance
    when the ratios are large.
    """
    r, w = _ips_weights(rewards, logged_propensities, target_propensities)
    return float(np.mean(r * w))


def snips_estimate(
    rewards: Numbers, logged_propensities: Numbers, target_propensities: Numbers
) -> float:
    """Self-normalised IPS: sum(r_t * w_t) / sum(w_t), w_t = target_t / logged_t.

    Slightly biased but much steadier than IPS; 0 when the target policy would
    never have made any logged choice (no evidence either way).
    """
    r, w = _ips_weights(rewards, logged_propensities, target_propensities)
    return float((r * w).sum() / w.sum()) if w.sum() > 0 else 0.0


def doubly_robust_estimate(
    rewards: Numbers,
    logged_propensities: Numbers,
    target_propensities: Numbers,
    predicted_logged_rewards: Numbers,
    predicted_target_values: Numbers,
) -> float:
    """Doubly robust: mean(V_hat_t + w_t * (r_t - r_hat_t)).

    ``predicted_logged_rewards`` is a reward model's r_hat(x_t, a_t) for the logged
    choice; ``predicted_target_values`` is V_hat_t = sum_a target(a | x_t) * r_hat(x_t, a),
    the model's value of the target policy on item t. Unbiased if either the
    propensities or the reward model are right, with less variance than IPS.
    """
    r, w = _ips_weights(rewards, logged_propensities, target_propensities)
    r_hat = _array("predicted_logged_rewards", predicted_logged_rewards)
    v_hat = _array("predicted_target_values", predicted_target_values)
    if not r.size == r_hat.size == v_hat.size:
        raise ValueError(
            "predicted_logged_rewards and predicted_target_values need one value per decision"
        )
    return float(np.mean(v_hat + w * (r - r_hat)))
