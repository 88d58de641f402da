"""Builders and probes shared by the store tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from data.contract import Lead
from data.store import AssignmentIn, RepIn, Store


def count(store: Store, table: str) -> int:
    """Rows in `table`, read past the store's API to see what really is there."""
    with store.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_lead(lead_id: str = "L1", **fields: object) -> Lead:
    values: dict[str, object] = {
        "lead_id": lead_id,
        "channel": "inbound",
        "created_at": datetime(2026, 2, 1, 9, 30),
        "company_industry": "software",
        "company_size": 120,
        "web_visits": 7,
        "demo_requested": True,
    }
    return Lead.model_validate({**values, **fields})


def known_leads(store: Store, *lead_ids: str) -> None:
    """Record leads, as routing requires (the API scores a lead before routing it)."""
    for lead_id in lead_ids:
        store.put_lead(make_lead(lead_id))


def make_rep(rep_id: str = "C1", **fields: object) -> RepIn:
    values: dict[str, object] = {
        "rep_id": rep_id,
        "name": "Ada Closer",
        "role": "closer",
        "region": "emea",
        "capacity": 3,
    }
    return RepIn.model_validate({**values, **fields})


def make_assignment(subject_id: str = "L1", rep_id: str = "C1", **fields: object) -> AssignmentIn:
    values: dict[str, object] = {
        "kind": "lead",
        "subject_id": subject_id,
        "rep_id": rep_id,
        "policy": "expected_value",
        "propensity": 0.9,
        "objective": 1200.0,
        "runners_up": [{"rep_id": "C2", "fit": 0.2, "expected_value": 800.0, "propensity": 0.1}],
    }
    return AssignmentIn.model_validate({**values, **fields})
