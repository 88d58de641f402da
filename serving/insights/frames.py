"""What the analytics read from the store, as pandas frames (one query per table).

The SQL selects the leads created in the period and everything that happened
to them; the assembly is pandas, which keeps it identical on SQLite and
PostgreSQL (JSON payloads are parsed in Python, not with each dialect's JSON
operators). Times are aware UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Select, select

from data.contract import Role
from data.store.schema import assignments, customers, leads, outcomes, reps, scores

LEAD_COLUMNS = ["lead_id", "channel", "created_at", "payload"]
EVENT_COLUMNS = ["event_id", "subject_id", "type", "occurred_at", "rep_id", "value"]
ASSIGNMENT_COLUMNS = [
    "id",
    "subject_id",
    "rep_id",
    "policy",
    "propensity",
    "objective",
    "explored",
    "runners_up",
    "assigned_at",
    "released_at",
]
SCORE_COLUMNS = [
    "id",
    "lead_id",
    "scored_at",
    "model_name",
    "model_version",
    "probability",
    "score",
    "grade",
]
logger = logging.getLogger(__name__)
TIMES = ("created_at", "occurred_at", "assigned_at", "released_at", "scored_at")


def frame(connection: Connection, query: Select[Any], columns: Sequence[str]) -> pd.DataFrame:
    """The rows of `query` with `columns`, time columns as UTC datetimes even when empty.

    A row whose time pandas cannot hold (a year-9999 placeholder stored before inputs
    were checked) is left out with a warning: one odd row must not fail the analytics.
    """
    rows = [tuple(row) for row in connection.execute(query)]
    out = pd.DataFrame.from_records(rows, columns=list(columns))
    for column in out.columns:
        if column in TIMES:
            given = out[column].notna()
            out[column] = pd.to_datetime(out[column], utc=True, errors="coerce")
            odd = given & out[column].isna()
            if odd.any():
                logger.warning(
                    "left out %d rows whose %s is outside the years pandas can hold",
                    int(odd.sum()),
                    column,
                )
                out = out[~odd].reset_index(drop=True)
    return out


@dataclass(frozen=True)
class LeadHistory:
    """Leads and everything recorded about them (their customers' too)."""

    leads: pd.DataFrame
    lead_events: pd.DataFrame
    lead_assignments: pd.DataFrame
    scores: pd.DataFrame
    customers: pd.DataFrame
    customer_events: pd.DataFrame
    customer_assignments: pd.DataFrame
    roles: dict[str, str]


def _events(connection: Connection, key: Any, ids: Any) -> pd.DataFrame:
    query = select(
        outcomes.c.event_id,
        key.label("subject_id"),
        outcomes.c.type,
        outcomes.c.occurred_at,
        outcomes.c.rep_id,
        outcomes.c.value,
    ).where(key.in_(ids))
    return frame(connection, query, EVENT_COLUMNS)


def _assignments(connection: Connection, kind: str, ids: Any) -> pd.DataFrame:
    query = select(*(assignments.c[name] for name in ASSIGNMENT_COLUMNS)).where(
        assignments.c.kind == kind, assignments.c.subject_id.in_(ids)
    )
    return frame(connection, query, ASSIGNMENT_COLUMNS)


def rep_roles(connection: Connection) -> dict[str, str]:
    """rep_id -> role, for every rep of the roster."""
    return {row.rep_id: row.role for row in connection.execute(select(reps.c.rep_id, reps.c.role))}


def load_history(
    connection: Connection,
    start: datetime | None = None,
    end: datetime | None = None,
    lead_id: str | None = None,
) -> LeadHistory:
    """The leads created in [start, end) (or the one `lead_id`) with their whole history."""
    condition: list[Any] = []
    if lead_id is not None:
        condition.append(leads.c.lead_id == lead_id)
    if start is not None:
        condition.append(leads.c.created_at >= start)
    if end is not None:
        condition.append(leads.c.created_at < end)
    ids = select(leads.c.lead_id).where(*condition)
    lead_rows = frame(
        connection, select(*(leads.c[n] for n in LEAD_COLUMNS)).where(*condition), LEAD_COLUMNS
    )
    score_query = select(*(scores.c[n] for n in SCORE_COLUMNS)).where(scores.c.lead_id.in_(ids))
    customer_ids = select(customers.c.customer_id).where(customers.c.lead_id.in_(ids))
    customer_query = select(customers.c.customer_id, customers.c.lead_id).where(
        customers.c.lead_id.in_(ids)
    )
    return LeadHistory(
        leads=lead_rows,
        lead_events=_events(connection, outcomes.c.lead_id, ids),
        lead_assignments=_assignments(connection, "lead", ids),
        scores=frame(connection, score_query, SCORE_COLUMNS),
        customers=frame(connection, customer_query, ["customer_id", "lead_id"]),
        customer_events=_events(connection, outcomes.c.customer_id, customer_ids),
        customer_assignments=_assignments(connection, "customer", customer_ids),
        roles=rep_roles(connection),
    )


def front_role(channel: str) -> str:
    """The role that works a lead of `channel` before a closer does."""
    return Role.inbound_specialist.value if channel == "inbound" else Role.prospector.value
