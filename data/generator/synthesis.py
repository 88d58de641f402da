"""A synthetic but plausible two-year CRM history of a B2B company.

Conversion follows a hidden ground truth (`data.generator.truth`): channel-specific
signals, firmographics, seasonality, closer skill that differs by industry, segment and
region, and account-manager skill that changes retention. Training never reads
`truth/`; tests and evaluations do.

Everything is vectorised with numpy, so a million leads take well under a minute, and
one seed always gives the same tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from data.generator.customers import generate_customers
from data.generator.deals import generate_deals
from data.generator.generator_config import GeneratorConfig
from data.generator.history_drift import drift_logit
from data.generator.leads import generate_leads
from data.generator.truth import qualification_truth
from data.generator.world import make_reps
from data.tables import write_table


def generate(config: GeneratorConfig) -> dict[str, pd.DataFrame]:
    """All tables of one synthetic CRM history, plus `truth_*` tables."""
    rng = np.random.default_rng(config.seed)
    reps = make_reps(config, rng)
    generated = generate_leads(config, rng)
    leads = generated.leads
    drift = drift_logit(leads, generated.elapsed) if config.drift else None
    truth = qualification_truth(leads, generated.quarter_end, drift)
    qualified = rng.random(len(leads)) < truth["p_qualified"].to_numpy()
    deals = generate_deals(config, rng, leads, reps, truth, qualified)
    customers = generate_customers(
        config, rng, leads, reps, deals.opportunities, truth["segment_code"].to_numpy()
    )
    return {
        "leads": leads,
        "reps": reps,
        "opportunities": deals.opportunities,
        "customers": customers.customers,
        "truth_leads": deals.lead_truth,
        "truth_closer_effects": deals.closer_effects,
        "truth_customers": customers.customer_truth,
        "truth_account_manager_effects": customers.account_manager_effects,
    }


def write_history(config: GeneratorConfig, out: Path) -> dict[str, Path]:
    """Generate and write the contract tables to `out` and the truth to `out/truth`."""
    tables = generate(config)
    paths = {
        name: write_table(tables[name], out, name)
        for name in ("leads", "reps", "opportunities", "customers")
    }
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if name.startswith("truth_"):
            path = truth_dir / f"{name.removeprefix('truth_')}.parquet"
            frame.to_parquet(path, index=False)
            paths[name] = path
    routing = {
        "assignment": config.assignment,
        "region_loyalty": config.region_loyalty,
        "rep_effects": config.rep_effects,
    }
    paths["truth_routing"] = truth_dir / "routing.json"
    paths["truth_routing"].write_text(json.dumps(routing, indent=2))
    return paths
