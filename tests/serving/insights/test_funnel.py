"""Funnel counts and conversions on the hand-built history (tests/serving/insights/history.py).

Stage reached, per lead: L1 all six; L2 up to routed (lost); L3 created only;
L4 up to contacted; L5 won without earlier events, so contacted, qualified and
routed are implied. L0 was created before the period and never counts.
"""

from __future__ import annotations

from typing import Any

import pytest

from data.store import Store
from serving import insights
from tests.serving.insights.history import PERIOD, build


def group(funnel: dict[str, Any], key: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [g for g in funnel["groups"] if g["key"] == key]
    assert len(found) == 1
    return found[0]


def conversion(group_: dict[str, Any], before: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in group_["conversions"] if c["from"] == before]
    assert len(found) == 1
    return found[0]


def counts(*values: int) -> dict[str, int]:
    return dict(zip(insights.STAGES, values, strict=True))


@pytest.fixture
def built(store: Store) -> Store:
    build(store)
    return store


def funnel_of(store: Store, by: str) -> dict[str, Any]:
    return insights.funnel(store, PERIOD, by).model_dump(mode="json")  # type: ignore[arg-type]


def test_overall_counts_and_wilson_intervals(built: Store) -> None:
    f = funnel_of(built, "channel")
    assert f["stages"] == ["created", "contacted", "qualified", "routed", "won", "retained"]
    overall = f["overall"]
    assert overall["key"] == "all"
    assert overall["counts"] == counts(5, 4, 3, 3, 2, 1)
    first = conversion(overall, "created")
    assert first["to"] == "contacted"
    # 4 of 5, z = 1.96: centre (0.8 + 3.8415/10) / (1 + 3.8415/5) = 1.18415 / 1.7683 = 0.66965,
    # half 1.96 * sqrt(0.8 * 0.2 / 5 + 3.8415/100) / 1.7683 = 0.29413 -> 0.3755 .. 0.9638
    assert first["rate"] == pytest.approx(0.8)
    assert first["low"] == pytest.approx(0.3755, abs=1e-4)
    assert first["high"] == pytest.approx(0.9638, abs=1e-4)
    assert first["shrunk_rate"] == pytest.approx(0.8)  # the overall rate shrinks to itself
    assert first["small"] is True and overall["small"] is True
    # qualified -> routed: 3 of 3, interval (0.4385, 1.0)
    full = conversion(overall, "qualified")
    assert (full["rate"], full["high"]) == (1.0, 1.0)
    assert full["low"] == pytest.approx(0.4385, abs=1e-4)


def test_by_channel_small_groups_are_shrunk_toward_the_overall_rate(built: Store) -> None:
    f = funnel_of(built, "channel")
    assert [g["key"] for g in f["groups"]] == ["inbound", "outbound"]
    inbound, outbound = group(f, "inbound"), group(f, "outbound")
    assert inbound["counts"] == counts(3, 2, 2, 2, 1, 1)  # L1, L2, L3
    assert outbound["counts"] == counts(2, 2, 1, 1, 1, 0)  # L4, L5
    touched = conversion(inbound, "created")
    assert touched["rate"] == pytest.approx(2 / 3)
    # (2 + 20 x 0.8) / (3 + 20) = 18 / 23
    assert touched["shrunk_rate"] == pytest.approx(18 / 23)
    assert touched["small"] is True
    kept = conversion(outbound, "won")  # won -> retained: 0 of 1
    assert kept["rate"] == 0.0
    # (0 + 20 x 0.5) / (1 + 20) = 10 / 21
    assert kept["shrunk_rate"] == pytest.approx(10 / 21)


def test_by_rep_counts_each_owner_from_the_stage_it_received_the_lead(built: Store) -> None:
    f = funnel_of(built, "rep")
    assert [g["key"] for g in f["groups"]] == ["AM1", "CL1", "CL2", "IS1", "PR1", "unassigned"]
    assert group(f, "IS1")["counts"] == counts(2, 2, 2, 2, 1, 1)  # L1, L2 from created
    assert group(f, "PR1")["counts"] == counts(2, 2, 1, 1, 1, 0)  # L4, L5 (its own prospector)
    assert group(f, "unassigned")["counts"] == counts(1, 0, 0, 0, 0, 0)  # L3
    assert group(f, "CL1")["counts"] == counts(0, 0, 0, 1, 1, 1)  # L1 from routed
    assert group(f, "CL2")["counts"] == counts(0, 0, 0, 2, 1, 0)  # L2 (assigned), L5 (won event)
    assert group(f, "AM1")["counts"] == counts(0, 0, 0, 0, 1, 1)  # L1's customer from won
    cl2 = conversion(group(f, "CL2"), "routed")
    # 1 of 2: centre 0.5, half 1.96 * sqrt(0.125 + 3.8415/16) / (1 + 3.8415/2) = 0.40548
    assert cl2["rate"] == 0.5
    assert (cl2["low"], cl2["high"]) == (
        pytest.approx(0.0945, abs=1e-4),
        pytest.approx(0.9055, abs=1e-4),
    )
    # overall routed -> won is 2/3: (1 + 20 x 2/3) / (2 + 20) = 0.65152
    assert cl2["shrunk_rate"] == pytest.approx((1 + 20 * 2 / 3) / 22)
    before = conversion(group(f, "CL2"), "qualified")  # a closer takes no part in routing
    assert before["rate"] is None and before["low"] is None and before["shrunk_rate"] is None


def test_by_role_groups_the_same_owners(built: Store) -> None:
    f = funnel_of(built, "role")
    keys = ["account_manager", "closer", "inbound_specialist", "prospector", "unassigned"]
    assert [g["key"] for g in f["groups"]] == keys
    assert group(f, "closer")["counts"] == counts(0, 0, 0, 3, 2, 1)
    assert group(f, "inbound_specialist")["counts"] == counts(2, 2, 2, 2, 1, 1)


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("source", {"ads": 1, "cold_call": 1, "cold_email": 1, "webinar": 2}),
        ("segment", {"enterprise": 1, "mid_market": 1, "smb": 2, "unknown": 1}),
        ("grade", {"A": 1, "B": 1, "C": 1, "D": 1, "unscored": 1}),  # L1's first grade: A
    ],
)
def test_lead_attribute_breakdowns(built: Store, by: str, expected: dict[str, int]) -> None:
    f = funnel_of(built, by)
    assert {g["key"]: g["counts"]["created"] for g in f["groups"]} == expected


def test_an_empty_store_gives_zero_counts(store: Store) -> None:
    f = funnel_of(store, "rep")
    assert f["groups"] == []
    assert f["overall"]["counts"] == counts(0, 0, 0, 0, 0, 0)
    assert all(c["rate"] is None for c in f["overall"]["conversions"])
