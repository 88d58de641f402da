"""Outcome labels of leads, derived from the opportunities they became."""

from __future__ import annotations

import pandas as pd

LABELS = ("qualified", "won")


def lead_outcomes(leads: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    """One row per lead: `qualified`, `won` (0/1) and `resolved`.

    A lead whose opportunity is still open has no known outcome yet
    (`resolved` is False) and must not be trained on as a loss.
    """
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
            "resolved": (~open_opp).to_numpy(),
        }
    )
