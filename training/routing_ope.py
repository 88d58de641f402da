"""Routing evaluation without a simulator: doubly robust estimates from the CRM history.

On real data nobody knows what another closer would have won. What the
history does hold is, per decided deal of the closer-fit validation period,
the closer it went to and the outcome; `training.propensity` estimates how
likely the old routing was to make that choice. From that, the doubly robust
(DR) estimate of a policy's win rate on the same deals is the mean over deals of

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
  exploration), replayed lead by lead in time order with the capacity rules of
  `training.policy_replay` (each closer may hold `headroom` times the open
  work an even split over its eligible leads would give it; when every eligible
  closer is full the best one takes the lead anyway and it is counted);
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
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from data.contract import Role
from models.assignment import Candidate, Item, PolicyConfig, Rep, decide_one
from models.rep_fit_model import RepFitModel
from training.policy_evaluation import Truth
from training.policy_ope import Interval, bootstrap_means
from training.policy_replay import ReplaySettings, Trace, replay
from training.propensity import (
    PROPENSITY_FLOOR,
    BoolArray,
    EstimatedPropensities,
    FloatArray,
    IntArray,
    estimate_propensities,
    lead_segments,
)

Verdict = Literal["better", "no evidence", "worse"]
POLICIES = ("leadscore", "round_robin", "historical", "placebo")
LABEL = {"leadscore": "leadscore policy", "round_robin": "round-robin",
         "historical": "historical assignment", "placebo": "placebo policy"}  # fmt: skip
LIFTS = {
    "round_robin": ("leadscore", "round_robin"),
    "historical": ("leadscore", "historical"),
    "placebo_over_round_robin": ("placebo", "round_robin"),
}
"""Each lift: (policy, the one it is compared with)."""
LIFT_WORDS = {"round_robin": ("routing by fit", "round-robin"),
              "historical": ("routing by fit", "the historical assignment"),
              "placebo_over_round_robin": ("the placebo policy", "round-robin")}  # fmt: skip
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


def verdict(lift: Interval) -> Verdict:
    """ "better" when the whole interval is above 0, "worse" when below, else "no evidence"."""
    if lift.low > 0:
        return "better"
    if lift.high < 0:
        return "worse"
    return "no evidence"


def lift_sentence(lift: Interval, over: str, who: str = "routing by fit") -> str:
    """The lift in words, always with its interval."""
    figures = f"lift {lift.value:+.3f}, 95% CI {lift.low:+.3f} to {lift.high:+.3f}"
    word = verdict(lift)
    if word == "better":
        return f"better: {who} beats {over} on this history ({figures})"
    if word == "worse":
        return f"worse: {who} does worse than {over} on this history ({figures})"
    return f"no evidence that {who} beats {over} on this history ({figures})"


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
class Lift:
    """A paired difference of two policies' DR win rates, with its verdict."""

    policy: str
    over: str
    interval: Interval
    verdict: Verdict
    sentence: str
    truth: float | None = None


@dataclass(frozen=True)
class PropensityCheck:
    """How the estimated propensities compare with the generator's known ones (truth only)."""

    mean_absolute_error: float
    logged_relative_error: float
    lift_over_round_robin_with_known: Interval


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


def _roster(reps: pd.DataFrame, closers: Sequence[str]) -> list[int]:
    """Positions (in `closers`) of the active closers of the reps table."""
    rows = reps[(reps["role"] == Role.closer.value) & reps["active"].fillna(True).astype(bool)]
    active = set(rows["rep_id"].astype(str))
    return [j for j, c in enumerate(closers) if c in active]


def _attribute(reps: pd.DataFrame, closers: Sequence[str], name: str) -> list[str | None]:
    """Each closer's `name` column in the reps table as text (None if blank or unknown)."""
    if name not in reps:
        return [None] * len(closers)
    table = reps.drop_duplicates("rep_id").set_index("rep_id")[name]
    values = [table.get(c) for c in closers]
    return [None if v is None or pd.isna(v) else str(v) for v in values]


