"""The assignment policy's inputs and outputs, validated on construction.

Bad input raises ValueError naming the field, so the API can answer 422 with it.
The policy itself is in ``models.assignment.policy``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

Policy = Literal["expected_value", "batch_optimal", "round_robin_fallback"]
ExplorationMode = Literal["epsilon_greedy", "softmax"]


def _finite(name: str, x: float, low: float, high: float = math.inf) -> None:
    if not (math.isfinite(x) and low <= x <= high):
        bounds = f"in [{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"
        raise ValueError(f"{name} must be a finite number {bounds}, got {x!r}")


def _restriction(name: str, values: Collection[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):  # "emea" would otherwise become {"e", "m", "a"}
        raise ValueError(f"{name} must be a collection of names, not the string {values!r}")
    return frozenset(values)


@dataclass(frozen=True)
class Rep:
    """A rep as the policy sees one: hard rules (active, available, capacity,
    regions, segments; None = any) and a share of work (weight)."""

    rep_id: str
    capacity: int
    load: int = 0
    active: bool = True
    available: bool = True
    regions: Collection[str] | None = None
    segments: Collection[str] | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.rep_id:
            raise ValueError("Rep.rep_id must be a non-empty string")
        for name in ("capacity", "load"):
            number = getattr(self, name)
            if isinstance(number, bool) or not isinstance(number, numbers.Integral) or number < 0:
                raise ValueError(
                    f"Rep.{name} must be an integer >= 0, got {number!r} (rep {self.rep_id!r})"
                )
            object.__setattr__(self, name, int(number))
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"Rep.weight must be > 0, got {self.weight!r} (rep {self.rep_id!r})")
        object.__setattr__(self, "regions", _restriction("Rep.regions", self.regions))
        object.__setattr__(self, "segments", _restriction("Rep.segments", self.segments))


@dataclass(frozen=True)
class Candidate:
    """One rep's predicted fit for one item: P(success) and the value if it succeeds.

    ``fit=None`` means the fit model gave no score (e.g. it is not registered).
    """

    rep_id: str
    fit: float | None
    value: float = 1.0
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.fit is not None:
            _finite(f"Candidate.fit (rep {self.rep_id!r})", self.fit, 0.0, 1.0)
        _finite(f"Candidate.value (rep {self.rep_id!r})", self.value, 0.0)


@dataclass(frozen=True)
class Item:
    """A lead or customer to assign, with the candidates the fit model scored for it.

    Reps of the roster without a candidate are not considered for this item.
    A None region or segment is excluded by no restriction.
    """

    item_id: str
    candidates: Sequence[Candidate]
    region: str | None = None
    segment: str | None = None

    def __post_init__(self) -> None:
        if not self.item_id:
            raise ValueError("Item.item_id must be a non-empty string")
        object.__setattr__(self, "candidates", tuple(self.candidates))


@dataclass(frozen=True)
class PolicyConfig:
    """Knobs of the policy. ``exploration`` is epsilon (epsilon_greedy) or the
    temperature (softmax); 0 always takes the best option. ``seed`` None draws
    fresh entropy, so decisions are then not reproducible."""

    fairness: float = 0.1
    exploration: float = 0.05
    mode: ExplorationMode = "epsilon_greedy"
    seed: int | None = 0

    def __post_init__(self) -> None:
        _finite("PolicyConfig.fairness", self.fairness, 0.0)
        if self.mode == "epsilon_greedy":
            _finite("PolicyConfig.exploration", self.exploration, 0.0, 1.0)
        elif self.mode == "softmax":
            _finite("PolicyConfig.exploration", self.exploration, 0.0)
        else:
            raise ValueError(
                f"PolicyConfig.mode must be epsilon_greedy or softmax, got {self.mode!r}"
            )


@dataclass(frozen=True)
class RankedRep:
    """An eligible option: what it is worth, the fairness penalty, and why.

    Under the round-robin fallback there are no fits: ``expected_value`` is None
    and ``objective`` is minus the load per unit of weight.
    """

    rep_id: str
    fit: float | None
    value: float
    expected_value: float | None
    penalty: float
    objective: float
    propensity: float
    reason: str


@dataclass(frozen=True)
class Ineligible:
    rep_id: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """The outcome for one item. ``chosen`` is None when no rep can take it;
    ``reason`` then says why (the API answers 409/422 from it).

    ``ranked`` holds the eligible options best first; ``propensity`` is the
    probability the policy gave the chosen rep (log it for off-policy
    evaluation); ``explored`` is True when the chosen rep is not the best one.
    """

    item_id: str
    chosen: str | None
    policy: Policy
    reason: str
    propensity: float | None = None
    explored: bool = False
    ranked: tuple[RankedRep, ...] = ()
    ineligible: tuple[Ineligible, ...] = ()

    @property
    def propensities(self) -> dict[str, float]:
        """Probability of every eligible option under the policy; sums to 1 when any."""
        return {r.rep_id: r.propensity for r in self.ranked}

    @property
    def runners_up(self) -> tuple[RankedRep, ...]:
        return tuple(r for r in self.ranked if r.rep_id != self.chosen)
