"""Routing decisions: a rep's reservation and the record of why, kept together.

An assignment is open while `released_at` is null; the partial unique index
`ux_assignments_open` allows one open assignment per subject, so a lead
routed twice (even by two concurrent requests) cannot hold two closers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from data.store import roster
from data.store.errors import NotFoundError
from data.store.schema import assignments, customers, leads
from data.store.store_records import ROLE_OF_KIND, AssignmentIn, AssignmentKind, AssignmentRecord


def _record(row: Row[Any]) -> AssignmentRecord:
    return AssignmentRecord.model_validate(dict(row._mapping))


def reserve_and_record(
    connection: Connection, assignment: AssignmentIn, now: datetime
) -> AssignmentRecord | None:
    """Reserve the rep and insert the assignment; None if the rep has no room now.

    Both happen in the caller's transaction: if the insert fails (the subject
    already has an open assignment), the reservation is rolled back with it.
    The subject must be known, so that its outcomes can later release the rep.
    """
    key = leads.c.lead_id if assignment.kind == AssignmentKind.lead else customers.c.customer_id
    if connection.execute(select(key).where(key == assignment.subject_id)).first() is None:
        raise NotFoundError("subject_id", assignment.subject_id, what=assignment.kind)
    role = ROLE_OF_KIND[assignment.kind]
    if not roster.reserve(connection, assignment.rep_id, role):
        return None
    values = assignment.model_dump()
    values["assigned_at"] = assignment.assigned_at or now
    statement = insert(assignments).values(**values).returning(*assignments.c)
    row = connection.execute(statement).one()
    return _record(row)


def open_assignment(connection: Connection, subject_id: str, kind: str) -> AssignmentRecord | None:
    query = select(assignments).where(
        assignments.c.subject_id == subject_id,
        assignments.c.kind == kind,
        assignments.c.released_at.is_(None),
    )
    row = connection.execute(query).first()
    return None if row is None else _record(row)


def latest_assignments(
    connection: Connection, limit: int, kind: str | None = None
) -> list[AssignmentRecord]:
    query = select(assignments).order_by(assignments.c.assigned_at.desc(), assignments.c.id.desc())
    if kind is not None:
        query = query.where(assignments.c.kind == kind)
    return [_record(row) for row in connection.execute(query.limit(limit))]


def close(
    connection: Connection, subject_id: str, kind: str, now: datetime
) -> AssignmentRecord | None:
    """Release the subject's open assignment and the rep's capacity; None if none is open."""
    statement = (
        update(assignments)
        .where(
            assignments.c.subject_id == subject_id,
            assignments.c.kind == kind,
            assignments.c.released_at.is_(None),
        )
        .values(released_at=now)
        .returning(*assignments.c)
    )
    row = connection.execute(statement).first()
    if row is None:
        return None
    roster.release(connection, row.rep_id)
    return _record(row)
