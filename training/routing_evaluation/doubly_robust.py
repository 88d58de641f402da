"""Routing evaluation without a simulator: doubly robust estimates from the CRM history.

On real data nobody knows what another closer would have won. What the
history does hold is, per decided deal of the closer-fit validation period,
the closer it went to and the outcome; `training.routing_evaluation.propensity`
estimates how likely the old routing was to make that choice. From that, the
doubly robust (DR) estimate of a policy's win rate on the same deals is the mean over deals of

    V_hat(deal) + target(logged closer) / propensity(logged closer) x (won - r_hat)

where r_hat is the closer-fit model's P(win) and V_hat the model's value of the
policy's choice. The outcome model is the fitted closer-fit model, trained
and calibrated on the periods before validation, so it never saw these deals.
DR is right if either the propensities or the outcome model are; the model's
own optimism about its favourite closers (the winner's curse of an argmax over
noisy fits) is what the correction term takes back.

Policies, all among the closers the serving rules allow (a closer's region and
segment, as `leadscore route` applies them) and the history could have chosen
(its detected territory rules):

- **leadscore**: the capacity-aware policy as served (fairness term, no
  exploration), replayed lead by lead in time order
  (`training.routing_evaluation.served_replay`);
- **round-robin**: the share of work each eligible closer gets by weight;
- **historical**: what the history itself won (its on-policy mean);
- **placebo**: the leadscore policy driven by the fit with closer labels
  permuted within each territory/segment group (`permuted_within_group`):
  everything a fit carries but which closer is which. Its lift is what noise
  and territory alone look like.

Every figure has a percentile-bootstrap interval over deals (one shared set
of resamples, so lifts are paired), every policy its effective sample size,
and every lift a verdict in words: better, no evidence, worse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from models.rep_fit import RepFitModel

from models.assignment.types import PolicyConfig
from training.routing_evaluation.lifts import (
    Interval,
    Verdict,
    bootstrap_means,
    lift_sentence,
    verdict,
)
from training.routing_evaluation.off_policy import effective_sample_size
from training.routing_evaluation.propensity import (
    PROPENSITY_FLOOR,
    BoolArray,
    EstimatedPropensities,
    FloatArray,
    IntArray,
    estimate_propensities,
)
from training.routing_evaluation.replay import ReplaySettings, Trace, one_hot
from training.routing_evaluation.served_replay import (
    active_closers,
    closer_weights,
    policy_eligible,
    replay_capacities,
    replay_served_policy,
    territory_groups,
)
from training.routing_evaluation.simulated import Truth

POLICIES = ("leadscore", "round_robin", "historical", "placebo")
LABEL = {
    "leadscore": "leadscore policy",
    "round_robin": "round-robin",
    "historical": "historical assignment",
    "placebo": "placebo policy",
}
LIFTS = {
    "round_robin": ("leadscore", "round_robin"),
    "historical": ("leadscore", "historical"),
    "placebo_over_round_robin": ("placebo", "round_robin"),
}
"""Each lift: (policy, the one it is compared with)."""
LIFT_WORDS = {
    "round_robin": ("routing by fit", "round-robin"),
    "historical": ("routing by fit", "the historical assignment"),
    "placebo_over_round_robin": ("the placebo policy", "round-robin"),
}
"""Each lift in a sentence: (who, what it is compared with)."""
OUTCOME_MODEL = (
    "the closer-fit model itself, fitted and calibrated on the periods before validation: "
    "it never saw the evaluated deals"
)
POLICY_REPLAYED = (
    "the capacity-aware leadscore policy as served (fairness term, no exploration, "
    "region/segment rules of the roster), replayed in time order"
)

PlaceboScores = Callable[[FloatArray, Sequence[Sequence[int]], np.random.Generator], FloatArray]
"""(leads x closers fit, groups of closer positions, rng) -> a fit that no longer knows
which closer of a group is which."""


def permuted_within_group(
    scores: FloatArray, groups: Sequence[Sequence[int]], rng: np.random.Generator
) -> FloatArray:
    """The fit with each closer's column replaced by another closer's of the same group
    (a random cycle, so no closer keeps its own where the group has two or more)."""
    out = scores.copy()
    for group in groups:
        members = np.asarray(group, dtype=np.int64)
        if members.size < 2:
            continue
        order = rng.permutation(members)
        out[:, order] = scores[:, np.roll(order, 1)]
    return out


@dataclass(frozen=True)
class PolicyEstimate:
    """One policy's DR win rate on the evaluated deals, its effective sample size
    ((sum w)^2 / sum w^2 of the importance weights) and, on generated data, the truth."""

    value: Interval
    effective_sample_size: float
    truth: float | None = None


@dataclass(frozen=True)
class RoutingEstimate:
    """The doubly robust evaluation of the validation period, for the run and the console."""

    deals: int
    closers: tuple[str, ...]
    rules: str
    strata: tuple[str, ...]
    propensity_exceptions: int
    policies: dict[str, PolicyEstimate]
    lifts: dict[str, Lift]
    overflow_share: float
    """Leads whose eligible closers were all full in the leadscore replay."""
    settings: ReplaySettings
    config: PolicyConfig
    propensity_check: PropensityCheck | None = None
    chosen: dict[str, IntArray] = field(default_factory=dict, repr=False, compare=False)
    propensities_logged: int = 0
    """Evaluated deals whose propensity the service logged when it routed them
    (`decisions.parquet` of a store export), used instead of the estimated one."""


def dr_terms(
    target: FloatArray,
    logged: IntArray,
    propensity: FloatArray,
    won: FloatArray,
    predicted: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Per deal: the DR term of the policy giving each closer `target` (deals x closers),
    and its importance weight target(logged) / propensity(logged)."""
    rows = np.arange(len(logged))
    weight = target[rows, logged] / propensity
    model_value = (target * predicted).sum(axis=1)
    return model_value + weight * (won - predicted[rows, logged]), weight


