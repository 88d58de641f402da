"""The custom fields of a generated CRM export (`data.generator.crm_export`).

Honest ones are filled at sign-up and foretell the outcome only through the
lead's intent. The planted leaks are what sales types in once it has worked a
lead: telling but never perfect, blank until the lead is worked, and with some
values that only a decided lead can have.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

DECIDED = ("won", "lost", "disqualified")

TAGS = (
    "Closed by Horizzon",
    "Will revert after reading the email",
    "Ringing",
    "Busy",
    "Interested in other courses",
    "switched off",
    "Lost to EINS",
    "Not doing further education",
    "Already a student",
    "invalid number",
    "",
)
TAG_SHARES = {
    "won": (0.45, 0.35, 0.04, 0.05, 0.05, 0, 0, 0, 0, 0, 0.06),
    "lost": (0, 0.3, 0.1, 0.1, 0.15, 0.04, 0.2, 0.06, 0, 0, 0.05),
    "disqualified": (0, 0.12, 0.2, 0.1, 0.15, 0.1, 0, 0.1, 0.1, 0.08, 0.05),
    "open_opportunity": (0, 0.55, 0.1, 0.2, 0.05, 0, 0, 0, 0, 0, 0.1),
    "young": (0, 0.3, 0.28, 0.15, 0.12, 0.1, 0, 0, 0, 0, 0.05),
}
"""Share of each tag by the lead's state; "" leaves the field blank."""
QUALITY = ("High in Relevance", "Might be", "Not Sure", "Low in Relevance", "Worst", "")
QUALITY_SHARES = {
    "won": (0.3, 0.3, 0.15, 0.05, 0.0, 0.2),
    "lost": (0.1, 0.22, 0.2, 0.08, 0.05, 0.35),
    "disqualified": (0.03, 0.1, 0.2, 0.12, 0.15, 0.4),
    "open_opportunity": (0.15, 0.25, 0.15, 0.05, 0.05, 0.35),
    "young": (0.05, 0.12, 0.2, 0.1, 0.13, 0.4),
}
ACTIVITY = (
    "Email Opened",
    "SMS Sent",
    "Had a Phone Conversation",
    "Page Visited on Website",
    "Converted to Lead",
    "Olark Chat Conversation",
    "Email Bounced",
    "Unsubscribed",
)
ACTIVITY_SHARES = {
    "won": (0.3, 0.35, 0.1, 0.1, 0.1, 0.05, 0, 0),
    "lost": (0.35, 0.2, 0.05, 0.1, 0.1, 0.1, 0.05, 0.05),
    "disqualified": (0.35, 0.08, 0.02, 0.1, 0.12, 0.18, 0.08, 0.07),
    "open_opportunity": (0.35, 0.3, 0.05, 0.1, 0.1, 0.1, 0, 0),
    "young": (0.4, 0.15, 0.02, 0.1, 0.13, 0.15, 0.05, 0),
}
DATE_ONLY = "%Y-%m-%d"


def honest_fields(
    leads: pd.DataFrame, states: np.ndarray, rng: np.random.Generator
) -> dict[str, object]:
    """A sign-up plan, the lead's origin form and time on site: known at creation.

    The intent of an undecided lead is drawn as its outcome would be, so these
    fields look the same whether or not the lead is decided.
    """
    n = len(states)
    decided = np.isin(states, DECIDED)
    won_rate = float((states[decided] == "won").mean()) if decided.any() else 0.1
    closed = np.isin(states, ("won", "lost"))
    opportunity_rate = float((states[closed] == "won").mean()) if closed.any() else 0.3
    chance = np.where(states == "open_opportunity", opportunity_rate, won_rate)
    outcome = np.where(decided, states == "won", rng.random(n) < chance).astype(float)
    intent = outcome + rng.normal(0, 0.6, n)  # what every sign-up field reflects, noisily
    plan_score = 0.8 * intent + rng.normal(0, 1, n)
    plan = np.select(
        [plan_score < -0.4, plan_score < 0.5, plan_score < 1.3],
        ["Free", "Starter", "Pro"],
        "Enterprise",
    )
    demo = leads["demo_requested"].fillna(False).to_numpy(dtype=bool)
    origin_score = 1.0 * intent + 0.3 * demo + rng.normal(0, 0.8, n)
    origin = np.select(
        [origin_score < -0.3, origin_score < 0.4, origin_score < 1.0, origin_score < 1.6],
        ["Lead Import", "Landing Page Submission", "API", "Quick Add Form"],
        "Lead Add Form",
    )
    seconds = leads["time_on_site_sec"].astype(float).to_numpy()
    time_on_site = pd.Series(np.round(seconds * np.exp(0.7 * intent + rng.normal(0, 0.3, n))))
    return {"plan": plan, "origin": origin, "time_on_site": time_on_site.astype("Int64")}


def typed_in_fields(
    states: np.ndarray,
    worked: np.ndarray,
    worked_at: pd.Series,
    closed: pd.Series,
    as_of: pd.Timestamp,
    rng: np.random.Generator,
) -> dict[str, object]:
    """Tags, a lead-quality rating, the last activity and a decision date: what sales
    types in once it has worked a lead, blank until then."""
    n = len(states)
    tags = by_state(states, TAGS, TAG_SHARES, rng)
    second = rng.choice(["Ringing", "Busy", "switched off", "Want to take admission"], n)
    tags = np.where((tags != "") & (rng.random(n) < 0.12), tags + "; " + second, tags)
    quality = by_state(states, QUALITY, QUALITY_SHARES, rng)
    activity = by_state(states, ACTIVITY, ACTIVITY_SHARES, rng)
    disqualified_on = worked_at + pd.to_timedelta(rng.uniform(20, 100, n), unit="D")
    recorded = (states == "disqualified") & worked & (rng.random(n) < 0.5)
    decided_on = closed.where(np.isin(states, ("won", "lost")), disqualified_on.where(recorded))
    return {
        "tags": np.where(worked, tags, ""),
        "quality": np.where(worked, quality, ""),
        "last_activity": np.where(worked, activity, ""),
        "decided_on": dates(decided_on.where(decided_on <= as_of), DATE_ONLY),
    }


def by_state(
    states: np.ndarray,
    values: tuple[str, ...],
    shares: Mapping[str, tuple[float, ...]],
    rng: np.random.Generator,
) -> np.ndarray:
    """One of `values` per lead, drawn with its state's shares."""
    out = np.empty(len(states), dtype=object)
    for state, weights in shares.items():
        rows = states == state
        p = np.asarray(weights, dtype=float)
        out[rows] = rng.choice(np.asarray(values, dtype=object), int(rows.sum()), p=p / p.sum())
    return out


def dates(times: pd.Series, date_format: str) -> pd.Series:
    """Times as text in the export's format, blank where missing."""
    return pd.to_datetime(times).dt.strftime(date_format).fillna("")
