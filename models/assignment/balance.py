"""How evenly an assignment policy spreads the work over the reps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Numbers = Sequence[float] | npt.NDArray[np.float64]


def checked_array(
    name: str, values: Numbers, low: float = -np.inf, high: float = np.inf
) -> npt.NDArray[np.float64]:
    """The numbers as a float array; ValueError naming ``name`` unless they are a
    non-empty 1-d run of finite values within [low, high]."""
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d sequence of numbers")
    if not np.all(np.isfinite(a)) or a.min() < low or a.max() > high:
        raise ValueError(f"{name} must be finite numbers in [{low:g}, {high:g}]")
    return a


def gini(loads: Numbers) -> float:
    """Gini coefficient of the loads: 0 when all are equal, (n - 1) / n when one rep
    holds everything. The mean absolute difference over all pairs, over twice the mean."""
    x = checked_array("loads", loads, low=0.0)
    if x.sum() == 0:
        return 0.0
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean()))


@dataclass(frozen=True)
class LoadBalance:
    """Spread of the loads; ``max_min_ratio`` is inf when some rep has nothing
    while others have work, 1 when nobody has any."""

    max: float
    min: float
    mean: float
    max_min_ratio: float
    gini: float


def load_balance(loads: Numbers, weights: Numbers | None = None) -> LoadBalance:
    """Spread of the loads; with weights, of the loads per unit of weight, so a rep
    with weight 2 and twice the work counts as balanced."""
    x = checked_array("loads", loads, low=0.0)
    if weights is not None:
        w = checked_array("weights", weights, low=0.0)
        if w.size != x.size or w.min() <= 0:
            raise ValueError("weights must be positive, one per load")
        x = x / w
    low, high = float(x.min()), float(x.max())
    ratio = high / low if low > 0 else (1.0 if high == 0 else float("inf"))
    return LoadBalance(high, low, float(x.mean()), ratio, gini(x))
