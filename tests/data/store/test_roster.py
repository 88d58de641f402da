"""The roster: upserts keep the load, bad values are refused naming the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from data.contract import Rep
from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate
from data.json_rows import to_records
from data.store import NotFoundError, RepIn, Store
from tests.data.store.helpers import make_rep


def test_put_get_and_list(store: Store) -> None:
    stored = store.put_rep(make_rep("C1", industries=["software", "finance"], weight=1.5))
    store.put_rep(make_rep("AM1", role="account_manager", capacity=40))
    assert stored.load == 0
    assert stored.industries == ["software", "finance"]
    assert stored.updated_at.tzinfo is not None
    assert store.get_rep("C1") == stored
    assert store.get_rep("nobody") is None
    assert [r.rep_id for r in store.list_reps()] == ["AM1", "C1"]
    assert [r.rep_id for r in store.list_reps(role="closer")] == ["C1"]
    assert store.list_reps(role="prospector") == []


def test_update_replaces_roster_fields_and_keeps_the_load(store: Store) -> None:
    store.put_rep(make_rep("C1", capacity=3))
    assert store.reserve("C1") and store.reserve("C1")
    updated = store.put_rep(make_rep("C1", capacity=1, available=False, region=None))
    assert (updated.capacity, updated.available, updated.region, updated.load) == (
        1,
        False,
        None,
        2,
    )
    # Capacity below the load is allowed; new work is refused until it drains.
    store.put_rep(make_rep("C1", capacity=1))
    assert store.reserve("C1") is False
    assert store.release("C1") and store.release("C1")
    assert store.reserve("C1") is True


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity", -1),
        ("role", "wizard"),
        ("region", "mars"),
        ("weight", 0),
        ("weight", float("nan")),
        ("rep_id", ""),
        ("industries", "software"),
    ],
)
def test_invalid_reps_are_refused_naming_the_field(field: str, value: object) -> None:
    valid = make_rep().model_dump()
    with pytest.raises(ValidationError) as caught:
        RepIn.model_validate({**valid, field: value})
    assert field in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_unknown_fields_and_unknown_roles_are_refused(store: Store) -> None:
    with pytest.raises(ValidationError, match="load"):
        RepIn.model_validate({"rep_id": "C1", "role": "closer", "capacity": 1, "load": 3})
    with pytest.raises(ValueError, match="wizard"):
        store.list_reps(role="wizard")


def test_load_roster_from_the_generated_reps_table(store: Store) -> None:
    frame = generate(GeneratorConfig(leads=200, seed=3))["reps"]
    reps = [Rep.model_validate(row) for row in to_records(frame)]
    assert store.load_roster(reps) == len(reps)
    listed = store.list_reps()
    assert {r.rep_id for r in listed} == {r.rep_id for r in reps}
    assert all(r.available and r.weight == 1.0 and r.load == 0 for r in listed)
    closer = next(r for r in reps if r.role == "closer")
    assert store.get_rep(closer.rep_id) is not None
    assert len(store.list_reps(role="closer")) == sum(r.role == "closer" for r in reps)

    # Reloading keeps what the roster file does not know: availability, weight, load.
    assert store.reserve(closer.rep_id)
    store.put_rep(RepIn.model_validate({**closer.model_dump(), "available": False, "weight": 2}))
    renamed = closer.model_copy(update={"name": "Renamed", "capacity": closer.capacity + 1})
    store.load_roster([renamed])
    again = store.get_rep(closer.rep_id)
    assert again is not None
    assert (again.name, again.capacity) == ("Renamed", closer.capacity + 1)
    assert (again.available, again.weight, again.load) == (False, 2.0, 1)
    assert store.load_roster([]) == 0


def test_capacity_calls_name_an_unknown_rep(store: Store) -> None:
    with pytest.raises(NotFoundError, match="rep_id 'ghost'") as caught:
        store.reserve("ghost")
    assert (caught.value.field, caught.value.value) == ("rep_id", "ghost")
    with pytest.raises(NotFoundError, match="ghost"):
        store.release("ghost")
