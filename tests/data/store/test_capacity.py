"""Capacity and assignments: never past capacity, even under concurrent requests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import pytest

from data.store import AssignmentRecord, ConflictError, CustomerIn, NotFoundError, Store
from tests.data.store.helpers import count, known_leads, make_assignment, make_rep

T = TypeVar("T")
THREADS = 40
CAPACITY = 10


def all_at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def load_of(store: Store, rep_id: str) -> int:
    rep = store.get_rep(rep_id)
    assert rep is not None
    return rep.load


def test_reserve_stops_at_capacity_and_release_frees(store: Store) -> None:
    store.put_rep(make_rep("C1", capacity=2))
    assert [store.reserve("C1") for _ in range(3)] == [True, True, False]
    assert load_of(store, "C1") == 2
    assert store.release("C1") is True
    assert store.reserve("C1") is True
    assert [store.release("C1") for _ in range(3)] == [True, True, False]
    assert load_of(store, "C1") == 0


@pytest.mark.parametrize("field", ["active", "available"])
def test_inactive_or_unavailable_reps_take_nothing(store: Store, field: str) -> None:
    store.put_rep(make_rep("C1", capacity=5, **{field: False}))
    known_leads(store, "L1")
    assert store.reserve("C1") is False
    assert store.reserve_and_record(make_assignment("L1")) is None
    assert load_of(store, "C1") == 0
    assert count(store, "assignments") == 0


def test_concurrent_reservations_never_exceed_capacity(store: Store) -> None:
    store.put_rep(make_rep("C1", capacity=CAPACITY))
    results = all_at_once([lambda: store.reserve("C1")] * THREADS)
    assert results.count(True) == CAPACITY
    assert load_of(store, "C1") == CAPACITY


def test_concurrent_routing_records_exactly_capacity_assignments(store: Store) -> None:
    store.put_rep(make_rep("C1", capacity=CAPACITY))
    known_leads(store, *(f"L{i}" for i in range(THREADS)))

    def route(lead_id: str) -> AssignmentRecord | None:
        return store.reserve_and_record(make_assignment(lead_id))

    results = all_at_once([partial(route, f"L{i}") for i in range(THREADS)])
    made = [r for r in results if r is not None]
    assert len(made) == CAPACITY
    assert load_of(store, "C1") == CAPACITY
    assert count(store, "assignments") == CAPACITY
    assert len({r.id for r in made}) == CAPACITY


def test_assignment_record_keeps_the_decision(store: Store) -> None:
    store.put_rep(make_rep("C1"))
    known_leads(store, "L1")
    record = store.reserve_and_record(make_assignment("L1", explored=True, propensity=0.05))
    assert record is not None
    assert (record.kind, record.subject_id, record.rep_id) == ("lead", "L1", "C1")
    assert (record.policy, record.propensity, record.objective) == ("expected_value", 0.05, 1200.0)
    assert record.explored is True
    assert record.runners_up[0].rep_id == "C2"
    assert record.runners_up[0].expected_value == 800.0
    assert record.released_at is None
    assert store.open_assignment("L1") == record
    assert store.open_assignment("L1", "customer") is None
    assert store.open_assignment("L2") is None


def test_latest_assignments_newest_first(store: Store) -> None:
    store.put_rep(make_rep("C1", capacity=5))
    known_leads(store, "L0", "L1", "L2")
    for i in range(3):
        store.reserve_and_record(make_assignment(f"L{i}"))
    assert [a.subject_id for a in store.latest_assignments()] == ["L2", "L1", "L0"]
    assert [a.subject_id for a in store.latest_assignments(limit=2)] == ["L2", "L1"]
    assert store.latest_assignments(kind="customer") == []


def test_one_open_assignment_per_subject(store: Store) -> None:
    """Routing the same lead again is refused, and its reservation rolled back."""
    store.put_rep(make_rep("C1"))
    store.put_rep(make_rep("C2"))
    known_leads(store, "L1")
    first = store.reserve_and_record(make_assignment("L1", rep_id="C1"))
    assert first is not None
    with pytest.raises(ConflictError, match="'C1'") as caught:
        store.reserve_and_record(make_assignment("L1", rep_id="C2"))
    assert caught.value.field == "subject_id"
    assert load_of(store, "C2") == 0  # the reservation went with the failed insert
    assert count(store, "assignments") == 1

    released = store.release_assignment("L1")
    assert released is not None and released.released_at is not None
    assert load_of(store, "C1") == 0
    assert store.release_assignment("L1") is None
    again = store.reserve_and_record(make_assignment("L1", rep_id="C2"))
    assert again is not None and again.rep_id == "C2"


def test_the_role_must_match_the_kind_of_work(store: Store) -> None:
    store.put_rep(make_rep("AM1", role="account_manager", capacity=5))
    store.put_customer(CustomerIn(customer_id="CU1"))
    known_leads(store, "L1", "L2")
    with pytest.raises(ConflictError, match="account_manager, not a closer"):
        store.reserve_and_record(make_assignment("L1", rep_id="AM1"))
    record = store.reserve_and_record(make_assignment("CU1", rep_id="AM1", kind="customer"))
    assert record is not None and record.kind == "customer"
    assert load_of(store, "AM1") == 1
    with pytest.raises(NotFoundError, match="ghost"):
        store.reserve_and_record(make_assignment("L2", rep_id="ghost"))


def test_the_subject_must_be_known(store: Store) -> None:
    """Its outcomes could not release the rep otherwise."""
    store.put_rep(make_rep("C1"))
    store.put_rep(make_rep("AM1", role="account_manager"))
    with pytest.raises(NotFoundError, match="unknown lead: subject_id 'L1'"):
        store.reserve_and_record(make_assignment("L1"))
    with pytest.raises(NotFoundError, match="unknown customer: subject_id 'CU1'"):
        store.reserve_and_record(make_assignment("CU1", rep_id="AM1", kind="customer"))
    assert load_of(store, "C1") == load_of(store, "AM1") == 0
