"""Outcomes: idempotent by event id, checked against what is known, all or nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

import data.store.assignments
from data.store import (
    ConflictError,
    ContradictionError,
    CustomerIn,
    NotFoundError,
    OutcomeIn,
    Store,
)
from tests.data.store.helpers import NOW, count, make_assignment, make_lead, make_rep
from tests.data.store.test_capacity import all_at_once, load_of


def event(event_id: str, type_: str = "won", subject: str = "L1", **fields: Any) -> OutcomeIn:
    key = "lead_id" if type_ in ("contacted", "qualified", "won", "lost") else "customer_id"
    values = {"event_id": event_id, "type": type_, key: subject, "occurred_at": NOW}
    return OutcomeIn.model_validate({**values, **fields})


@pytest.fixture
def routed(store: Store) -> Store:
    """Lead L1 routed to closer C1 (load 1)."""
    store.put_rep(make_rep("C1"))
    store.put_lead(make_lead("L1"))
    assert store.reserve_and_record(make_assignment("L1")) is not None
    return store


def test_the_same_event_twice_is_stored_once(routed: Store) -> None:
    won = event("E1", value=5000.0, payload={"crm": "hubspot", "stage": ["closed", 1]})
    first = routed.record_outcome(won)
    second = routed.record_outcome(won)
    assert (first.stored, first.duplicate) == (True, False)
    assert (second.stored, second.duplicate) == (False, True)
    assert second.event == first.event
    assert first.event.value == 5000.0 and first.event.payload["stage"] == ["closed", 1]
    assert count(routed, "outcomes") == 1
    assert load_of(routed, "C1") == 0  # released once, not twice


def test_a_naive_time_is_the_same_event_in_utc(routed: Store) -> None:
    routed.record_outcome(event("E1"))
    again = routed.record_outcome(event("E1", occurred_at=NOW.replace(tzinfo=None)))
    assert again.duplicate


def test_the_same_id_for_another_event_is_a_conflict(routed: Store) -> None:
    routed.record_outcome(event("E1", value=5000.0))
    with pytest.raises(ConflictError, match=r"event_id 'E1'.*value") as caught:
        routed.record_outcome(event("E1", value=7000.0))
    assert (caught.value.field, caught.value.value) == ("event_id", "E1")
    with pytest.raises(ConflictError, match="occurred_at"):
        routed.record_outcome(event("E1", value=5000.0, occurred_at=NOW + timedelta(hours=1)))
    with pytest.raises(ConflictError, match="type"):
        routed.record_outcome(event("E1", "qualified", value=5000.0))
    assert count(routed, "outcomes") == 1


def test_unknown_lead_or_customer_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="lead_id 'L404'") as caught:
        store.record_outcome(event("E1", subject="L404"))
    assert (caught.value.field, caught.value.value) == ("lead_id", "L404")
    with pytest.raises(NotFoundError, match="customer_id 'CU404'"):
        store.record_outcome(event("E2", "renewed", subject="CU404"))
    assert count(store, "outcomes") == 0


def test_won_after_lost_is_a_contradiction_and_stores_nothing(routed: Store) -> None:
    routed.record_outcome(event("E1", "lost"))
    with pytest.raises(ContradictionError, match="'E1'") as caught:
        routed.record_outcome(event("E2", "won", occurred_at=NOW + timedelta(days=1)))
    assert caught.value.earlier == "E1"
    assert count(routed, "outcomes") == 1


def test_lost_after_won_is_a_contradiction(routed: Store) -> None:
    routed.record_outcome(event("E1", "qualified"))
    routed.record_outcome(event("E2", "won"))
    with pytest.raises(ContradictionError, match=r"lost event 'E3'.*won event 'E2'"):
        routed.record_outcome(event("E3", "lost"))
    assert count(routed, "outcomes") == 2


def test_won_releases_the_closer(routed: Store) -> None:
    assert load_of(routed, "C1") == 1
    result = routed.record_outcome(event("E1", "won", value=9000.0))
    assert load_of(routed, "C1") == 0
    assert result.released is not None
    assert result.released.rep_id == "C1" and result.released.released_at is not None
    assert routed.open_assignment("L1") is None
    [assignment] = routed.latest_assignments()
    assert assignment.released_at == result.released.released_at


def test_qualified_keeps_the_closer(routed: Store) -> None:
    result = routed.record_outcome(event("E1", "qualified"))
    assert result.released is None
    assert load_of(routed, "C1") == 1


def test_customer_events_and_churn_frees_the_account_manager(store: Store) -> None:
    store.put_rep(make_rep("AM1", role="account_manager"))
    store.put_customer(CustomerIn(customer_id="CU1", lead_id="L1"))
    store.reserve_and_record(make_assignment("CU1", rep_id="AM1", kind="customer"))
    renewed = store.record_outcome(event("E1", "renewed", subject="CU1", value=1200.0))
    assert renewed.released is None and load_of(store, "AM1") == 1
    churned = store.record_outcome(event("E2", "churned", subject="CU1"))
    assert churned.stored and churned.released is not None
    assert load_of(store, "AM1") == 0


def test_a_failure_mid_transaction_stores_nothing(
    routed: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event row, the released assignment and the load change go together."""
    real_close = data.store.assignments.close

    def close_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_close(*args, **kwargs)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(data.store.assignments, "close", close_then_fail)
    with pytest.raises(RuntimeError, match="connection lost"):
        routed.record_outcome(event("E1", "won"))
    assert count(routed, "outcomes") == 0
    assert load_of(routed, "C1") == 1
    assert routed.open_assignment("L1") is not None

    monkeypatch.setattr(data.store.assignments, "close", real_close)
    assert routed.record_outcome(event("E1", "won")).stored


