"""The assignment policy: from predicted fits to a fair, capacity-aware choice of rep.

One policy serves closers (a qualified lead -> a closer) and account managers (a
won customer -> an account manager). Pure functions on frozen dataclasses; the
API and jobs own the roster, the loads and the logging.

Hard rules come first: an inactive, unavailable or full rep, or one whose
region/segment restrictions exclude the item, is ineligible and reported with
the reason. Among the eligible reps the policy maximises

    objective_i = fit_i * value_i - fairness * S * excess_i
    excess_i    = (load_i / weight_i - level) / (level + 1)
    level       = sum(load) / sum(weight) over the reps that can take work now

``level`` is the load per unit of weight if the open work were split by weight,
so ``excess_i`` is how far rep i is above (or below, negative) its weighted fair
share, relative to that share: scale-free, so it means the same for a team of
3 with 5 open deals each as for a team of 30 with 50. The ``+ 1`` is one item
of smoothing, so an empty team does not divide by zero and the first items of
the day are not punished as 100% overloads. ``S`` is the mean expected value
of the eligible options, which puts the penalty in the same currency as
``fit * value``: ``fairness = 1`` means being at twice one's fair share costs as
much as an average option is worth. With equal expected values any
``fairness > 0`` reduces to weighted round-robin. Weight is a share of work, not capacity:
give weight = capacity to fill books in proportion to their size.

Exploration is epsilon-greedy (the best option with probability
``1 - epsilon + epsilon/n``, every other one ``epsilon/n``) or softmax over
``objective / (temperature * S)``; the probability of every option is
recorded so routing can be evaluated later by inverse propensity scoring
(see ``models.assignment.off_policy_estimators``). Ties go to the smaller rep_id.

Without any fit (the fit model is missing) the policy falls back to weighted
round-robin: the lowest load per weight wins, ties by rep_id, no exploration.
Batch assignment lives in ``models.assignment.optimal_batch``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from models.assignment.types import (
    Candidate,
    Decision,
    Ineligible,
    Item,
    Policy,
    PolicyConfig,
    RankedRep,
    Rep,
)


def check_roster(reps: Sequence[Rep]) -> dict[str, Rep]:
    roster: dict[str, Rep] = {}
    for rep in reps:
        if rep.rep_id in roster:
            raise ValueError(f"reps: duplicate rep_id {rep.rep_id!r}")
        roster[rep.rep_id] = rep
    return roster


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _names(values: Collection[str]) -> str:
    return "[" + ", ".join(sorted(values)) + "]"


def hard_rule_reasons(rep: Rep, item: Item) -> list[str]:
    """Why ``rep`` may not take ``item`` (empty: it may)."""
    reasons = []
    if not rep.active:
        reasons.append("inactive")
    if not rep.available:
        reasons.append("unavailable")
    if rep.load >= rep.capacity:
        reasons.append(f"at capacity {rep.load}/{rep.capacity}")
    if rep.regions is not None and item.region is not None and item.region not in rep.regions:
        reasons.append(f"region {item.region} not in {_names(rep.regions)}")
    if rep.segments is not None and item.segment is not None and item.segment not in rep.segments:
        reasons.append(f"segment {item.segment} not in {_names(rep.segments)}")
    return reasons


@dataclass(frozen=True)
class Screen:
    """An item after the hard rules: its eligible (rep, candidate) pairs and the rest."""

    item: Item
    eligible: tuple[tuple[Rep, Candidate], ...]
    ineligible: tuple[Ineligible, ...]
    has_fits: bool


def screen(item: Item, roster: dict[str, Rep]) -> Screen:
    """Apply the hard rules. A rep without a fit while others have one is ineligible:
    there is nothing to compare it on."""
    seen: set[str] = set()
    for c in item.candidates:
        if c.rep_id in seen:
            raise ValueError(f"candidates: duplicate rep_id {c.rep_id!r} (item {item.item_id!r})")
        if c.rep_id not in roster:
            raise ValueError(
                f"candidates: unknown rep_id {c.rep_id!r} not in reps (item {item.item_id!r})"
            )
        seen.add(c.rep_id)
    has_fits = any(c.fit is not None for c in item.candidates)
    eligible, ineligible = [], []
    for c in sorted(item.candidates, key=lambda c: c.rep_id):
        rep = roster[c.rep_id]
        reasons = hard_rule_reasons(rep, item)
        if has_fits and c.fit is None:
            reasons.append("no fit score")
        if reasons:
            ineligible.append(Ineligible(c.rep_id, "; ".join(reasons)))
        else:
            eligible.append((rep, c))
    return Screen(item, tuple(eligible), tuple(ineligible), has_fits)


def fair_level(reps: Collection[Rep]) -> float:
    """Load per unit of weight if the open work of the reps who can take work now
    (active, available, not full) were split by weight."""
    working = [r for r in reps if r.active and r.available and r.load < r.capacity]
    weight = sum(r.weight for r in working)
    return sum(r.load for r in working) / weight if weight else 0.0


def excess(load: float, weight: float, level: float) -> float:
    """Relative excess over the weighted fair share (see the module docstring)."""
    return (load / weight - level) / (level + 1.0)


def value_scale(expected_values: Collection[float]) -> float:
    """S: the mean expected value, or 1 when there is none (all fits zero or missing)."""
    mean = sum(expected_values) / len(expected_values) if expected_values else 0.0
    return mean if mean > 0 else 1.0


def option_reason(rep: Rep, c: Candidate, penalty: float) -> str:
    assert c.fit is not None
    ev = c.fit * c.value
    text = f"fit {c.fit:.2f} x value {_num(c.value)} = {_num(ev)}; load {rep.load}/{rep.capacity}"
    if rep.weight != 1.0:
        text += f" (weight {rep.weight:g})"
    if penalty:
        text += (
            f"; fairness {'-' if penalty > 0 else '+'}{_num(abs(penalty))} -> {_num(ev - penalty)}"
        )
    return f"{text}; {c.reason}" if c.reason else text


def no_choice_reason(s: Screen) -> str:
    if not s.item.candidates:
        return "no eligible rep: no candidates were given"
    why = "; ".join(f"{i.rep_id}: {i.reason}" for i in s.ineligible)
    return f"no eligible rep among {len(s.ineligible)} considered ({why})"


def _rng(
    item_id: str, config: PolicyConfig, rng: np.random.Generator | int | None
) -> np.random.Generator:
    """The caller's generator or seed, else one derived from (config.seed, item_id):
    reproducible, yet a different draw for every item under one fixed seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None:
        return np.random.default_rng(rng)
    if config.seed is None:
        return np.random.default_rng()
    digest = int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "little")
    return np.random.default_rng([config.seed, digest])


