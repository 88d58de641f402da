"""The generator's hidden truth for any (lead, rep) pair, not only the assigned one.

Evaluation and tests only: they ask whether a fit model ranks reps the way
the hidden effects do. Both helpers reuse the generator's own formulas
(`closer_effect`, `win_logit_base`, `retain_logit_base`), so they cannot
drift from what generated the outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from data.generator import SEGMENTS, _segment_codes, closer_effect


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def segment_codes(company_size: pd.Series) -> np.ndarray:
    """The generator's segment code of each company (-1 if the size is unknown)."""
    size = pd.to_numeric(company_size, errors="coerce").to_numpy(dtype=float)
    codes = _segment_codes(np.nan_to_num(size, nan=0.0))
    return np.where(np.isnan(size), -1, codes)


def true_closer_win_probability(
    leads: pd.DataFrame,
    closer_ids: Sequence[str],
    truth_leads: pd.DataFrame,
    closer_effects: pd.DataFrame,
    reps: pd.DataFrame,
) -> np.ndarray:
    """P(won | qualified lead, closer) for every lead and closer: a (leads x closers) matrix."""
    base = truth_leads.set_index("lead_id")["win_logit_base"].loc[leads["lead_id"]].to_numpy()
    segment = segment_codes(leads["company_size"])
    effects = closer_effects.set_index("closer_id")
    regions = reps.set_index("rep_id")["region"]
    lead_rows = leads.reset_index(drop=True)
    out = np.empty((len(leads), len(closer_ids)))
    for j, closer in enumerate(closer_ids):
        row = effects.loc[[closer] * len(leads)].reset_index(drop=True)
        region = np.full(len(leads), regions[closer], dtype=object)
        out[:, j] = _sigmoid(base + closer_effect(row, region, lead_rows, segment))
    return out


def true_retention_probability(
    customers: pd.DataFrame,
    account_manager_ids: Sequence[str],
    truth_customers: pd.DataFrame,
    account_manager_effects: pd.DataFrame,
) -> np.ndarray:
    """P(retained at 12 months | customer, account manager): a (customers x managers) matrix."""
    truth = truth_customers.set_index("customer_id").loc[customers["customer_id"]]
    base = truth["retain_logit_base"].to_numpy()
    segment = truth["segment_code"].to_numpy()
    effects = account_manager_effects.set_index("account_manager_id")
    out = np.empty((len(customers), len(account_manager_ids)))
    for j, manager in enumerate(account_manager_ids):
        effect = effects.loc[manager]
        logit = base + float(effect["general"])
        for code, name in enumerate(SEGMENTS):
            logit = logit + np.where(segment == code, float(effect[f"segment_{name}"]), 0.0)
        out[:, j] = _sigmoid(logit)
    return out


def true_expected_expansion(
    customers: pd.DataFrame,
    account_manager_ids: Sequence[str],
    truth_customers: pd.DataFrame,
    account_manager_effects: pd.DataFrame,
) -> np.ndarray:
    """E[expansion value] = P(retained) x value x E[share] x the manager's growth skill."""
    retained = true_retention_probability(
        customers, account_manager_ids, truth_customers, account_manager_effects
    )
    growth = account_manager_effects.set_index("account_manager_id")["growth"]
    mean_share = 1.5 * 0.12  # the generator draws the share from gamma(1.5, 0.12)
    value = customers["account_value"].to_numpy(dtype=float)[:, None]
    skill = np.exp(growth.loc[list(account_manager_ids)].to_numpy(dtype=float))[None, :]
    return np.asarray(retained * value * mean_share * skill, dtype=np.float64)
