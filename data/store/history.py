"""Leads, customers and the score history: what the service has seen and said.

`record_scores` is on the batch path (a nightly re-scoring writes millions of
rows), so it writes with one executemany per table and no per-row round trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, delete, insert, select
from sqlalchemy.sql.dml import Insert

from data.contract import Lead
from data.store.bulk import BulkInsert
from data.store.engine import JsonText, insert_for
from data.store.schema import customers, journal_progress, leads, scores
from data.store.store_records import CustomerIn, CustomerRecord, LeadRecord, ScoreIn, ScoreRecord


def upsert_leads(
    connection: Connection,
    rows: Sequence[tuple[Lead, datetime | None]],
    now: datetime,
    payloads: Sequence[str | None] | None = None,
) -> None:
    """Insert or refresh leads: (lead, scored_at, or None when seen but not scored).

    The payload is the last one written; `last_scored_at` only moves forward;
    `first_seen_at` and `first_payload` (the lead as first seen, what training
    may use without later fields leaking in) are set once. A lead twice in
    `rows` is written once (the last payload, the earliest one as the first,
    the latest score time): PostgreSQL refuses to upsert one row twice in a
    statement. `payloads`, when given, are the leads' JSON text, already serialised.
    """
    latest: dict[str, dict[str, Any]] = {}
    for position, (lead, scored_at) in enumerate(rows):
        first_seen: datetime = scored_at or now
        last_scored = scored_at
        given = payloads[position] if payloads is not None else None
        payload = JsonText(given if given is not None else lead.model_dump_json())
        first_payload = payload
        if (before := latest.get(lead.lead_id)) is not None:
            if before["first_seen_at"] <= first_seen:
                first_seen, first_payload = before["first_seen_at"], before["first_payload"]
            earlier = before["last_scored_at"]
            if earlier is not None and (last_scored is None or earlier > last_scored):
                last_scored = earlier
        latest[lead.lead_id] = {
            "lead_id": lead.lead_id,
            "channel": lead.channel,
            "created_at": lead.created_at,
            "payload": payload,
            "first_payload": first_payload,
            "first_seen_at": first_seen,
            "last_scored_at": last_scored,
        }
    if latest:
        _UPSERT_LEADS.execute(connection, list(latest.values()))


def _upsert_leads_statement(connection: Connection) -> Insert:
    insert_ = insert_for(connection, leads)
    new = insert_.excluded.last_scored_at
    old = leads.c.last_scored_at
    return insert_.on_conflict_do_update(
        index_elements=[leads.c.lead_id],
        set_={
            "channel": insert_.excluded.channel,
            "created_at": insert_.excluded.created_at,
            "payload": insert_.excluded.payload,
            "last_scored_at": case((old.is_(None), new), (new > old, new), else_=old),
        },
    )


_UPSERT_LEADS = BulkInsert(
    leads,
    (
        "lead_id",
        "channel",
        "created_at",
        "payload",
        "first_payload",
        "first_seen_at",
        "last_scored_at",
    ),
    _upsert_leads_statement,
)
_INSERT_SCORES = BulkInsert(
    scores,
    (
        "lead_id",
        "scored_at",
        "model_name",
        "model_version",
        "probability",
        "score",
        "grade",
        "reasons",
    ),
    lambda _: insert(scores),
)


def put_lead(connection: Connection, lead: Lead, now: datetime) -> LeadRecord:
    """Record a lead without scoring it (routing and outcomes need it known)."""
    upsert_leads(connection, [(lead, None)], now)
    record = get_lead(connection, lead.lead_id)
    assert record is not None
    return record


def record_scores(
    connection: Connection,
    rows: Sequence[ScoreIn],
    now: datetime,
    payloads: Sequence[str | None] | None = None,
) -> int:
    """Upsert every scored lead and append one score row each (`payloads`: see
    `upsert_leads`)."""
    if not rows:
        return 0
    upsert_leads(connection, [(row.lead, row.scored_at or now) for row in rows], now, payloads)
    _INSERT_SCORES.execute(
        connection,
        [
            {
                "lead_id": row.lead.lead_id,
                "scored_at": row.scored_at or now,
                "model_name": row.model_name,
                "model_version": row.model_version,
                "probability": row.probability,
                "score": row.score,
                "grade": row.grade,
                "reasons": row.reasons,
            }
            for row in rows
        ],
    )
    return len(rows)


def advance_journal(connection: Connection, journal: str, offset: int, now: datetime) -> None:
    """Record that `journal` is in the history up to byte `offset` (call in the
    transaction that wrote those scores)."""
    insert_ = insert_for(connection, journal_progress)
    statement = insert_.values(
        journal=journal, committed_offset=offset, updated_at=now
    ).on_conflict_do_update(
        index_elements=[journal_progress.c.journal],
        set_={"committed_offset": offset, "updated_at": now},
    )
    connection.execute(statement)


def journal_offset(connection: Connection, journal: str) -> int:
    """How far `journal` is in the history (0 if nothing of it is)."""
    query = select(journal_progress.c.committed_offset).where(journal_progress.c.journal == journal)
    offset = connection.execute(query).scalar_one_or_none()
    return int(offset or 0)


def forget_journal(connection: Connection, journal: str) -> None:
    connection.execute(delete(journal_progress).where(journal_progress.c.journal == journal))


def score_history(connection: Connection, lead_id: str, limit: int) -> list[ScoreRecord]:
    query = (
        select(scores)
        .where(scores.c.lead_id == lead_id)
        .order_by(scores.c.scored_at.desc(), scores.c.id.desc())
        .limit(limit)
    )
    return [ScoreRecord.model_validate(dict(row._mapping)) for row in connection.execute(query)]


def get_lead(connection: Connection, lead_id: str) -> LeadRecord | None:
    row = connection.execute(select(leads).where(leads.c.lead_id == lead_id)).first()
    if row is None:
        return None
    return LeadRecord(
        lead=Lead.model_validate(row.payload),
        first_lead=Lead.model_validate(row.first_payload),
        first_seen_at=row.first_seen_at,
        last_scored_at=row.last_scored_at,
    )


def put_customer(connection: Connection, customer: CustomerIn, now: datetime) -> CustomerRecord:
    """Insert or refresh a customer; `first_seen_at` is set once."""
    insert_ = insert_for(connection, customers)
    statement = insert_.values(**customer.model_dump(), first_seen_at=now).on_conflict_do_update(
        index_elements=[customers.c.customer_id],
        set_={"lead_id": insert_.excluded.lead_id, "payload": insert_.excluded.payload},
    )
    connection.execute(statement)
    record = get_customer(connection, customer.customer_id)
    assert record is not None
    return record


def get_customer(connection: Connection, customer_id: str) -> CustomerRecord | None:
    query = select(customers).where(customers.c.customer_id == customer_id)
    row = connection.execute(query).first()
    return None if row is None else CustomerRecord.model_validate(dict(row._mapping))
