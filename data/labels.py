"""Outcome labels of leads, derived from the opportunities they became."""

from __future__ import annotations

import pandas as pd

LABELS = ("qualified", "won")


MATURITY_DAYS = 120
"""A lead with no opportunity this long after creation counts as not converted."""


def export_time(leads: pd.DataFrame, opportunities: pd.DataFrame) -> pd.Timestamp:
    """The latest moment the export knows of: what `as of` means when none is given."""
    stamps = [leads["created_at"].max()]
    for column in ("opened_at", "closed_at"):
        if column in opportunities and opportunities[column].notna().any():
            stamps.append(opportunities[column].max())
    return pd.Timestamp(max(stamps))


def lead_outcomes(
    leads: pd.DataFrame,
    opportunities: pd.DataFrame,
    as_of: pd.Timestamp | None = None,
    maturity_days: int = MATURITY_DAYS,
) -> pd.DataFrame:
    """One row per lead: `qualified`, `won` (0/1) and `resolved`.

    A lead whose opportunity is still open has no known outcome, and neither
    has a lead younger than `maturity_days`: counting its quick wins but not
    its pending losses would inflate the newest period's conversion rate.
    Unresolved rows (`resolved` is False) must not be trained on.
    """
    as_of = export_time(leads, opportunities) if as_of is None else as_of
    young = (
        pd.to_datetime(leads["created_at"]) > as_of - pd.Timedelta(days=maturity_days)
    ).to_numpy()
    opps = opportunities.sort_values("opened_at").drop_duplicates("lead_id", keep="last")
    merged = leads[["lead_id"]].merge(
        opps[["lead_id", "won", "closed_at"]], on="lead_id", how="left"
    )
    has_opp = merged["lead_id"].isin(opps["lead_id"])
    open_opp = has_opp & merged["won"].isna()
    return pd.DataFrame(
        {
            "lead_id": merged["lead_id"].to_numpy(),
            "qualified": has_opp.astype("int8").to_numpy(),
            "won": merged["won"].fillna(False).astype("int8").to_numpy(),
            "resolved": (~open_opp & ~young).to_numpy(),
        }
    )
