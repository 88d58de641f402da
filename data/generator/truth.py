"""The hidden ground truth: how much each field helps a lead convert, and rep skills.

Every hidden effect is a function of fields a model can see plus Bernoulli noise, so
the true probabilities the generator writes to `truth/` are the best any model can do.
Training never reads them; evaluations and tests do, and the `true_*` helpers give the
truth for any (lead, rep) pair, not only the assigned one, with the generator's own
formulas so they cannot drift from what generated the outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from data.generator.vectors import sigmoid
from data.generator.world import (
    INBOUND_SOURCES,
    INDUSTRIES,
    OUTBOUND_SOURCES,
    REGIONS,
    SEGMENTS,
    SENIORITIES,
    segment_codes,
)

# How much each value makes a lead want the product, on the log-odds scale.
INDUSTRY_FIT = np.array([0.6, 0.3, 0.1, 0.0, -0.1, -0.4, 0.2, -0.2, -0.1, -0.5])
REGION_FIT = np.array([0.1, 0.0, -0.1, -0.25])
SEGMENT_FIT = np.array([-0.3, 0.25, 0.1])
SENIORITY_FIT = np.array([-0.5, -0.1, 0.25, 0.4, 0.35])
INBOUND_SOURCE_FIT = np.array([0.1, -0.1, 0.0, 0.2, 0.7, -0.4, 0.15, 0.05])
OUTBOUND_SOURCE_FIT = np.array([0.0, -0.2, 0.1, 0.2, 0.5])
# The ideal customer profile is an interaction: an industry buys in some segments, not others.
ICP_FIT = np.random.default_rng(20_241_101).normal(0.0, 0.45, (len(INDUSTRIES), len(SEGMENTS)))


def observed(leads: pd.DataFrame, column: str, fill: float = 0.0) -> np.ndarray:
    """A numeric or boolean field as floats, blanks as `fill`."""
    values = pd.to_numeric(leads[column].astype("Float64"), errors="coerce")
    return values.fillna(fill).to_numpy(dtype=float)


def category_effect(
    leads: pd.DataFrame, column: str, levels: tuple[str, ...], effects: np.ndarray
) -> np.ndarray:
    """Each lead's effect of its `column` value (0 when blank or unknown)."""
    mapping = dict(zip(levels, effects, strict=True))
    return leads[column].map(mapping).fillna(0.0).to_numpy(dtype=float)


def qualification_truth(
    leads: pd.DataFrame, quarter_end: np.ndarray, drift: np.ndarray | None = None
) -> pd.DataFrame:
    """P(qualified) and the closer-independent part of the win log-odds, from
    what the CRM shows (missing fields count as neutral); `drift` adds log-odds."""
    inbound = (leads["channel"] == "inbound").to_numpy()
    seg = segment_codes(leads["company_size"])
    fit = _firmographic_fit(leads, seg)
    qual_logit = (
        np.where(inbound, _inbound_logit(leads, seg), _outbound_logit(leads))
        + fit
        + 0.3 * quarter_end
    )
    if drift is not None:
        qual_logit = qual_logit + drift
    # Win odds once qualified: firmographic fit again, bigger companies are harder.
    win_base = -1.0 + 0.8 * fit + np.where(seg == 2, -0.35, 0.0) + 0.25 * quarter_end
    win_base += np.where(inbound, 0.3 * observed(leads, "demo_requested"), 0.0)
    return pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "p_qualified": sigmoid(qual_logit),
            "win_logit_base": win_base,
            "segment_code": seg,
        }
    )


def _industry_codes(leads: pd.DataFrame) -> np.ndarray:
    industry = leads["company_industry"].map({name: i for i, name in enumerate(INDUSTRIES)})
    return np.asarray(industry.fillna(-1).to_numpy(dtype=np.int64))


def _firmographic_fit(leads: pd.DataFrame, seg: np.ndarray) -> np.ndarray:
    """How well the company and contact fit, the ideal customer profile included."""
    fit = (
        category_effect(leads, "company_industry", INDUSTRIES, INDUSTRY_FIT)
        + category_effect(leads, "company_region", REGIONS, REGION_FIT)
        + category_effect(leads, "contact_seniority", SENIORITIES, SENIORITY_FIT)
    )
    fit += np.where(seg >= 0, SEGMENT_FIT[np.clip(seg, 0, 2)], 0.0)
    industry_code = _industry_codes(leads)
    known = (industry_code >= 0) & (seg >= 0)
    fit += np.where(known, ICP_FIT[industry_code.clip(0), seg.clip(0)], 0.0)
    return np.asarray(fit, dtype=np.float64)


def _inbound_logit(leads: pd.DataFrame, seg: np.ndarray) -> np.ndarray:
    """Qualification log-odds of an inbound lead from its engagement and source."""
    visits = observed(leads, "web_visits", 1.0)
    pages = observed(leads, "pages_viewed", 0.0)
    demo = observed(leads, "demo_requested")
    buys_software = np.isin(_industry_codes(leads), [0, 1])
    return np.asarray(
        -2.9
        + 1.4 * demo * np.where(seg == 2, 1.6, np.where(seg == 0, 0.55, 1.0))
        + 0.35 * np.log1p(pages)
        + 0.6 * (observed(leads, "content_downloads") >= 2)
        + observed(leads, "webinar_attended") * np.where(buys_software, 0.9, 0.2)
        + 0.2 * np.log1p(observed(leads, "time_on_site_sec") / 60.0)
        + 0.5 * (pages / np.maximum(visits, 1.0) > 6)
        + category_effect(leads, "source", INBOUND_SOURCES, INBOUND_SOURCE_FIT)
    )


