"""Replaying a period of qualified leads, in time order, through a routing policy.

Every policy meets the same capacity rules: a closer's load grows by one per
lead it is given and drops by one when the deal closes. Deal durations are
replaced by one simple rule (`ReplaySettings`): a deal stays open for the next
`hold_leads` leads, whatever the history's size or pace, and capacities are
scaled to that open work. The replay records, for every lead, the loads the
policy saw and the probability it gave each closer, which is what off-policy
evaluation needs afterwards. Pure functions on arrays; `training.routing_evaluation.simulated`
and `training.routing_evaluation.doubly_robust` assemble the figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from data.contract import Role
from data.json_rows import to_records
from models.assignment.policy import decide_one
from models.assignment.roster_rows import policy_rep
from models.assignment.types import Candidate, Decision, Item, PolicyConfig, Rep

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ReplaySettings:
    """How the replay stands in for deal durations and capacity, and how intervals are drawn.

    A deal is released (its closer's load drops by one) when the ``hold_leads``-th lead
    after it comes, so once warm the team holds ``hold_leads`` open deals after each
    assignment: a fixed count keeps the replay alike on a small or a large history. Each
    closer's capacity is its roster capacity scaled so the team can hold ``headroom``
    times the open work (rounded up), so the closers a policy favours fill up and the
    rules bind, as in a busy team; ``headroom >= 1`` means every lead finds a closer.
    Intervals are percentile bootstraps over leads with ``resamples`` draws. The
    policy is also replayed at each of ``fairness_levels``, to show what fairer
    loads cost.
    """

    hold_leads: int = 120
    headroom: float = 1.5
    resamples: int = 1000
    confidence: float = 0.95
    fairness_levels: tuple[float, ...] = (0.0, 0.3, 1.0, 3.0)

    def __post_init__(self) -> None:
        if self.hold_leads < 1:
            raise ValueError(f"hold_leads must be at least 1, got {self.hold_leads}")
        if not (math.isfinite(self.headroom) and self.headroom >= 1.0):
            raise ValueError(
                f"headroom must be >= 1 so every lead finds a closer, got {self.headroom}"
            )
        if self.resamples < 1:
            raise ValueError(f"resamples must be at least 1, got {self.resamples}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be strictly between 0 and 1, got {self.confidence}")


def replay_roster(reps: pd.DataFrame, settings: ReplaySettings) -> tuple[Rep, ...]:
    """The active closers of a contract ``reps`` table, by rep_id, with capacities scaled
    to the replay's open work in proportion to their own; weight = capacity, so a
    bigger book is filled in proportion (see ``models.assignment.policy``).

    Every closer is available: the roster's availability is today's, not the
    replayed period's."""
    closers = reps[(reps["role"] == Role.closer.value) & reps["active"].fillna(True).astype(bool)]
    closers = closers.sort_values("rep_id")
    if closers.empty:
        raise ValueError("reps: no active closer to route leads to")
    own = closers["capacity"].fillna(1).clip(lower=1).to_numpy(dtype=float)
    open_work = settings.headroom * settings.hold_leads
    return tuple(
        policy_rep({**row, "capacity": cap, "weight": float(cap), "available": True})
        for row, cap in zip(
            to_records(closers),
            (max(1, math.ceil(open_work * c / own.sum())) for c in own),
            strict=True,
        )
    )


@dataclass(frozen=True)
class Trace:
    """One policy's replay, one row per lead in time order: the chosen closer (a roster
    position), the loads just before the choice, and the probability the policy gave
    each closer (0 for the ineligible; one-hot for a deterministic choice)."""

    chosen: IntArray
    loads: IntArray
    propensities: FloatArray
    capacity: IntArray
    explored: npt.NDArray[np.bool_]

    @property
    def full(self) -> npt.NDArray[np.bool_]:
        """Which closers were at capacity when each lead came."""
        return np.asarray(self.loads >= self.capacity[None, :])

    @property
    def over_capacity(self) -> int:
        """Leads given to a closer already at capacity (only a fixed record can do that)."""
        return int(self.full[np.arange(len(self.chosen)), self.chosen].sum())

    @property
    def peak_load(self) -> IntArray:
        """Each closer's highest load, counting the lead just given."""
        after = self.loads.copy()
        after[np.arange(len(self.chosen)), self.chosen] += 1
        return np.asarray(after.max(axis=0), dtype=np.int64)


Choice = tuple[int, FloatArray, bool]
"""(roster position, probabilities over the roster, explored)."""
Chooser = Callable[[int, IntArray], Choice]


def one_hot(choice: IntArray, closers: int) -> FloatArray:
    """Deterministic choices as a probability matrix over the roster (choices x closers)."""
    out = np.zeros((len(choice), closers))
    out[np.arange(len(choice)), choice] = 1.0
    return out


def replay(leads: int, capacity: IntArray, hold_leads: int, choose: Chooser) -> Trace:
    """Run ``choose(lead position, loads)`` over the leads, releasing each deal after
    ``hold_leads`` further leads."""
    m = len(capacity)
    loads = np.zeros(m, dtype=np.int64)
    chosen = np.empty(leads, dtype=np.int64)
    seen = np.empty((leads, m), dtype=np.int64)
    probabilities = np.zeros((leads, m))
    explored = np.zeros(leads, dtype=bool)
    for t in range(leads):
        if t >= hold_leads:
            loads[chosen[t - hold_leads]] -= 1
        seen[t] = loads
        j, probabilities[t], explored[t] = choose(t, loads.copy())
        chosen[t] = j
        loads[j] += 1
    return Trace(chosen, seen, probabilities, np.asarray(capacity, dtype=np.int64), explored)


def decide(
    item_id: str,
    scores: FloatArray | None,
    roster: Sequence[Rep],
    loads: IntArray,
    config: PolicyConfig,
    rng: np.random.Generator | None = None,
) -> Decision:
    """``decide_one`` for one lead with the roster at ``loads``; no scores means the
    policy's own fallback, weighted round-robin."""
    reps = [replace(rep, load=int(load)) for rep, load in zip(roster, loads, strict=True)]
    candidates = [
        Candidate(rep.rep_id, fit=None if scores is None else float(scores[j]))
        for j, rep in enumerate(roster)
    ]
    decision = decide_one(Item(item_id, candidates), reps, config, rng=rng)
    if decision.chosen is None:
        raise RuntimeError(f"the replay left lead {item_id} without a closer: {decision.reason}")
    return decision


def _as_choice(decision: Decision, position: dict[str, int]) -> Choice:
    probabilities = np.zeros(len(position))
    for option in decision.ranked:
        probabilities[position[option.rep_id]] = option.propensity
    assert decision.chosen is not None  # decide() guarantees it
    return position[decision.chosen], probabilities, decision.explored


def policy_chooser(
    item_ids: Sequence[str],
    scores: FloatArray | None,
    roster: Sequence[Rep],
    config: PolicyConfig,
    rng: np.random.Generator,
) -> Chooser:
    """The leadscore policy online (``scores`` = the fit model's leads x closers matrix),
    or its round-robin fallback (``scores`` None)."""
    position = {rep.rep_id: j for j, rep in enumerate(roster)}

    def choose(t: int, loads: IntArray) -> Choice:
        row = None if scores is None else scores[t]
        return _as_choice(decide(item_ids[t], row, roster, loads, config, rng), position)

    return choose


def fixed_chooser(chosen: IntArray) -> Chooser:
    """A recorded assignment (the historical one), taken whatever the loads."""

    def choose(t: int, loads: IntArray) -> Choice:
        return int(chosen[t]), one_hot(chosen[t : t + 1], len(loads))[0], False

    return choose


def oracle_chooser(true_probability: FloatArray, capacity: IntArray) -> Chooser:
    """The closer with the highest TRUE win probability among those with room: the
    ceiling any fit model could reach under the same rules, greedily."""

    def choose(t: int, loads: IntArray) -> Choice:
        best = best_eligible(true_probability[t][None, :], (loads >= capacity)[None, :])
        return int(best[0]), one_hot(best, len(loads))[0], False

    return choose


def best_eligible(values: FloatArray, full: npt.NDArray[np.bool_]) -> IntArray:
    """Per row, the position of the highest value among the closers not at capacity."""
    return np.asarray(np.argmax(np.where(full, -np.inf, values), axis=1), dtype=np.int64)


def choices_on(
    trace: Trace,
    item_ids: Sequence[str],
    scores: FloatArray | None,
    roster: Sequence[Rep],
    config: PolicyConfig,
) -> IntArray:
    """What a deterministic policy (``config.exploration`` 0, or the round-robin fallback)
    would have chosen in each logged situation: the target of off-policy evaluation."""
    position = {rep.rep_id: j for j, rep in enumerate(roster)}
    out = np.empty(len(trace.chosen), dtype=np.int64)
    for t, loads in enumerate(trace.loads):
        row = None if scores is None else scores[t]
        chosen = decide(item_ids[t], row, roster, loads, config).chosen
        assert chosen is not None
        out[t] = position[chosen]
    return out
