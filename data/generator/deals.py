"""The generated deals: qualified leads become opportunities of a historically routed closer.

Whether a deal is won depends on the closer's hidden skill with the lead; the lead's
own truth is the expectation over the historical routing, the best a lead-only model
can know.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.contract import Role
from data.generator.generator_config import GeneratorConfig
from data.generator.historical_routing import draw_closers, historical_closer_weights
from data.generator.truth import draw_closer_effects, win_probabilities, without_effects
from data.generator.vectors import ids


@dataclass(frozen=True)
class GeneratedDeals:
    opportunities: pd.DataFrame
    lead_truth: pd.DataFrame
    """Each lead's P(qualified), closer-independent win log-odds and P(won)."""
    closer_effects: pd.DataFrame
    """Each closer's hidden skills."""


def generate_deals(
    config: GeneratorConfig,
    rng: np.random.Generator,
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    truth: pd.DataFrame,
    qualified: np.ndarray,
) -> GeneratedDeals:
    """The opportunities of the `qualified` leads opened by the export day, and the truth."""
    n = len(leads)
    closers = reps[reps["role"] == Role.closer.value]
    closer_ids = closers["rep_id"].tolist()
    closer_regions = closers["region"].to_numpy(dtype=object)
    effects = draw_closer_effects(rng, closer_ids, reps)
    if not config.rep_effects:
        effects = without_effects(effects, "closer_id")
    base = truth["win_logit_base"].to_numpy()
    weights = historical_closer_weights(
        leads["company_region"].to_numpy(dtype=object), closer_regions, config.region_loyalty
    )
    p_win_by_closer = win_probabilities(
        base, leads, truth["segment_code"].to_numpy(), effects, closer_regions
    )
    chosen = draw_closers(rng, weights)
    won = rng.random(n) < p_win_by_closer[np.arange(n), chosen]
    owners = np.array(closer_ids, dtype=object)[chosen]
    opportunities = _opportunities(config, rng, leads, qualified, owners, won)
    lead_truth = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "p_qualified": truth["p_qualified"].to_numpy(),
            "win_logit_base": base,
            "p_won": truth["p_qualified"].to_numpy() * (weights * p_win_by_closer).sum(axis=1),
        }
    )
    return GeneratedDeals(opportunities, lead_truth, effects)


def _opportunities(
    config: GeneratorConfig,
    rng: np.random.Generator,
    leads: pd.DataFrame,
    qualified: np.ndarray,
    closer: np.ndarray,
    won: np.ndarray,
) -> pd.DataFrame:
    """Opening and closing times and values; what happens after the export day is unknown."""
    n = len(leads)
    created = leads["created_at"].to_numpy()
    opened = created + (rng.gamma(2.0, 4.0, n) * 86_400e6).astype("timedelta64[us]")
    closed = opened + (rng.gamma(3.0, 12.0, n) * 86_400e6).astype("timedelta64[us]")
    size = pd.to_numeric(leads["company_size"], errors="coerce").fillna(150).to_numpy(dtype=float)
    value = np.round(np.exp(rng.normal(8.7, 0.5, n)) * np.power(size, 0.35), -1)
    has_opp = qualified & (opened <= config.as_of)
    is_closed = has_opp & (closed <= config.as_of)
    idx = np.flatnonzero(has_opp)
    return pd.DataFrame(
        {
            "opportunity_id": ids("O", np.arange(1, idx.size + 1)),
            "lead_id": leads["lead_id"].to_numpy()[idx],
            "closer_id": closer[idx],
            "opened_at": opened[idx],
            "closed_at": pd.Series(closed[idx]).where(is_closed[idx]),
            "won": pd.Series(won[idx], dtype="boolean").where(is_closed[idx]),
            "value": pd.Series(value[idx]).where(is_closed[idx] & won[idx]),
        }
    )
