"""The roster and its capacity: who may take work, and how much they hold now.

Functions take an open connection so the caller decides the transaction;
`Store` wraps each in one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from data.contract import Rep
from data.store.engine import insert_for
from data.store.errors import ConflictError, NotFoundError
from data.store.schema import reps
from data.store.store_records import RepIn, RepRecord

# Roster fields a `PUT` replaces; `load` is the store's own and never among them.
ROSTER_FIELDS = ("name", "role", "region", "segment", "industries", "capacity", "active")


def _record(row: Row[Any]) -> RepRecord:
    return RepRecord.model_validate(dict(row._mapping))


def put_rep(connection: Connection, rep: RepIn, now: datetime) -> RepRecord:
    """Insert or replace a rep's roster entry, keeping the load it holds."""
    values = {**rep.model_dump(), "updated_at": now}
    insert = insert_for(connection, reps)
    changed = [*ROSTER_FIELDS, "available", "weight", "updated_at"]
    statement = insert.values(load=0, **values).on_conflict_do_update(
        index_elements=[reps.c.rep_id],
        set_={name: insert.excluded[name] for name in changed},
    )
    connection.execute(statement)
    record = get_rep(connection, rep.rep_id)
    assert record is not None
    return record


def load_roster(connection: Connection, roster: Iterable[Rep], now: datetime) -> int:
    """Bulk upsert of contract reps; availability, weight and load of known reps stay.

    The contract `Rep` (the generated `reps` table) knows nothing of
    availability or weight, so new reps start available with weight 1.
    """
    rows = [
        {**rep.model_dump(), "available": True, "weight": 1.0, "load": 0, "updated_at": now}
        for rep in roster
    ]
    if not rows:
        return 0
    insert = insert_for(connection, reps)
    statement = insert.on_conflict_do_update(
        index_elements=[reps.c.rep_id],
        set_={name: insert.excluded[name] for name in (*ROSTER_FIELDS, "updated_at")},
    )
    connection.execute(statement, rows)
    return len(rows)


def get_rep(connection: Connection, rep_id: str) -> RepRecord | None:
    row = connection.execute(select(reps).where(reps.c.rep_id == rep_id)).first()
    return None if row is None else _record(row)


def list_reps(connection: Connection, role: str | None = None) -> list[RepRecord]:
    query = select(reps).order_by(reps.c.rep_id)
    if role is not None:
        query = query.where(reps.c.role == role)
    return [_record(row) for row in connection.execute(query)]


def reserve(connection: Connection, rep_id: str, role: str | None = None) -> bool:
    """Take one unit of the rep's capacity if free, in ONE conditional UPDATE.

    The condition is checked by the database on the row it updates, so
    concurrent reservations can never push the load past the capacity:
    PostgreSQL re-checks it after waiting for a concurrent writer's row lock,
    SQLite runs one writer at a time. False: full, inactive or unavailable.
    """
    conditions = [
        reps.c.rep_id == rep_id,
        reps.c.load < reps.c.capacity,
        reps.c.active,
        reps.c.available,
    ]
    if role is not None:
        conditions.append(reps.c.role == role)
    statement = update(reps).where(*conditions).values(load=reps.c.load + 1)
    if connection.execute(statement.returning(reps.c.load)).first() is not None:
        return True
    rep = get_rep(connection, rep_id)
    if rep is None:
        raise NotFoundError("rep_id", rep_id)
    if role is not None and rep.role != role:
        raise ConflictError("rep_id", rep_id, f"rep_id {rep_id!r} is a {rep.role}, not a {role}")
    return False


def release(connection: Connection, rep_id: str) -> bool:
    """Give back one unit of capacity; False if the rep held nothing."""
    statement = (
        update(reps)
        .where(reps.c.rep_id == rep_id, reps.c.load > 0)
        .values(load=reps.c.load - 1)
        .returning(reps.c.load)
    )
    if connection.execute(statement).first() is not None:
        return True
    if get_rep(connection, rep_id) is None:
        raise NotFoundError("rep_id", rep_id)
    return False