def _probabilities(objectives: list[float], scale: float, config: PolicyConfig) -> list[float]:
    """Exploration probabilities for options ranked best first."""
    n = len(objectives)
    if config.exploration == 0 or n == 1:
        return [1.0] + [0.0] * (n - 1)
    if config.mode == "epsilon_greedy":
        eps = config.exploration
        return [(1.0 - eps if i == 0 else 0.0) + eps / n for i in range(n)]
    z = np.asarray(objectives) - objectives[0]
    weights = np.exp(z / (config.exploration * scale))
    return [float(w) for w in weights / weights.sum()]


def _fallback(s: Screen) -> Decision:
    """Weighted round-robin when no fits exist: lowest load per weight, ties by rep_id."""
    ranked = sorted(s.eligible, key=lambda rc: (rc[0].load / rc[0].weight, rc[0].rep_id))
    options = tuple(
        RankedRep(
            rep_id=rep.rep_id,
            fit=None,
            value=c.value,
            expected_value=None,
            penalty=0.0,
            objective=-rep.load / rep.weight,
            propensity=float(i == 0),
            reason=f"load {rep.load}/{rep.capacity}, weight {rep.weight:g}: "
            f"{rep.load / rep.weight:.3g} per weight" + (f"; {c.reason}" if c.reason else ""),
        )
        for i, (rep, c) in enumerate(ranked)
    )
    best = options[0]
    return Decision(
        item_id=s.item.item_id,
        chosen=best.rep_id,
        policy="round_robin_fallback",
        reason=f"no fit scores for this item, so weighted round-robin: {best.rep_id} has the "
        f"lowest load per weight ({best.reason})",
        propensity=1.0,
        ranked=options,
        ineligible=s.ineligible,
    )


