"""The generated customers: won deals handed to an account manager, kept or lost in a year.

Retention and expansion depend on the manager's hidden skill, by segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.contract import Role
from data.generator.generator_config import GeneratorConfig
from data.generator.historical_routing import within_territory
from data.generator.truth import INDUSTRY_FIT, category_effect, without_effects
from data.generator.vectors import ids, sigmoid
from data.generator.world import INDUSTRIES, SEGMENTS


@dataclass(frozen=True)
class GeneratedCustomers:
    customers: pd.DataFrame
    customer_truth: pd.DataFrame
    """Each customer's retention log-odds without its manager, segment and P(retained)."""
    account_manager_effects: pd.DataFrame
    """Each account manager's hidden skills."""


def generate_customers(
    config: GeneratorConfig,
    rng: np.random.Generator,
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    opportunities: pd.DataFrame,
    segment_code: np.ndarray,
) -> GeneratedCustomers:
    """Won deals become customers of a randomly chosen account manager (the
    historical policy); retention depends on the manager's hidden skill."""
    ams = reps[reps["role"] == Role.account_manager.value]
    am_ids = ams["rep_id"].to_numpy(dtype=object)
    am_effects = _draw_manager_effects(rng, am_ids)
    if not config.rep_effects:
        am_effects = without_effects(am_effects, "account_manager_id")
    won = opportunities[opportunities["won"].fillna(False).astype(bool)].reset_index(drop=True)
    m = len(won)
    lead_rows = leads.set_index("lead_id").loc[won["lead_id"]].reset_index()
    seg = segment_code[pd.Index(leads["lead_id"]).get_indexer(won["lead_id"])]
    am = rng.integers(0, len(am_ids), m)
    if config.assignment == "territory":
        lead_regions = lead_rows["company_region"].to_numpy(dtype=object)
        am = within_territory(rng, am, lead_regions, ams["region"].to_numpy(dtype=object))
    eff = am_effects.iloc[am].reset_index(drop=True)
    seg_eff = np.zeros(m)
    for code, name in enumerate(SEGMENTS):
        seg_eff += np.where(seg == code, eff[f"segment_{name}"].to_numpy(), 0.0)
    fit = category_effect(lead_rows, "company_industry", INDUSTRIES, INDUSTRY_FIT)
    value = won["value"].to_numpy(dtype=float)
    retain_base = 1.1 + 0.8 * fit - 0.15 * np.log(value / 8000)
    retain_logit = retain_base + eff["general"].to_numpy() + seg_eff
    retained = rng.random(m) < sigmoid(retain_logit)
    expansion = np.round(
        value * rng.gamma(1.5, 0.12, m) * np.exp(eff["growth"].to_numpy()) * retained, -1
    )
    start = won["closed_at"].to_numpy(dtype="datetime64[us]") + np.timedelta64(7, "D")
    known = np.asarray(start + np.timedelta64(365, "D") <= config.as_of, dtype=bool)
    customers = pd.DataFrame(
        {
            "customer_id": ids("C", np.arange(1, m + 1)),
            "lead_id": won["lead_id"].to_numpy(),
            "opportunity_id": won["opportunity_id"].to_numpy(),
            "account_manager_id": am_ids[am],
            "start_date": start,
            "company_industry": lead_rows["company_industry"].to_numpy(dtype=object),
            # `.array` keeps the nullable Int64 dtype; `.to_numpy()` turned it into float.
            "company_size": lead_rows["company_size"].astype("Int64").array,
            "company_region": lead_rows["company_region"].to_numpy(dtype=object),
            "account_value": value,
            "retained_12m": pd.Series(retained, dtype="boolean").where(known),
            "expansion_value": pd.Series(expansion).where(known),
        }
    )
    customer_truth = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "retain_logit_base": retain_base,
            "segment_code": seg,
            "p_retained": sigmoid(retain_logit),
        }
    )
    return GeneratedCustomers(customers, customer_truth, am_effects)


def _draw_manager_effects(rng: np.random.Generator, am_ids: np.ndarray) -> pd.DataFrame:
    """Each account manager's hidden skill: general, by segment, and at growing accounts."""
    return pd.DataFrame(
        {
            "account_manager_id": am_ids,
            "general": rng.normal(0, 0.3, len(am_ids)),
            **{f"segment_{s}": rng.normal(0, 0.45, len(am_ids)) for s in SEGMENTS},
            "growth": rng.normal(0, 0.3, len(am_ids)),
        }
    )
