"""Workload against capacity, and the latest routing decisions."""

from __future__ import annotations

from datetime import UTC, datetime

from data.store import Store
from serving import insights
from serving.insights.responses import Period
from tests.serving.insights.history import PERIOD, build


def test_loads_are_what_is_still_open(store: Store) -> None:
    build(store)
    work = insights.workload(store).model_dump(mode="json")
    loads = {r["rep_id"]: (r["load"], r["capacity"], r["utilisation"]) for r in work["reps"]}
    # L1 won and L2 lost released their closers; CU1 did not churn: AM1 keeps it
    assert loads["AM1"] == (1, 10, 0.1)
    assert loads["CL1"] == (0, 10, 0.0)
    roles = {r["role"]: (r["load"], r["capacity"]) for r in work["by_role"]}
    assert roles == {
        "inbound_specialist": (0, 10),
        "prospector": (0, 10),
        "closer": (0, 20),
        "account_manager": (1, 10),
    }


def test_routed_lists_the_newest_decisions_of_the_period_first(store: Store) -> None:
    build(store)
    decisions = insights.routed(store, PERIOD, limit=2).assignments
    assert [(d.kind, d.subject_id, d.rep_id) for d in decisions] == [
        ("customer", "CU1", "AM1"),
        ("lead", "L2", "CL2"),
    ]
    assert decisions[0].runners_up[0]["rep_id"] == "CL9"
    later = Period(start=datetime(2026, 3, 1, tzinfo=UTC), end=datetime(2026, 4, 1, tzinfo=UTC))
    assert insights.routed(store, later).assignments == []


def test_an_empty_store(store: Store) -> None:
    assert insights.workload(store).reps == []
    assert insights.routed(store, PERIOD).assignments == []
