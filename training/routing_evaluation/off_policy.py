"""Off-policy estimates of a routing policy's win rate from logged decisions alone.

What a CRM keeps is, per lead, the closer it went to, the probability the
routing gave that choice, and whether the deal was won. From that
(`LoggedDecisions`), inverse propensity scoring (IPS), its self-normalised
form (SNIPS) and the doubly robust estimate (DR, with the fit model as the
reward model) say what another, deterministic policy would have won, with
percentile-bootstrap intervals over the logged leads. The estimators are
`models.assignment.off_policy_estimators`'; this module only feeds them and
resamples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from models.assignment.off_policy_estimators import (
    doubly_robust_estimate,
    ips_estimate,
    snips_estimate,
)
from models.assignment.types import PolicyConfig, Rep
from training.routing_evaluation.lifts import Interval
from training.routing_evaluation.replay import (
    FloatArray,
    IntArray,
    ReplaySettings,
    Trace,
    choices_on,
    one_hot,
)


@dataclass(frozen=True)
class LoggedDecisions:
    """One row per logged lead: the chosen closer (roster position), the probability the
    logging policy gave it, and the outcome (1 won, 0 lost)."""

    choice: IntArray
    propensity: FloatArray
    reward: FloatArray

    def __post_init__(self) -> None:
        if not len(self.choice) == len(self.propensity) == len(self.reward):
            raise ValueError("choice, propensity and reward need one value per logged lead")


@dataclass(frozen=True)
class OffPolicyEstimate:
    """A target policy's win rate estimated from a log, beside the simulated truth.

    ``effective_sample_size`` is (sum w)^2 / sum w^2 of the importance weights
    w = target / logged propensity: how many logged leads the IPS estimate is
    really worth. ``truth`` is the mean TRUE win probability of the target's
    choices on the same leads (None on real data); ``logged_win_rate`` is what
    the logging policy itself won.
    """

    logging: str
    target: str
    decisions: int
    effective_sample_size: float
    ips: Interval
    snips: Interval
    dr: Interval
    truth: float | None
    logged_win_rate: float


def effective_sample_size(weights: FloatArray) -> float:
    """(sum w)^2 / sum w^2 of the importance weights: how many logged leads an
    importance-weighted estimate is really worth."""
    return float(weights.sum() ** 2 / max(float((weights**2).sum()), 1e-300))


def _estimates(
    log: LoggedDecisions, target: FloatArray, predicted: FloatArray, rows: IntArray
) -> tuple[float, float, float]:
    choice = log.choice[rows]
    reward, propensity = log.reward[rows], log.propensity[rows]
    target_rows = target[rows]
    target_propensity = target_rows[np.arange(len(rows)), choice]
    scores = predicted[rows]
    return (
        ips_estimate(reward, propensity, target_propensity),
        snips_estimate(reward, propensity, target_propensity),
        doubly_robust_estimate(
            reward,
            propensity,
            target_propensity,
            scores[np.arange(len(rows)), choice],
            (target_rows * scores).sum(axis=1),
        ),
    )


def estimate_off_policy(
    logging: str,
    target_name: str,
    log: LoggedDecisions,
    target: FloatArray,
    predicted: FloatArray,
    true_probability: FloatArray | None,
    resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> OffPolicyEstimate:
    """IPS, SNIPS and DR of the policy giving each closer ``target`` (leads x closers
    probabilities, one-hot for a deterministic policy) on the logged leads;
    ``predicted`` is the reward model's leads x closers matrix."""
    n = len(log.choice)
    point = _estimates(log, target, predicted, np.arange(n))
    draws = np.array(
        [_estimates(log, target, predicted, rng.integers(0, n, n)) for _ in range(resamples)]
    )
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    ips, snips, dr = (Interval(point[k], float(low[k]), float(high[k])) for k in range(3))
    weights = target[np.arange(n), log.choice] / log.propensity
    return OffPolicyEstimate(
        logging=logging,
        target=target_name,
        decisions=n,
        effective_sample_size=effective_sample_size(weights),
        ips=ips,
        snips=snips,
        dr=dr,
        truth=None
        if true_probability is None
        else float((target * true_probability).sum(1).mean()),
        logged_win_rate=float(log.reward.mean()),
    )


def off_policy_estimates(
    logs: dict[str, tuple[Trace, LoggedDecisions]],
    items: Sequence[str],
    roster: Sequence[Rep],
    config: PolicyConfig,
    predicted: FloatArray,
    true_probability: FloatArray | None,
    settings: ReplaySettings,
    rng: np.random.Generator,
) -> tuple[OffPolicyEstimate, ...]:
    """From each log (named, with the replay that holds its situations), the greedy policy
    (exploration 0, deciding in each logged situation) and round-robin.

    Round-robin's target is the share of work it gives each closer whatever the lead
    (weight / total weight): its choice depends on the loads alone, so on another
    policy's loads it would take that policy's leftovers, not what round-robin earns.
    """
    weight = np.array([rep.weight for rep in roster])
    spread = np.broadcast_to(weight / weight.sum(), predicted.shape)
    greedy = replace(config, exploration=0.0)
    out = []
    for logging, (trace, log) in logs.items():
        targets = {
            "greedy": one_hot(choices_on(trace, items, predicted, roster, greedy), len(roster)),
            "round_robin": spread,
        }
        for name, target in targets.items():
            out.append(
                estimate_off_policy(
                    logging,
                    name,
                    log,
                    target,
                    predicted,
                    true_probability,
                    settings.resamples,
                    settings.confidence,
                    rng,
                )
            )
    return tuple(out)
