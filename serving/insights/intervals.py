"""Wilson intervals and empirical-Bayes shrinkage: honest rates for small groups.

A rep with 3 wins in 3 deals has a rate of 1.0 and a 95% Wilson interval of
0.44-1.0; shrunk toward an overall rate of 0.3 with k = 20 it is
(3 + 6) / (3 + 20) = 0.39. Both keep luck from ranking it first.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054
"""The two-sided 95% quantile of the standard normal."""
SHRINKAGE_K = 20
"""Pseudo-observations at the overall rate added to every group."""
SMALL = 30
"""A group with fewer leads than this is flagged as small."""


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of successes / trials; None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def shrunk(
    successes: int, trials: int, prior: float | None, k: float = SHRINKAGE_K
) -> float | None:
    """(successes + k * prior) / (trials + k); None without a prior rate."""
    if prior is None:
        return None
    return (successes + k * prior) / (trials + k)
