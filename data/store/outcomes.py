"""Outcomes from the CRM: stored once per `event_id`, checked, and acted on.

CRMs re-send webhooks, so the same event arriving twice is answered with the
stored one; an id reused for a different event is refused. Everything one
event changes (the event row, the closed assignment, the rep's load) happens
in the caller's single transaction, so an error leaves nothing half-stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from data.store import assignments as assignment_rows
from data.store.errors import ConflictError, ContradictionError, NotFoundError
from data.store.schema import customers, leads, outcomes, reps
from data.store.store_records import (
    AssignmentKind,
    AssignmentRecord,
    OutcomeIn,
    OutcomeRecord,
    OutcomeResult,
    OutcomeType,
)

# A deal is won or lost once; a lost deal that is revived is a new lead in the CRM.
OPPOSITE = {OutcomeType.won: OutcomeType.lost, OutcomeType.lost: OutcomeType.won}
# Events that end the work a rep holds: the closer's deal, the account manager's account.
RELEASES: dict[str, AssignmentKind] = {
    OutcomeType.won: AssignmentKind.lead,
    OutcomeType.lost: AssignmentKind.lead,
    OutcomeType.churned: AssignmentKind.customer,
}


def get_outcome(connection: Connection, event_id: str) -> OutcomeRecord | None:
    row = connection.execute(select(outcomes).where(outcomes.c.event_id == event_id)).first()
    return None if row is None else OutcomeRecord.model_validate(dict(row._mapping))


def answer_repeat(stored: OutcomeRecord, event: OutcomeIn) -> OutcomeResult:
    """The same event again is a duplicate; the same id for another event is a conflict."""
    differing = [
        name for name in OutcomeIn.model_fields if getattr(stored, name) != getattr(event, name)
    ]
    if differing:
        raise ConflictError(
            "event_id",
            event.event_id,
            f"event_id {event.event_id!r} was already recorded with a different "
            f"{', '.join(differing)}; an event id must not be reused for another event",
        )
    return OutcomeResult(stored=False, duplicate=True, event=stored)


def record_outcome(connection: Connection, event: OutcomeIn, now: datetime) -> OutcomeResult:
    stored = get_outcome(connection, event.event_id)
    if stored is not None:
        return answer_repeat(stored, event)
    field, subject_id = event.subject
    key = leads.c.lead_id if field == "lead_id" else customers.c.customer_id
    # Lock the lead or customer row: two contradictory events arriving at once
    # are then checked one after the other (PostgreSQL; SQLite has one writer).
    if connection.execute(select(key).where(key == subject_id).with_for_update()).first() is None:
        raise NotFoundError(field, subject_id)
    if event.rep_id is not None and (
        connection.execute(select(reps.c.rep_id).where(reps.c.rep_id == event.rep_id)).first()
        is None
    ):
        raise NotFoundError("rep_id", event.rep_id, what="rep")
    _refuse_contradiction(connection, event)
    row = {**event.model_dump(), "received_at": now}
    connection.execute(insert(outcomes).values(**row))
    released: AssignmentRecord | None = None
    if (kind := RELEASES.get(event.type)) is not None:
        released = assignment_rows.close(connection, subject_id, kind, now)
    return OutcomeResult(
        stored=True,
        duplicate=False,
        event=OutcomeRecord.model_validate(row),
        released=released,
    )


def _refuse_contradiction(connection: Connection, event: OutcomeIn) -> None:
    opposite = OPPOSITE.get(OutcomeType(event.type))
    if opposite is None:
        return
    query = (
        select(outcomes.c.event_id)
        .where(outcomes.c.lead_id == event.lead_id, outcomes.c.type == opposite)
        .order_by(outcomes.c.occurred_at)
        .limit(1)
    )
    earlier = connection.execute(query).scalar_one_or_none()
    if earlier is not None:
        raise ContradictionError(
            "type",
            event.type,
            earlier,
            f"{event.type} event {event.event_id!r} for lead_id {event.lead_id!r} contradicts "
            f"{opposite} event {earlier!r} recorded earlier",
        )
