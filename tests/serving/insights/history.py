"""A small history built by hand, so every figure of the analytics can be checked by hand.

Five leads created in January 2026 (PERIOD) and one before it; the front rep
is who contacted the lead (or the lead's own specialist / prospector id):

- L1 inbound, webinar, smb, first grade A, front rep IS1: contacted +10 min
  and +30 min, qualified +2 h, routed to CL1 +3 h, won +5 d (1200, by CL1),
  customer CU1 handed to AM1 +6 d, renewed +370 d;
- L2 inbound, webinar, mid_market, grade B, IS1: contacted +60 min, qualified
  +20 h, routed to CL2 +1 d, lost +9 d (no rep on the event);
- L3 inbound, ads, size unknown, grade C, nobody: nothing happened;
- L4 outbound, cold_call, enterprise, grade D, PR1: contacted +30 min;
- L5 outbound, cold_email, smb, never scored, PR1 (its prospector_id): won
  +10 d by CL2, nothing recorded before;
- L0 inbound, created in December: outside the period.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from data.contract import Lead
from data.store import AssignmentIn, CustomerIn, OutcomeIn, RepIn, ScoreIn, Store
from serving.insights.responses import Period

PERIOD = Period(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC))
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
CREATED = {
    "L1": T0,
    "L2": T0 + DAY,
    "L3": T0 + 2 * DAY,
    "L4": T0 + 3 * DAY,
    "L5": T0 + 4 * DAY,
    "L0": datetime(2025, 12, 20, tzinfo=UTC),
}


def lead(lead_id: str, channel: str, source: str, size: int | None, **more: object) -> Lead:
    return Lead.model_validate(
        {
            "lead_id": lead_id,
            "channel": channel,
            "source": source,
            "company_size": size,
            "created_at": CREATED[lead_id],
            **more,
        }
    )


LEADS = {
    "L1": lead("L1", "inbound", "webinar", 50, specialist_id="IS1"),
    "L2": lead("L2", "inbound", "webinar", 500, specialist_id="IS1"),
    "L3": lead("L3", "inbound", "ads", None),
    "L4": lead("L4", "outbound", "cold_call", 5000, prospector_id="PR1"),
    "L5": lead("L5", "outbound", "cold_email", 100, prospector_id="PR1"),
    "L0": lead("L0", "inbound", "webinar", 50, specialist_id="IS1"),
}


def score(lead_id: str, grade: str, probability: float, at: datetime) -> ScoreIn:
    return ScoreIn(
        lead=LEADS[lead_id],
        model_name=f"lead-score-{LEADS[lead_id].channel}",
        model_version="3",
        probability=probability,
        score=int(probability * 100),
        grade=grade,
        scored_at=at,
    )


def event(event_id: str, kind: str, subject: str, at: datetime, **more: object) -> OutcomeIn:
    key = "customer_id" if kind in ("renewed", "churned") else "lead_id"
    return OutcomeIn.model_validate(
        {"event_id": event_id, "type": kind, key: subject, "occurred_at": at, **more}
    )


def route(subject: str, rep_id: str, at: datetime, kind: str = "lead") -> AssignmentIn:
    return AssignmentIn.model_validate(
        {
            "kind": kind,
            "subject_id": subject,
            "rep_id": rep_id,
            "policy": "expected_value",
            "propensity": 0.9,
            "objective": 0.4,
            "assigned_at": at,
            "runners_up": [{"rep_id": "CL9", "fit": 0.2, "expected_value": 0.2, "propensity": 0.1}],
        }
    )


def build(store: Store) -> None:
    """Write the history above into `store`."""
    for rep_id, role in (
        ("IS1", "inbound_specialist"),
        ("PR1", "prospector"),
        ("CL1", "closer"),
        ("CL2", "closer"),
        ("AM1", "account_manager"),
    ):
        store.put_rep(RepIn(rep_id=rep_id, name=f"Rep {rep_id}", role=role, capacity=10))
    store.record_scores(
        [
            score("L1", "A", 0.6, T0 + MINUTE),
            score("L1", "B", 0.3, T0 + 2 * DAY),  # a later score: the first grade counts
            score("L2", "B", 0.3, CREATED["L2"] + MINUTE),
            score("L3", "C", 0.1, CREATED["L3"] + MINUTE),
            score("L4", "D", 0.05, CREATED["L4"] + MINUTE),
            score("L0", "A", 0.6, CREATED["L0"] + MINUTE),
        ]
    )
    store.put_lead(LEADS["L5"])
    for e in (
        event("e1", "contacted", "L1", T0 + 10 * MINUTE, rep_id="IS1"),
        event("e2", "contacted", "L1", T0 + 30 * MINUTE, rep_id="IS1"),
        event("e3", "qualified", "L1", T0 + 2 * HOUR, rep_id="IS1"),
        event("e4", "contacted", "L2", CREATED["L2"] + 60 * MINUTE, rep_id="IS1"),
        event("e5", "qualified", "L2", CREATED["L2"] + 20 * HOUR, rep_id="IS1"),
        event("e6", "contacted", "L4", CREATED["L4"] + 30 * MINUTE, rep_id="PR1"),
        event("e7", "won", "L5", CREATED["L5"] + 10 * DAY, rep_id="CL2", value=800.0),
        event("e0", "contacted", "L0", CREATED["L0"] + MINUTE, rep_id="IS1"),
    ):
        store.record_outcome(e)
    assert store.reserve_and_record(route("L1", "CL1", T0 + 3 * HOUR)) is not None
    assert store.reserve_and_record(route("L2", "CL2", CREATED["L2"] + DAY)) is not None
    store.record_outcome(event("e8", "won", "L1", T0 + 5 * DAY, rep_id="CL1", value=1200.0))
    store.record_outcome(event("e9", "lost", "L2", CREATED["L2"] + 9 * DAY))
    store.put_customer(CustomerIn(customer_id="CU1", lead_id="L1"))
    assert store.reserve_and_record(route("CU1", "AM1", T0 + 6 * DAY, "customer")) is not None
    store.record_outcome(event("e10", "renewed", "CU1", T0 + 370 * DAY, value=1300.0))
