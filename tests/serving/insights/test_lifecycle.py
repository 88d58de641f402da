"""A lead's timeline and the per-lead journey, on the hand-built history."""

from __future__ import annotations

from typing import Any

import pytest

from data.store import Store
from data.store.engine import read
from serving import insights
from serving.insights.frames import load_history
from serving.insights.lifecycle import journeys
from tests.serving.insights.history import PERIOD, build


@pytest.fixture
def built(store: Store) -> Store:
    build(store)
    return store


def timeline(store: Store, lead_id: str) -> dict[str, Any]:
    found = insights.lead_timeline(store, lead_id)
    assert found is not None
    return found.model_dump(mode="json")


def test_the_timeline_lists_every_stage_in_order_with_who_and_when(built: Store) -> None:
    t = timeline(built, "L1")
    assert (t["lead_id"], t["channel"], t["created_at"]) == (
        "L1",
        "inbound",
        "2026-01-05T09:00:00Z",
    )
    stages = [(e["stage"], e["rep_id"], e["role"]) for e in t["events"]]
    assert stages == [
        ("created", None, None),
        ("scored", None, None),
        ("contacted", "IS1", "inbound_specialist"),
        ("contacted", "IS1", "inbound_specialist"),
        ("qualified", "IS1", "inbound_specialist"),
        ("routed", "CL1", "closer"),
        ("scored", None, None),  # re-scored two days later
        ("won", "CL1", "closer"),
        ("handed_over", "AM1", "account_manager"),
        ("renewed", "AM1", "account_manager"),  # no rep on the event: the customer's manager
    ]
    gaps = [e["since_previous_seconds"] for e in t["events"]]
    # +1 min, +9 min, +20 min, +90 min, +1 h, then 2 d - 3 h, 3 d, 1 d, 364 d
    assert gaps == [
        None,
        60.0,
        540.0,
        1200.0,
        5400.0,
        3600.0,
        162000.0,
        259200.0,
        86400.0,
        364 * 86400.0,
    ]
    events = t["events"]
    assert events[0]["detail"] == {"channel": "inbound", "source": "webinar"}
    assert events[1]["detail"] == {
        "model": "lead-score-inbound",
        "version": "3",
        "score": 60,
        "grade": "A",
        "probability": 0.6,
    }
    routed = events[5]["detail"]
    assert (routed["policy"], routed["propensity"]) == ("expected_value", 0.9)
    assert routed["reasons"][0]["rep_id"] == "CL9"
    assert events[7]["detail"]["value"] == 1200.0
    assert events[8]["detail"]["customer_id"] == "CU1"


def test_hand_offs_name_both_sides_and_the_time_between(built: Store) -> None:
    handoffs = timeline(built, "L1")["handoffs"]
    assert handoffs == [
        {
            "from_role": "inbound_specialist",
            "from_rep_id": "IS1",
            "to_role": "closer",
            "to_rep_id": "CL1",
            "at": "2026-01-05T12:00:00Z",
            "after_seconds": 3600.0,
        },
        {
            "from_role": "closer",
            "from_rep_id": "CL1",
            "to_role": "account_manager",
            "to_rep_id": "AM1",
            "at": "2026-01-11T09:00:00Z",
            "after_seconds": 86400.0,
        },
    ]


def test_a_lost_deal_names_the_assigned_closer(built: Store) -> None:
    t = timeline(built, "L2")
    (lost,) = [e for e in t["events"] if e["stage"] == "lost"]
    assert (lost["rep_id"], lost["role"]) == ("CL2", "closer")
    assert [h["to_rep_id"] for h in t["handoffs"]] == ["CL2"]


def test_a_lead_with_nothing_but_its_creation(built: Store) -> None:
    t = timeline(built, "L3")
    assert [e["stage"] for e in t["events"]] == ["created", "scored"]
    assert t["handoffs"] == []


def test_an_unknown_lead_has_no_timeline(built: Store) -> None:
    assert insights.lead_timeline(built, "NOPE") is None


def test_journeys_hold_first_times_owners_and_implied_stages(built: Store) -> None:
    with read(built.engine) as connection:
        rows = journeys(load_history(connection, PERIOD.start, PERIOD.end)).set_index("lead_id")
    assert sorted(rows.index) == ["L1", "L2", "L3", "L4", "L5"]
    l1 = rows.loc["L1"]
    assert (l1["contacted_at"] - l1["created_at"]).total_seconds() == 600  # the first touch
    assert (l1["front_rep"], l1["closer"], l1["manager"]) == ("IS1", "CL1", "AM1")
    l5 = rows.loc["L5"]
    assert l5["front_rep"] == "PR1" and l5["front_role"] == "prospector"
    assl5_reached = [bool(l5[f"reached_{s}"]) for s in insights.STAGES]
    assert assl5_reached == [True, True, True, True, True, False]
    assert (
        rows.loc["L3", "front_rep"] is None
        or rows.loc["L3", "front_rep"] != rows.loc["L3", "front_rep"]
    )