@dataclass(frozen=True)
class _Deals:
    """The evaluated deals as the history logged them: the closer each went to (a
    position in the closers), the outcome, the propensity of that choice, and whether
    the service logged that propensity itself (else it is estimated)."""

    rows: pd.DataFrame
    logged: IntArray
    won: FloatArray
    propensity: FloatArray
    service_logged: BoolArray


def _logged_deals(
    history: pd.DataFrame,
    evaluated: IntArray,
    closers: Sequence[str],
    propensities: EstimatedPropensities,
    logged_propensity: FloatArray | None,
) -> _Deals:
    rows = history.iloc[evaluated].reset_index(drop=True)
    position = {c: j for j, c in enumerate(closers)}
    logged = np.array([position[c] for c in rows["closer_id"].astype(str)], dtype=np.int64)
    propensity = propensities.of_chosen(logged)
    known = np.zeros(len(rows), dtype=bool)
    if logged_propensity is not None:
        given = np.asarray(logged_propensity, dtype=np.float64)[evaluated]
        known = np.isfinite(given)
        propensity = np.where(known, np.maximum(given, PROPENSITY_FLOOR), propensity)
    won = rows["won"].astype(bool).to_numpy().astype(np.float64)
    return _Deals(rows, logged, won, propensity, known)


@dataclass(frozen=True)
class Lift:
    """A paired difference of two policies' DR win rates, with its verdict."""

    policy: str
    over: str
    interval: Interval
    verdict: Verdict
    sentence: str
    truth: float | None = None


def _lifts(differences: dict[str, Interval], true_values: dict[str, float]) -> dict[str, Lift]:
    lifts = {}
    for key, (policy, over) in LIFTS.items():
        interval = differences[key]
        who, words = LIFT_WORDS[key]
        lifts[key] = Lift(
            policy=policy,
            over=over,
            interval=interval,
            verdict=verdict(interval),
            sentence=lift_sentence(interval, words, who),
            truth=true_values[policy] - true_values[over] if true_values else None,
        )
    return lifts


def estimate_routing(
    history: pd.DataFrame,
    evaluated: IntArray,
    reps: pd.DataFrame,
    fit_model: RepFitModel,
    *,
    config: PolicyConfig | None = None,
    settings: ReplaySettings | None = None,
    placebo: PlaceboScores = permuted_within_group,
    seed: int = 0,
    truth: Truth | None = None,
    logged_propensity: FloatArray | None = None,
) -> RoutingEstimate:
    """DR estimates of the policies on the deals `history.iloc[evaluated]` (time order).

    `history` holds every decided deal known by the end of the evaluated period (lead
    fields, closer_id, won), which the propensities are learnt from (cross-fitted).
    `logged_propensity` (one per `history` row, NaN where unknown) is the probability the
    service's own policy gave the chosen closer when it routed the deal: where known it
    replaces the estimate, which then only decides the eligible closers.
    `truth` (generated data only) is read after everything is estimated, to check it.
    """
    config = replace(config or PolicyConfig(), exploration=0.0)
    settings = settings or ReplaySettings()
    history = history.reset_index(drop=True)
    evaluated = np.asarray(evaluated, dtype=np.int64)
    if evaluated.size == 0:
        raise ValueError("no decided deal in the evaluated period")
    propensities: EstimatedPropensities = estimate_propensities(history, reps, evaluated, seed=seed)
    closers = propensities.rules.closers
    roster = active_closers(reps, closers)
    if not roster:
        raise ValueError("reps: no active closer to route leads to")
    deals = _logged_deals(history, evaluated, closers, propensities, logged_propensity)
    eligible = policy_eligible(deals.rows, reps, closers, roster, propensities.eligible)
    weight = closer_weights(reps, closers)
    capacity = replay_capacities(eligible, weight, settings)

    predicted = np.asarray(fit_model.fit(deals.rows, list(closers)), dtype=np.float64)
    rng = np.random.default_rng([seed, 17])
    placebo_scores = placebo(predicted, territory_groups(reps, closers, roster), rng)
    ours, overflow = replay_served_policy(
        predicted, eligible, capacity, weight, closers, roster, config, settings
    )
    fake, _ = replay_served_policy(
        placebo_scores, eligible, capacity, weight, closers, roster, config, settings
    )
    targets = _targets(ours, fake, eligible, weight)
    values, differences, ess = _dr_estimates(deals, targets, predicted, settings, seed)
    true_values: dict[str, float] = {}
    check = None
    if truth is not None:
        true_values = _true_values(truth, deals, closers, targets)
        check = _propensity_check(
            truth, deals, closers, propensities, predicted, targets, settings, seed
        )
    return RoutingEstimate(
        deals=len(deals.rows),
        closers=closers,
        rules=propensities.rules.describe(),
        strata=propensities.strata,
        propensity_exceptions=propensities.exceptions(deals.logged),
        policies={
            name: PolicyEstimate(values[name], ess[name], true_values.get(name))
            for name in POLICIES
        },
        lifts=_lifts(differences, true_values),
        overflow_share=overflow / len(deals.rows),
        settings=settings,
        config=config,
        propensity_check=check,
        chosen={"leadscore": ours.chosen, "placebo": fake.chosen, "logged": deals.logged},
        propensities_logged=int(deals.service_logged.sum()),
    )