def decide_one(
    item: Item,
    reps: Sequence[Rep],
    config: PolicyConfig | None = None,
    *,
    rng: np.random.Generator | int | None = None,
) -> Decision:
    """Choose a rep for one item now (see the module docstring for the objective).

    ``rng`` (a Generator or a per-decision seed) makes the exploration draw
    reproducible; without it the draw comes from ``config.seed`` and the item id.
    Never raises for lack of a rep: the Decision then has no choice and a reason.
    """
    config = config or PolicyConfig()
    roster = check_roster(reps)
    s = screen(item, roster)
    if not s.eligible:
        policy: Policy = "expected_value" if s.has_fits else "round_robin_fallback"
        return Decision(item.item_id, None, policy, no_choice_reason(s), ineligible=s.ineligible)
    if not s.has_fits:
        return _fallback(s)

    level = fair_level(roster.values())
    # Every eligible rep has a fit here: screen() rules out the unscored ones.
    evs = [(c.fit or 0.0) * c.value for _, c in s.eligible]
    scale = value_scale(evs)
    scored = []
    for (rep, c), ev in zip(s.eligible, evs, strict=True):
        penalty = config.fairness * scale * excess(rep.load, rep.weight, level)
        scored.append((ev - penalty, rep, c, ev, penalty))
    scored.sort(key=lambda t: (-t[0], t[1].rep_id))
    probs = _probabilities([t[0] for t in scored], scale, config)
    options = tuple(
        RankedRep(rep.rep_id, c.fit, c.value, ev, pen, obj, p, option_reason(rep, c, pen))
        for (obj, rep, c, ev, pen), p in zip(scored, probs, strict=True)
    )
    u = _rng(item.item_id, config, rng).random()
    pick = min(int(np.searchsorted(np.cumsum(probs), u, side="right")), len(options) - 1)
    while probs[pick] == 0.0:  # never an option the log says was impossible (round-off)
        pick -= 1
    chosen, best = options[pick], options[0]
    if pick == 0:
        why = f"{best.rep_id} has the highest objective {_num(best.objective)} ({best.reason})"
        if best.propensity < 1.0:
            why += f"; chosen with probability {best.propensity:.3g} ({_explore(config)})"
    else:
        why = (
            f"exploration ({_explore(config)}) chose {chosen.rep_id} with probability "
            f"{chosen.propensity:.3g} ({chosen.reason}); the best was {best.rep_id} "
            f"at {_num(best.objective)}"
        )
    return Decision(
        item_id=item.item_id,
        chosen=chosen.rep_id,
        policy="expected_value",
        reason=why,
        propensity=chosen.propensity,
        explored=pick != 0,
        ranked=options,
        ineligible=s.ineligible,
    )


def _explore(config: PolicyConfig) -> str:
    if config.mode == "epsilon_greedy":
        return f"epsilon {config.exploration:g}"
    return f"softmax temperature {config.exploration:g}"


def record_assignments(reps: Sequence[Rep], decisions: Sequence[Decision]) -> tuple[Rep, ...]:
    """The roster after the decisions: each chosen rep's load grows by one per item."""
    taken: dict[str, int] = {}
    for d in decisions:
        if d.chosen is not None:
            taken[d.chosen] = taken.get(d.chosen, 0) + 1
    return tuple(replace(r, load=r.load + taken.get(r.rep_id, 0)) for r in reps)
