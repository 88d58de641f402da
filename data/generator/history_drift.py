"""Drift (`GeneratorConfig.drift`): what a real two-year export shows and a model trained
on its oldest part never learns. All of it reads fields a model sees (created_at included).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DRIFT_LEVEL = (-1.6, 1.6)
"""Qualification log-odds added at the start and at the end of the history (linear in
between): the conversion rate rises about four-fold."""
DRIFT_FLIP = ("company_industry", "finance", 1.0, -1.0)
"""A field value whose effect changes sign: (field, value, effect at the start, at the end)."""
NEW_SOURCES = ("partner", "intent_data")
"""A new inbound and a new outbound source that appear part-way through the history."""
NEW_SOURCE_FROM = 0.6
"""Share of the history before the new sources exist."""
NEW_SOURCE_SHARE = 0.2
"""Share of the channel's leads they bring once they exist."""
NEW_SOURCE_FIT = 0.8
DRIFT_STREAM = 20_250_601
"""The new sources are drawn from their own random stream."""


def with_new_sources(
    seed: int, elapsed: np.ndarray, inbound: np.ndarray, source: np.ndarray
) -> np.ndarray:
    """`source` with the new sources from `NEW_SOURCE_FROM` on. Drawn last, from their own
    stream: the leads are those of the same seed without drift, but for their source."""
    rng = np.random.default_rng([seed, DRIFT_STREAM])
    new = (elapsed >= NEW_SOURCE_FROM) & (rng.random(len(elapsed)) < NEW_SOURCE_SHARE)
    return np.where(new, np.where(inbound, NEW_SOURCES[0], NEW_SOURCES[1]), source)


def drift_logit(leads: pd.DataFrame, elapsed: np.ndarray) -> np.ndarray:
    """Qualification log-odds that move with time: the level, the flipping effect and the
    new sources (read from the fields as the CRM shows them, blanks neutral)."""
    start, end = DRIFT_LEVEL
    column, value, early, late = DRIFT_FLIP
    flips = (leads[column].to_numpy(dtype=object) == value).astype(float)
    new_source = leads["source"].isin(NEW_SOURCES).to_numpy(dtype=float)
    return np.asarray(
        start
        + (end - start) * elapsed
        + flips * (early + (late - early) * elapsed)
        + NEW_SOURCE_FIT * new_source,
        dtype=np.float64,
    )
