"""Off-policy estimators, on numbers small enough to check by hand."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from models.assignment.off_policy_estimators import (
    doubly_robust_estimate,
    ips_estimate,
    snips_estimate,
)

# Four logged decisions: reward, the logging policy's propensity of the chosen rep,
# and the probability a new policy would have chosen the same rep.
REWARDS = [1.0, 0.0, 1.0, 0.0]
LOGGED = [0.5, 0.5, 0.25, 1.0]
TARGET = [1.0, 0.0, 0.5, 1.0]  # importance weights 2, 0, 2, 1


def test_ips_and_self_normalised_ips() -> None:
    assert ips_estimate(REWARDS, LOGGED, TARGET) == pytest.approx((2 + 0 + 2 + 0) / 4)
    assert snips_estimate(REWARDS, LOGGED, TARGET) == pytest.approx(4 / 5)
    # Evaluating the logging policy itself gives back the observed mean reward.
    assert ips_estimate(REWARDS, LOGGED, LOGGED) == pytest.approx(0.5)
    assert snips_estimate(REWARDS, LOGGED, [0, 0, 0, 0]) == 0.0


def test_doubly_robust_estimate() -> None:
    # 0.6 + w * (r - 0.5) for w = 2, 0, 2, 1: 1.6, 0.6, 1.6, 0.1
    dr = doubly_robust_estimate(REWARDS, LOGGED, TARGET, [0.5] * 4, [0.6] * 4)
    assert dr == pytest.approx(3.9 / 4)
    # A reward model that is right on the logged choices leaves only its own value.
    assert doubly_robust_estimate(REWARDS, LOGGED, TARGET, REWARDS, [0.3, 0.7, 0.2, 0.4]) == (
        pytest.approx(0.4)
    )


def test_ips_is_unbiased_on_a_simulated_log() -> None:
    """Log under epsilon-greedy, evaluate the greedy policy: IPS finds its true value."""
    rng = np.random.default_rng(0)
    n, eps = 200_000, 0.3
    p_win = np.array([0.2, 0.5, 0.3])  # rep 1 is best; the logger prefers rep 0
    logged_probs = np.full(3, eps / 3) + np.array([1 - eps, 0, 0])
    actions = rng.choice(3, size=n, p=logged_probs)
    rewards = (rng.random(n) < p_win[actions]).astype(float)
    target = (actions == 1).astype(float)  # the greedy policy always takes rep 1
    logged = logged_probs[actions]
    assert ips_estimate(rewards, logged, target) == pytest.approx(0.5, abs=0.02)
    assert snips_estimate(rewards, logged, target) == pytest.approx(0.5, abs=0.02)
    q_hat = p_win[actions] + 0.1  # a biased reward model is corrected by the residuals
    dr = doubly_robust_estimate(rewards, logged, target, q_hat, np.full(n, 0.6))
    assert dr == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: ips_estimate([1], [0.0], [1]), "logged_propensities"),
        (lambda: ips_estimate([1], [1.5], [1]), "logged_propensities"),
        (lambda: ips_estimate([1], [0.5], [-0.1]), "target_propensities"),
        (lambda: ips_estimate([1, 0], [0.5], [1]), "logged_propensities"),
        (lambda: ips_estimate([float("nan")], [0.5], [1]), "rewards"),
        (lambda: doubly_robust_estimate([1], [0.5], [1], [0.2, 0.1], [0.3]), "predicted_logged"),
    ],
)
def test_bad_input_raises_naming_the_argument(call: Callable[[], object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        call()