def serving_eligible(
    regions: npt.NDArray[np.object_],
    segments: npt.NDArray[np.object_],
    closer_regions: Sequence[str | None],
    closer_segments: Sequence[str | None],
    roster: Sequence[int],
    m: int,
) -> BoolArray:
    """(leads x closers): may the policy give the lead to the closer, by the roster's rules
    (a closer with a region takes only that region's leads; a lead without one, anyone)."""
    out = np.zeros((len(regions), m), dtype=bool)
    for j in roster:
        ok = np.ones(len(regions), dtype=bool)
        if closer_regions[j] is not None:
            ok &= (regions == closer_regions[j]) | pd.isna(regions)
        if closer_segments[j] is not None:
            ok &= (segments == closer_segments[j]) | pd.isna(segments)
        out[:, j] = ok
    unserved = ~out.any(axis=1)
    # A lead of nobody's territory: anyone may take it.
    out[np.ix_(np.flatnonzero(unserved), np.asarray(roster, dtype=np.int64))] = True
    return out


def _capacities(eligible: BoolArray, weight: FloatArray, settings: ReplaySettings) -> IntArray:
    """Each closer may hold `headroom` times the open work an even (by weight) split
    over its eligible leads would give it."""
    share = eligible * weight[None, :]
    share = share / np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
    demand = share.mean(axis=0) * settings.hold_leads * settings.headroom
    return np.asarray(np.maximum(1, np.ceil(demand)), dtype=np.int64)


def _replay_policy(
    scores: FloatArray,
    eligible: BoolArray,
    capacity: IntArray,
    weight: FloatArray,
    closers: Sequence[str],
    roster: Sequence[int],
    config: PolicyConfig,
    settings: ReplaySettings,
) -> tuple[Trace, int]:
    """The served policy over the leads in time order; (trace, leads that found every
    eligible closer full and went to the best one anyway)."""
    overflow = 0
    ids = list(closers)
    position = {c: j for j, c in enumerate(ids)}

    def choose(t: int, loads: IntArray) -> tuple[int, FloatArray, bool]:
        nonlocal overflow
        options = [j for j in roster if eligible[t, j]]
        reps = [Rep(ids[j], int(capacity[j]), int(loads[j]), weight=float(weight[j]))
                for j in options]  # fmt: skip
        item = Item(f"lead-{t}", [Candidate(ids[j], float(scores[t, j])) for j in options])
        decision = decide_one(item, reps, config, rng=0)
        if decision.chosen is None:
            overflow += 1
            chosen = max(options, key=lambda j: (scores[t, j], -j))
        else:
            chosen = position[decision.chosen]
        one_hot = np.zeros(len(capacity))
        one_hot[chosen] = 1.0
        return chosen, one_hot, False

    trace = replay(len(scores), capacity, settings.hold_leads, choose)
    return trace, overflow


def _one_hot(chosen: IntArray, m: int) -> FloatArray:
    out = np.zeros((len(chosen), m))
    out[np.arange(len(chosen)), chosen] = 1.0
    return out


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


