"""Batch assignment: many items at once, optimal under the reps' capacities.

It maximises the total objective of ``models.assignment.policy`` subject to each rep
taking at most ``capacity - load`` new items and each item at most one rep.
That is a linear assignment between items and rep *slots* (each rep replicated
into its free slots), solved exactly by ``scipy.optimize.linear_sum_assignment``.
The k-th new item of rep i pays the fairness penalty at the load it would
then carry,

    objective_ijk = fit_ij * value_ij - fairness * S * excess(load_i + k - 1, weight_i, level)

so every further item of a rep costs more and work spreads (greedy, in item
order, cannot see that a later item needs a rep more). ``S`` is the mean
expected value over all eligible (item, rep) pairs, so a unit of fairness
weighs the same for every item; a batch of one item decides exactly as
``decide_one`` without exploration. Assigning as many items as the rules and
capacities allow comes first (an ineligible pair costs more than any objective
can gain), the total objective second. An item without fit scores has
expected value 0 everywhere, so only the load term places it (the batch form
of the round-robin fallback; with ``fairness = 0`` it takes any free slot).
Batch mode does not explore: the chosen rep has propensity 1.

The cost matrix is items x free slots (each rep's slots capped at the number of
items) and the solver is roughly cubic: split batches of many thousands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from models.assignment.policy import (
    Screen,
    check_roster,
    excess,
    fair_level,
    no_choice_reason,
    option_reason,
    screen,
    value_scale,
)
from models.assignment.types import Candidate, Decision, Item, Policy, PolicyConfig, RankedRep, Rep


def assign_batch(
    items: Sequence[Item], reps: Sequence[Rep], config: PolicyConfig | None = None
) -> list[Decision]:
    """One Decision per item, in the order given; see the module docstring."""
    from scipy.optimize import linear_sum_assignment

    config = config or PolicyConfig()
    roster = check_roster(reps)
    if len({item.item_id for item in items}) != len(items):
        raise ValueError("items: duplicate item_id")
    screens = [screen(item, roster) for item in items]
    level = fair_level(roster.values())
    scale = value_scale([_ev(c) for s in screens for _, c in s.eligible if c.fit is not None])

    # Columns are rep slots, reps in rep_id order so the result does not depend on input order.
    slot_rep: list[Rep] = []
    slot_penalty: list[float] = []
    first_col: dict[str, int] = {}
    for rep in sorted(roster.values(), key=lambda r: r.rep_id):
        first_col[rep.rep_id] = len(slot_rep)
        if rep.active and rep.available:  # ineligible reps get no slots
            for k in range(1, min(rep.capacity - rep.load, len(items)) + 1):
                slot_rep.append(rep)
                slot_penalty.append(_penalty(rep, k, level, scale, config))

    objective = np.full((len(items), len(slot_rep)), np.nan)
    for j, s in enumerate(screens):
        for rep, c in s.eligible:
            start = first_col[rep.rep_id]
            cols = slice(start, start + min(rep.capacity - rep.load, len(items)))
            objective[j, cols] = _ev(c) - np.asarray(slot_penalty[cols])
    feasible = np.isfinite(objective)
    taken: dict[int, Rep] = {}
    if feasible.any():
        big = 2.0 * min(objective.shape) * float(np.abs(objective[feasible]).max()) + 1.0
        rows, cols = linear_sum_assignment(np.where(feasible, -objective, big))
        taken = {int(j): slot_rep[c] for j, c in zip(rows, cols, strict=True) if feasible[j, c]}

    # A rep's slots are interchangeable for the total: number its items in item order.
    nth: dict[int, int] = {}
    count: dict[str, int] = {}
    for j in sorted(taken):
        count[taken[j].rep_id] = nth[j] = count.get(taken[j].rep_id, 0) + 1
    return [
        _decision(s, taken.get(j), nth.get(j, 0), len(items), level, scale, config)
        for j, s in enumerate(screens)
    ]


def _ev(c: Candidate) -> float:
    """Expected value; 0 without a fit, so only the load term places such an item."""
    return c.fit * c.value if c.fit is not None else 0.0


def _penalty(rep: Rep, k: int, level: float, scale: float, config: PolicyConfig) -> float:
    """Fairness penalty of the rep's k-th new item in this batch."""
    return config.fairness * scale * excess(rep.load + k - 1, rep.weight, level)


def _describe(rep: Rep, c: Candidate, penalty: float) -> str:
    if c.fit is not None:
        return option_reason(rep, c, penalty)
    return f"no fit score; load {rep.load}/{rep.capacity} (weight {rep.weight:g})"


def _decision(
    s: Screen, rep: Rep | None, k: int, n: int, level: float, scale: float, config: PolicyConfig
) -> Decision:
    """Explain one item's part of the optimum; options are ranked as if each were alone."""
    policy: Policy = "batch_optimal" if s.has_fits else "round_robin_fallback"
    chosen = rep.rep_id if rep is not None else None
    scored = sorted(
        ((_ev(c) - _penalty(r, 1, level, scale, config), r, c) for r, c in s.eligible),
        key=lambda t: (-t[0], t[1].rep_id),
    )
    ranked = tuple(
        RankedRep(
            rep_id=r.rep_id,
            fit=c.fit,
            value=c.value,
            expected_value=_ev(c) if c.fit is not None else None,
            penalty=_penalty(r, 1, level, scale, config),
            objective=obj,
            propensity=float(r.rep_id == chosen),
            reason=_describe(r, c, _penalty(r, 1, level, scale, config)),
        )
        for obj, r, c in scored
    )
    if not s.eligible:
        why = no_choice_reason(s)
    elif rep is None:
        names = ", ".join(r.rep_id for r, _ in s.eligible)
        why = (
            f"capacity ran out: the eligible reps ({names}) are filled by this batch's other items"
        )
    else:
        c = next(c for r, c in s.eligible if r is rep)
        at_slot = replace(rep, load=rep.load + k - 1)  # its load when this item comes
        why = (
            f"best total over the batch of {n} items: {chosen} takes it as new item {k} "
            f"({_describe(at_slot, c, _penalty(rep, k, level, scale, config))})"
        )
        if ranked[0].rep_id != chosen:
            why += (
                f"; {ranked[0].rep_id} ranks first for this item alone, but the batch total is "
                "higher with its capacity spent on other items"
            )
    return Decision(
        item_id=s.item.item_id,
        chosen=chosen,
        policy=policy,
        reason=why,
        propensity=1.0 if chosen is not None else None,
        ranked=ranked,
        ineligible=s.ineligible,
    )