def test_concurrent_copies_of_one_event_are_stored_once(routed: Store) -> None:
    results = all_at_once([lambda: routed.record_outcome(event("E1", "won"))] * 8)
    assert sum(r.stored for r in results) == 1
    assert sum(r.duplicate for r in results) == 7
    assert count(routed, "outcomes") == 1
    assert load_of(routed, "C1") == 0


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"event_id": "E1", "type": "won", "occurred_at": NOW}, "lead_id"),
        ({"event_id": "E1", "type": "churned", "lead_id": "L1", "occurred_at": NOW}, "customer_id"),
        (
            {
                "event_id": "E1",
                "type": "won",
                "lead_id": "L1",
                "customer_id": "C",
                "occurred_at": NOW,
            },
            "customer_id",
        ),
        (
            {"event_id": "E1", "type": "won", "lead_id": "L1", "occurred_at": NOW, "value": -1},
            "value",
        ),
        ({"event_id": "E1", "type": "sold", "lead_id": "L1", "occurred_at": NOW}, "type"),
        ({"event_id": "", "type": "won", "lead_id": "L1", "occurred_at": NOW}, "event_id"),
    ],
)
def test_invalid_events_are_refused_naming_the_field(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        OutcomeIn.model_validate(fields)


def test_contacted_is_a_lead_event_and_carries_who_did_it(store: Store) -> None:
    store.put_rep(make_rep("IS1", role="inbound_specialist", capacity=100))
    store.put_lead(make_lead("L1"))
    first = store.record_outcome(event("E1", "contacted", rep_id="IS1"))
    again = store.record_outcome(event("E2", "contacted", rep_id="IS1"))  # more touches: fine
    assert first.stored and again.stored
    assert first.event.rep_id == "IS1" and first.released is None
    with pytest.raises(ValidationError, match="lead_id is required"):
        OutcomeIn.model_validate(
            {"event_id": "E3", "type": "contacted", "customer_id": "CU1", "occurred_at": NOW}
        )


def test_an_unknown_rep_id_is_not_found_naming_it_and_stores_nothing(store: Store) -> None:
    store.put_lead(make_lead("L1"))
    with pytest.raises(NotFoundError, match="rep_id 'IS404'") as caught:
        store.record_outcome(event("E1", "contacted", rep_id="IS404"))
    assert (caught.value.field, caught.value.value) == ("rep_id", "IS404")
    assert count(store, "outcomes") == 0


def test_a_different_rep_id_makes_a_reused_event_id_a_conflict(routed: Store) -> None:
    routed.put_rep(make_rep("C2"))
    routed.record_outcome(event("E1", rep_id="C1"))
    with pytest.raises(ConflictError, match="rep_id"):
        routed.record_outcome(event("E1", rep_id="C2"))