def _targets(
    ours: Trace, placebo: Trace, eligible: BoolArray, weight: FloatArray
) -> dict[str, FloatArray]:
    """Each replayed policy as probabilities over the closers (deals x closers):
    round-robin gives each eligible closer its share by weight."""
    spread = eligible * weight[None, :]
    return {
        "leadscore": one_hot(ours.chosen, len(weight)),
        "round_robin": spread / spread.sum(axis=1, keepdims=True),
        "placebo": one_hot(placebo.chosen, len(weight)),
    }


def _dr_estimates(
    deals: _Deals,
    targets: dict[str, FloatArray],
    predicted: FloatArray,
    settings: ReplaySettings,
    seed: int,
) -> tuple[dict[str, Interval], dict[str, Interval], dict[str, float]]:
    """Each policy's DR win rate and each lift, with paired bootstrap intervals, and each
    policy's effective sample size; the historical one is its on-policy mean."""
    terms: dict[str, FloatArray] = {}
    ess: dict[str, float] = {}
    for name, target in targets.items():
        terms[name], weights = dr_terms(
            target, deals.logged, deals.propensity, deals.won, predicted
        )
        ess[name] = effective_sample_size(weights)
    terms["historical"] = deals.won  # on-policy: what the history itself won
    ess["historical"] = float(len(deals.won))
    columns = [terms[name] for name in POLICIES]
    columns += [terms[a] - terms[b] for a, b in LIFTS.values()]
    intervals = bootstrap_means(
        np.vstack(columns), settings.resamples, settings.confidence, np.random.default_rng(seed)
    )
    values = dict(zip(POLICIES, intervals[: len(POLICIES)], strict=True))
    differences = dict(zip(LIFTS, intervals[len(POLICIES) :], strict=True))
    return values, differences, ess


def _true_values(
    truth: Truth, deals: _Deals, closers: Sequence[str], targets: dict[str, FloatArray]
) -> dict[str, float]:
    """Each policy's mean TRUE win probability on the deals (generated data only)."""
    true_p = truth.win_probability(deals.rows, list(closers))
    out = {name: float((target * true_p).sum(axis=1).mean()) for name, target in targets.items()}
    out["historical"] = float(true_p[np.arange(len(deals.logged)), deals.logged].mean())
    return out


@dataclass(frozen=True)
class PropensityCheck:
    """How the estimated propensities compare with the generator's known ones (truth only)."""

    mean_absolute_error: float
    logged_relative_error: float
    lift_over_round_robin_with_known: Interval


def _propensity_check(
    truth: Truth,
    deals: _Deals,
    closers: Sequence[str],
    estimated: EstimatedPropensities,
    predicted: FloatArray,
    targets: dict[str, FloatArray],
    settings: ReplaySettings,
    seed: int,
) -> PropensityCheck:
    """The estimated propensities beside the generator's known ones, and the lift over
    round-robin the known ones would have given."""
    known = truth.historical_propensity(deals.rows, list(closers))
    logged = deals.logged
    at = np.arange(len(logged))
    lift = [
        dr_terms(targets[name], logged, known[at, logged], deals.won, predicted)[0]
        for name in ("leadscore", "round_robin")
    ]
    (interval,) = bootstrap_means(
        (lift[0] - lift[1])[None, :],
        settings.resamples,
        settings.confidence,
        np.random.default_rng(seed),
    )
    return PropensityCheck(
        mean_absolute_error=float(np.abs(estimated.probability - known).mean()),
        logged_relative_error=float(
            np.abs(estimated.of_chosen(logged) / known[at, logged] - 1.0).mean()
        ),
        lift_over_round_robin_with_known=interval,
    )
