"""Training rows of the rep-fit models: one per decision whose outcome is known.

A closer-fit row is a closed opportunity with its lead's fields: decided when
the opportunity was opened, known when it closed. An account-manager-fit row
is a customer with a known 12-month retention: decided at the start date,
known a year later. Those two times are what keeps the rep rates point in time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.contract import Role
from features.columns import Columns, from_frame, take
from features.rates import Outcomes
from features.rep_features import RepFeatureSpec, Roster

RETENTION_HORIZON = np.timedelta64(365, "D")
"""Retention is judged 12 months after the start, so that is when it becomes known."""


@dataclass
class RepData:
    """Decisions with known outcomes, oldest first, and everything fitting needs."""

    role: Role
    rows: pd.DataFrame
    """Raw rows as a scoring client sends them: lead (customer) fields and the rep id."""
    columns: Columns
    rep_ids: np.ndarray
    at: np.ndarray
    """When the rep got the lead (datetime64[us])."""
    known_at: np.ndarray
    """When the outcome became known (datetime64[us])."""
    y: np.ndarray
    roster: Roster
    expansion: np.ndarray | None = None
    """Added annual value within 12 months (account managers), NaN if unknown."""

    def pairs(self, spec: RepFeatureSpec, rows: np.ndarray | None = None) -> Columns:
        """Pair columns (lead fields + the assigned rep's attributes) of `rows` (all if None)."""
        rows = np.arange(len(self.y)) if rows is None else rows
        ids = self.rep_ids[rows].astype(str)
        unique, positions = np.unique(ids, return_inverse=True)
        roster = self.roster.select([str(u) for u in unique])
        return spec.pair_columns(take(self.columns, rows), np.arange(len(rows)), roster, positions)

    def outcomes(self, spec: RepFeatureSpec) -> Outcomes:
        """All rows as history for the point-in-time rates."""
        return Outcomes(columns=self.pairs(spec), known_at=self.known_at, y=self.y)


def _times(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[us]")


def closer_data(
    leads: pd.DataFrame, opportunities: pd.DataFrame, reps: pd.DataFrame, spec: RepFeatureSpec
) -> RepData:
    """Closed opportunities joined with their leads, oldest opening first."""
    closed = opportunities[opportunities["won"].notna() & opportunities["closed_at"].notna()]
    outcome = ["opportunity_id", "lead_id", "closer_id", "opened_at", "closed_at", "won"]
    rows = (
        closed[outcome]
        .merge(leads, on="lead_id", how="inner", validate="many_to_one")
        .sort_values(["opened_at", "opportunity_id"], kind="stable")
        .reset_index(drop=True)
    )
    return RepData(
        role=Role.closer,
        rows=rows,
        columns=from_frame(rows, spec.lead_fields),
        rep_ids=rows["closer_id"].to_numpy(dtype=object).astype(str),
        at=_times(rows["opened_at"]),
        known_at=_times(rows["closed_at"]),
        y=rows["won"].astype(bool).to_numpy().astype(np.int8),
        roster=Roster.from_frame(reps, Role.closer),
    )


def account_manager_data(
    customers: pd.DataFrame,
    reps: pd.DataFrame,
    spec: RepFeatureSpec,
    horizon: np.timedelta64 = RETENTION_HORIZON,
) -> RepData:
    """Customers whose 12-month retention is known, oldest start first."""
    known = customers[customers["retained_12m"].notna()]
    rows = known.sort_values(["start_date", "customer_id"], kind="stable").reset_index(drop=True)
    at = _times(rows["start_date"])
    expansion = pd.to_numeric(rows["expansion_value"], errors="coerce").astype("Float64")
    return RepData(
        role=Role.account_manager,
        rows=rows,
        columns=from_frame(rows, spec.lead_fields),
        rep_ids=rows["account_manager_id"].to_numpy(dtype=object).astype(str),
        at=at,
        known_at=at + horizon.astype("timedelta64[us]"),
        y=rows["retained_12m"].astype(bool).to_numpy().astype(np.int8),
        roster=Roster.from_frame(reps, Role.account_manager),
        expansion=expansion.to_numpy(dtype=np.float64, na_value=np.nan),
    )
