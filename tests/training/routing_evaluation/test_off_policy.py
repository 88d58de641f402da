"""Off-policy estimates from a log, worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from training.routing_evaluation.off_policy import LoggedDecisions, estimate_off_policy
from training.routing_evaluation.replay import one_hot


def test_off_policy_estimators_on_a_log_worked_by_hand() -> None:
    # Two closers, each logged with probability 1/2; the target always takes closer 0.
    log = LoggedDecisions(
        choice=np.array([0, 1, 0, 1]), propensity=np.full(4, 0.5), reward=np.array([1.0, 0, 0, 1])
    )
    target = one_hot(np.zeros(4, dtype=np.int64), 2)
    estimate = estimate_off_policy(
        "uniform",
        "first",
        log,
        target,
        np.full((4, 2), 0.5),
        np.tile([0.6, 0.2], (4, 1)),
        resamples=20,
        confidence=0.9,
        rng=np.random.default_rng(0),
    )
    # Weights 2, 0, 2, 0: IPS = (1*2 + 0*2) / 4, SNIPS = 2 / 4,
    # DR = 0.5 + mean(2 * (1 - 0.5), 0, 2 * (0 - 0.5), 0).
    assert (estimate.ips.value, estimate.snips.value, estimate.dr.value) == (0.5, 0.5, 0.5)
    assert estimate.effective_sample_size == 2.0
    assert estimate.truth == pytest.approx(0.6)
    assert estimate.logged_win_rate == 0.5