def _outbound_logit(leads: pd.DataFrame) -> np.ndarray:
    """Qualification log-odds of an outbound lead from its replies, meeting and source."""
    seniority = leads["contact_seniority"].map({name: i for i, name in enumerate(SENIORITIES)})
    rank = seniority.fillna(-1).to_numpy(dtype=np.int64)
    touches = observed(leads, "touches", 0.0)
    replies = observed(leads, "replies", 0.0)
    meeting = observed(leads, "meeting_booked")
    return np.asarray(
        -3.2
        + meeting * np.where(rank >= 3, 2.7, np.where(rank == 0, 1.2, 1.9))
        + 0.7 * (replies >= 2)
        + 1.2 * np.where(touches > 0, replies / np.maximum(touches, 1.0), 0.0)
        - 0.06 * np.maximum(touches - 10, 0)
        + category_effect(leads, "source", OUTBOUND_SOURCES, OUTBOUND_SOURCE_FIT)
    )


def draw_closer_effects(
    rng: np.random.Generator, closer_ids: list[str], reps: pd.DataFrame
) -> pd.DataFrame:
    """Each closer's hidden skill: general, by industry (strong in its focus) and segment."""
    rows = []
    focus = reps.set_index("rep_id")["industries"]
    for cid in closer_ids:
        general = rng.normal(0, 0.25)
        ind = rng.normal(0, 0.35, len(INDUSTRIES))
        for name in focus[cid]:
            ind[INDUSTRIES.index(name)] += 0.6  # a closer's focus industries are real strengths
        seg = rng.normal(0, 0.4, len(SEGMENTS))
        rows.append(
            {
                "closer_id": cid,
                "general": general,
                "region_match": 0.35,
                **{f"industry_{x}": v for x, v in zip(INDUSTRIES, ind, strict=True)},
                **{f"segment_{x}": v for x, v in zip(SEGMENTS, seg, strict=True)},
            }
        )
    return pd.DataFrame(rows)


def without_effects(effects: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """`effects` with every hidden skill set to zero (no rep changes an outcome)."""
    zero = effects.copy()
    numbers = [c for c in zero.columns if c != id_column]
    zero[numbers] = 0.0
    return zero


def closer_effect(
    effects: pd.DataFrame, closer_region: np.ndarray, leads: pd.DataFrame, segment_code: np.ndarray
) -> np.ndarray:
    """Log-odds added to `win_logit_base` for each (lead, closer) row pair.

    `effects`, `closer_region`, `leads` and `segment_code` are aligned row by
    row; missing lead fields add nothing.
    """
    out = effects["general"].to_numpy(dtype=float).copy()
    industry = leads["company_industry"].to_numpy(dtype=object)
    for name in INDUSTRIES:
        out += np.where(industry == name, effects[f"industry_{name}"].to_numpy(dtype=float), 0.0)
    for code, name in enumerate(SEGMENTS):
        out += np.where(segment_code == code, effects[f"segment_{name}"].to_numpy(dtype=float), 0.0)
    region = leads["company_region"].to_numpy(dtype=object)
    out += np.where(region == closer_region, effects["region_match"].to_numpy(dtype=float), 0.0)
    return out


def win_probabilities(
    win_logit_base: np.ndarray,
    leads: pd.DataFrame,
    segment_code: np.ndarray,
    effects: pd.DataFrame,
    closer_regions: np.ndarray,
) -> np.ndarray:
    """P(won | qualified) of each lead with each closer (row j of `effects`, in region
    `closer_regions[j]`): a (leads x closers) matrix. `leads` has a fresh index."""
    n = len(leads)
    out = np.empty((n, len(effects)))
    for j in range(len(effects)):
        row = effects.iloc[[j] * n].reset_index(drop=True)
        region = np.full(n, closer_regions[j], dtype=object)
        out[:, j] = sigmoid(win_logit_base + closer_effect(row, region, leads, segment_code))
    return out


def true_closer_win_probability(
    leads: pd.DataFrame,
    closer_ids: Sequence[str],
    truth_leads: pd.DataFrame,
    closer_effects: pd.DataFrame,
    reps: pd.DataFrame,
) -> np.ndarray:
    """P(won | qualified lead, closer) for every lead and closer: a (leads x closers) matrix."""
    base = truth_leads.set_index("lead_id")["win_logit_base"].loc[leads["lead_id"]].to_numpy()
    effects = closer_effects.set_index("closer_id").loc[list(closer_ids)]
    regions = reps.set_index("rep_id")["region"].loc[list(closer_ids)].to_numpy(dtype=object)
    segment = segment_codes(leads["company_size"])
    return win_probabilities(base, leads.reset_index(drop=True), segment, effects, regions)


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
        out[:, j] = sigmoid(logit)
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
