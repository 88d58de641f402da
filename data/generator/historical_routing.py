"""How the generated history assigned owners before leadscore routed anything.

Evaluations replay this policy (`historical_closer_weights`) to weigh what a new
routing would have changed, so it is public and the generator uses the same code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HISTORICAL_REGION_LOYALTY = 0.7
"""How often the historical (pre-leadscore) routing sent a lead to a closer of its region."""
ASSIGNMENTS = ("historical", "territory")
"""How deals and customers found their owners (`GeneratorConfig.assignment`)."""


def historical_closer_weights(
    lead_regions: np.ndarray,
    closer_regions: np.ndarray,
    loyalty_share: float = HISTORICAL_REGION_LOYALTY,
) -> np.ndarray:
    """The pre-leadscore routing: mostly a closer of the lead's region, else anyone.

    Returns a (leads x closers) matrix of assignment probabilities.
    """
    n_closers = len(closer_regions)
    same = lead_regions[:, None] == closer_regions[None, :]
    n_same = same.sum(axis=1, keepdims=True)
    regional = np.where(n_same > 0, same / np.maximum(n_same, 1), 1.0 / n_closers)
    loyalty = np.where(n_same > 0, loyalty_share, 0.0)
    return loyalty * regional + (1 - loyalty) / n_closers


def draw_closers(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One closer per lead (a column of `weights`), drawn with the lead's row of weights."""
    draws: np.ndarray = rng.random(len(weights))
    chosen = (draws[:, None] > np.cumsum(weights, axis=1)).sum(axis=1)
    return np.asarray(np.minimum(chosen, weights.shape[1] - 1))


def within_territory(
    rng: np.random.Generator, drawn: np.ndarray, regions: np.ndarray, rep_regions: np.ndarray
) -> np.ndarray:
    """`drawn` reps, redrawn among the reps of each row's region where it has any."""
    chosen = drawn.copy()
    for region in np.unique(rep_regions[pd.notna(rep_regions)]):
        rows = np.flatnonzero(regions == region)
        chosen[rows] = rng.choice(np.flatnonzero(rep_regions == region), rows.size)
    return chosen
