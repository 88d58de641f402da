"""Off-policy estimators: what a new assignment policy would have earned on decisions
logged under the old one.

They need, for every logged decision t, the reward r_t (won, retained, or
value), the propensity the logging policy gave the chosen rep
(``Decision.propensity``) and the probability a target policy would have
chosen that same rep. Without exploration the logging propensity of every
other rep is 0 and nothing can be learned about them: that is why the online
policy explores.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.assignment.balance import Numbers, checked_array


def _ips_weights(
    rewards: Numbers, logged_propensities: Numbers, target_propensities: Numbers
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    r = checked_array("rewards", rewards)
    p = checked_array("logged_propensities", logged_propensities, 0.0, 1.0)
    q = checked_array("target_propensities", target_propensities, 0.0, 1.0)
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
    r_hat = checked_array("predicted_logged_rewards", predicted_logged_rewards)
    v_hat = checked_array("predicted_target_values", predicted_target_values)
    if not r.size == r_hat.size == v_hat.size:
        raise ValueError(
            "predicted_logged_rewards and predicted_target_values need one value per decision"
        )
    return float(np.mean(v_hat + w * (r - r_hat)))