def _ess(weight: FloatArray) -> float:
    return float(weight.sum() ** 2 / max(float((weight**2).sum()), 1e-300))


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
    m = len(closers)
    roster = _roster(reps, closers)
    if not roster:
        raise ValueError("reps: no active closer to route leads to")
    rows = history.iloc[evaluated].reset_index(drop=True)
    position = {c: j for j, c in enumerate(closers)}
    logged = np.array([position[c] for c in rows["closer_id"].astype(str)], dtype=np.int64)
    won = rows["won"].astype(bool).to_numpy().astype(np.float64)
    propensity = propensities.of_chosen(logged)
    known = np.zeros(len(rows), dtype=bool)
    if logged_propensity is not None:
        given = np.asarray(logged_propensity, dtype=np.float64)[evaluated]
        known = np.isfinite(given)
        propensity = np.where(known, np.maximum(given, PROPENSITY_FLOOR), propensity)

    regions = np.array([None if pd.isna(v) else str(v) for v in rows["company_region"]], object)
    segments = lead_segments(rows["company_size"])
    closer_regions = _attribute(reps, closers, "region")
    closer_segments = _attribute(reps, closers, "segment")
    served = serving_eligible(regions, segments, closer_regions, closer_segments, roster, m)
    # Only closers the history could have given a deal to: a choice it never made has no
    # outcome to learn from, and the fit's own value of it is the optimism DR corrects.
    eligible = served & propensities.eligible
    unsupported = ~eligible.any(axis=1)
    eligible[unsupported] = served[unsupported]
    capacity_column = _attribute(reps, closers, "capacity")
    weight = np.array([float(c) if c is not None else 1.0 for c in capacity_column])
    weight = np.maximum(weight, 1.0)
    capacity = _capacities(eligible, weight, settings)

    predicted = np.asarray(fit_model.fit(rows, list(closers)), dtype=np.float64)
    groups: dict[tuple[str | None, str | None], list[int]] = {}
    for j in roster:
        groups.setdefault((closer_regions[j], closer_segments[j]), []).append(j)
    rng = np.random.default_rng([seed, 17])
    placebo_scores = placebo(predicted, list(groups.values()), rng)

    ours, overflow = _replay_policy(
        predicted, eligible, capacity, weight, closers, roster, config, settings
    )
    fake, _ = _replay_policy(
        placebo_scores, eligible, capacity, weight, closers, roster, config, settings
    )
    spread = eligible * weight[None, :]
    targets = {
        "leadscore": _one_hot(ours.chosen, m),
        "round_robin": spread / spread.sum(axis=1, keepdims=True),
        "placebo": _one_hot(fake.chosen, m),
    }
    terms: dict[str, FloatArray] = {}
    ess: dict[str, float] = {}
    for name, target in targets.items():
        terms[name], weights = dr_terms(target, logged, propensity, won, predicted)
        ess[name] = _ess(weights)
    terms["historical"] = won  # on-policy: what the history itself won
    ess["historical"] = float(len(won))
    columns = [terms[name] for name in POLICIES]
    columns += [terms[a] - terms[b] for a, b in LIFTS.values()]
    intervals = bootstrap_means(
        np.vstack(columns), settings.resamples, settings.confidence, np.random.default_rng(seed)
    )
    values = dict(zip(POLICIES, intervals[: len(POLICIES)], strict=True))
    differences = dict(zip(LIFTS, intervals[len(POLICIES) :], strict=True))

    true_values: dict[str, float] = {}
    check = None
    if truth is not None:
        true_p = truth.win_probability(rows, list(closers))
        for name, target in targets.items():
            true_values[name] = float((target * true_p).sum(axis=1).mean())
        true_values["historical"] = float(true_p[np.arange(len(logged)), logged].mean())
        check = _propensity_check(truth, rows, closers, propensities, logged, won, predicted,
                                  targets, settings, seed)  # fmt: skip
    policies = {
        name: PolicyEstimate(values[name], ess[name], true_values.get(name)) for name in POLICIES
    }
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
    return RoutingEstimate(
        deals=len(rows),
        closers=closers,
        rules=propensities.rules.describe(),
        strata=propensities.strata,
        propensity_exceptions=propensities.exceptions(logged),
        policies=policies,
        lifts=lifts,
        overflow_share=overflow / len(rows),
        settings=settings,
        config=config,
        propensity_check=check,
        chosen={"leadscore": ours.chosen, "placebo": fake.chosen, "logged": logged},
        propensities_logged=int(known.sum()),
    )


def _propensity_check(
    truth: Truth,
    rows: pd.DataFrame,
    closers: Sequence[str],
    estimated: EstimatedPropensities,
    logged: IntArray,
    won: FloatArray,
    predicted: FloatArray,
    targets: dict[str, FloatArray],
    settings: ReplaySettings,
    seed: int,
) -> PropensityCheck:
    """The estimated propensities beside the generator's known ones, and the lift over
    round-robin the known ones would have given."""
    known = truth.historical_propensity(rows, list(closers))
    at = np.arange(len(logged))
    lift = [
        dr_terms(targets[name], logged, known[at, logged], won, predicted)[0]
        for name in ("leadscore", "round_robin")
    ]
    (interval,) = bootstrap_means(
        (lift[0] - lift[1])[None, :], settings.resamples, settings.confidence,
        np.random.default_rng(seed),
    )  # fmt: skip
    return PropensityCheck(
        mean_absolute_error=float(np.abs(estimated.probability - known).mean()),
        logged_relative_error=float(
            np.abs(estimated.of_chosen(logged) / known[at, logged] - 1.0).mean()
        ),
        lift_over_round_robin_with_known=interval,
    )
