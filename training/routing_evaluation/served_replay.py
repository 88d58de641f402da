"""The leadscore policy as served, replayed over the history's deals in time order.

Only among the closers the serving rules allow (a closer's region and segment,
as `leadscore route` applies them), with the capacity rules of
`training.routing_evaluation.replay`: each closer may hold `headroom` times the
open work an even split over its eligible leads would give it; when every
eligible closer is full the best one takes the lead anyway and it is counted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from data.contract import Role
from models.assignment.policy import decide_one
from models.assignment.types import Candidate, Item, PolicyConfig, Rep
from training.routing_evaluation.propensity import BoolArray, FloatArray, IntArray, lead_segments
from training.routing_evaluation.replay import ReplaySettings, Trace, one_hot, replay


def active_closers(reps: pd.DataFrame, closers: Sequence[str]) -> list[int]:
    """Positions (in `closers`) of the active closers of the reps table."""
    rows = reps[(reps["role"] == Role.closer.value) & reps["active"].fillna(True).astype(bool)]
    active = set(rows["rep_id"].astype(str))
    return [j for j, c in enumerate(closers) if c in active]


def closer_attribute(reps: pd.DataFrame, closers: Sequence[str], name: str) -> list[str | None]:
    """Each closer's `name` column in the reps table as text (None if blank or unknown)."""
    if name not in reps:
        return [None] * len(closers)
    table = reps.drop_duplicates("rep_id").set_index("rep_id")[name]
    values = [table.get(c) for c in closers]
    return [None if v is None or pd.isna(v) else str(v) for v in values]


def closer_weights(reps: pd.DataFrame, closers: Sequence[str]) -> FloatArray:
    """Each closer's share of work: its capacity (at least 1; 1 where unknown)."""
    capacity = closer_attribute(reps, closers, "capacity")
    weight = np.array([float(c) if c is not None else 1.0 for c in capacity])
    return np.asarray(np.maximum(weight, 1.0), dtype=np.float64)


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


def policy_eligible(
    deals: pd.DataFrame,
    reps: pd.DataFrame,
    closers: Sequence[str],
    roster: Sequence[int],
    supported: BoolArray,
) -> BoolArray:
    """(deals x closers): the closers the serving rules allow and the history could have
    given the deal to (``supported``): a choice it never made has no outcome to learn
    from, and the fit's own value of it is the optimism DR corrects. A deal no such
    closer could take keeps the serving rules alone."""
    regions = np.array([None if pd.isna(v) else str(v) for v in deals["company_region"]], object)
    served = serving_eligible(
        regions,
        lead_segments(deals["company_size"]),
        closer_attribute(reps, closers, "region"),
        closer_attribute(reps, closers, "segment"),
        roster,
        len(closers),
    )
    eligible = served & supported
    unsupported = ~eligible.any(axis=1)
    eligible[unsupported] = served[unsupported]
    return eligible


def territory_groups(
    reps: pd.DataFrame, closers: Sequence[str], roster: Sequence[int]
) -> list[list[int]]:
    """The active closers grouped by (region, segment): who the placebo may swap."""
    regions = closer_attribute(reps, closers, "region")
    segments = closer_attribute(reps, closers, "segment")
    groups: dict[tuple[str | None, str | None], list[int]] = {}
    for j in roster:
        groups.setdefault((regions[j], segments[j]), []).append(j)
    return list(groups.values())


def replay_capacities(
    eligible: BoolArray, weight: FloatArray, settings: ReplaySettings
) -> IntArray:
    """Each closer may hold `headroom` times the open work an even (by weight) split
    over its eligible leads would give it."""
    share = eligible * weight[None, :]
    share = share / np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
    demand = share.mean(axis=0) * settings.hold_leads * settings.headroom
    return np.asarray(np.maximum(1, np.ceil(demand)), dtype=np.int64)


def replay_served_policy(
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
        reps = [
            Rep(ids[j], int(capacity[j]), int(loads[j]), weight=float(weight[j])) for j in options
        ]
        item = Item(f"lead-{t}", [Candidate(ids[j], float(scores[t, j])) for j in options])
        decision = decide_one(item, reps, config, rng=0)
        if decision.chosen is None:
            overflow += 1
            chosen = max(options, key=lambda j: (scores[t, j], -j))
        else:
            chosen = position[decision.chosen]
        return chosen, one_hot(np.array([chosen]), len(capacity))[0], False

    trace = replay(len(scores), capacity, settings.hold_leads, choose)
    return trace, overflow
