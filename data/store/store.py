"""`Store`: the operational store's one entry point, each method one transaction.

The API and the jobs hold one `Store` per process (its engine pools
connections); every method opens and commits its own transaction, so a method
either happens entirely or not at all.

Routing a lead: `put_lead` (or `record_scores`) so the lead is known, then
`reserve_and_record` with the chosen closer, then the runners-up in order
while it returns None. A won customer: `put_customer`, then the same with
`kind="customer"` and an account manager.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from data.contract import Lead, Rep, Role
from data.store import assignments, history, keys, outcomes, roster
from data.store.engine import make_engine, read, write
from data.store.errors import ConflictError
from data.store.store_records import (
    AssignmentIn,
    AssignmentKind,
    AssignmentRecord,
    CustomerIn,
    CustomerRecord,
    LeadRecord,
    OutcomeIn,
    OutcomeResult,
    RepIn,
    RepRecord,
    ScoreIn,
    ScoreRecord,
    utc_now,
)


class Store:
    """Reps, leads, scores, assignments and outcomes in SQLite or PostgreSQL.

    The schema must exist: run `data.store.migrate.upgrade(url)` first.
    `clock` gives the time the store stamps on what it writes (tests fix it).
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self._clock = clock

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def ping(self) -> bool:
        """True if the database answers (for readiness checks)."""
        with read(self.engine) as connection:
            return bool(connection.execute(text("SELECT 1")).scalar_one() == 1)

    # API keys

    def create_api_key(self, name: str, scopes: list[str]) -> tuple[keys.ApiKeyRecord, str]:
        """A new key and its token (shown once: only its hash is kept)."""
        with write(self.engine) as connection:
            return keys.create_key(connection, name, scopes, self._clock())

    def list_api_keys(self) -> list[keys.ApiKeyRecord]:
        with read(self.engine) as connection:
            return keys.list_keys(connection)

    def revoke_api_key(self, key_id: str) -> keys.ApiKeyRecord:
        with write(self.engine) as connection:
            return keys.revoke_key(connection, key_id, self._clock())

    def verify_api_key(self, token: str) -> keys.ApiKeyRecord | None:
        """The active key the token is, or None."""
        with read(self.engine) as connection:
            return keys.verify(connection, token)

    def active_api_keys(self) -> int:
        with read(self.engine) as connection:
            return keys.active_count(connection)

    # roster

    def put_rep(self, rep: RepIn) -> RepRecord:
        """Insert or replace a rep's roster entry; the load it holds is kept."""
        with write(self.engine) as connection:
            return roster.put_rep(connection, rep, self._clock())

    def get_rep(self, rep_id: str) -> RepRecord | None:
        with read(self.engine) as connection:
            return roster.get_rep(connection, rep_id)

    def list_reps(self, role: Role | str | None = None) -> list[RepRecord]:
        """All reps by id, or those of one role."""
        with read(self.engine) as connection:
            return roster.list_reps(connection, None if role is None else Role(role))

    def load_roster(self, reps: Iterable[Rep]) -> int:
        """Bulk upsert of contract reps (the generated `reps` table); returns how many."""
        with write(self.engine) as connection:
            return roster.load_roster(connection, reps, self._clock())

    # capacity

    def reserve(self, rep_id: str) -> bool:
        """Take one unit of capacity if the rep is active, available and below capacity.

        One conditional UPDATE, so concurrent calls never exceed the capacity.
        Raises NotFoundError for an unknown rep.
        """
        with write(self.engine) as connection:
            return roster.reserve(connection, rep_id)

    def release(self, rep_id: str) -> bool:
        """Give back one unit of capacity; False if the rep held nothing."""
        with write(self.engine) as connection:
            return roster.release(connection, rep_id)

    # leads and score history

    def put_lead(self, lead: Lead) -> LeadRecord:
        """Record a lead without a score, so it can be routed and hear outcomes."""
        with write(self.engine) as connection:
            return history.put_lead(connection, lead, self._clock())

    def record_scores(
        self,
        rows: Iterable[ScoreIn],
        journal: Mapping[str, int] | None = None,
        payloads: Sequence[str | None] | None = None,
    ) -> int:
        """Upsert each lead and append one score row each, all in one transaction;
        `journal` (name -> byte offset) records, in it, how far score journals are written.
        `payloads`, row by row, are the leads as JSON text when the caller has serialised
        them already (None: serialised here)."""
        rows = list(rows)
        if payloads is not None and len(payloads) != len(rows):
            raise ValueError(f"{len(payloads)} payloads for {len(rows)} scores")
        with write(self.engine) as connection:
            now = self._clock()
            written = history.record_scores(connection, rows, now, payloads)
            for name, offset in (journal or {}).items():
                history.advance_journal(connection, name, offset, now)
            return written

    def journal_offset(self, journal: str) -> int:
        """How far a score journal is in the history (bytes; 0 if unknown)."""
        with read(self.engine) as connection:
            return history.journal_offset(connection, journal)

    def forget_journal(self, journal: str) -> None:
        """Drop a replayed journal's progress row."""
        with write(self.engine) as connection:
            history.forget_journal(connection, journal)

    def score_history(self, lead_id: str, limit: int = 100) -> list[ScoreRecord]:
        """The lead's scores, newest first (empty for an unknown lead)."""
        with read(self.engine) as connection:
            return history.score_history(connection, lead_id, limit)

    def get_lead(self, lead_id: str) -> LeadRecord | None:
        with read(self.engine) as connection:
            return history.get_lead(connection, lead_id)

    def put_customer(self, customer: CustomerIn) -> CustomerRecord:
        """Record a won customer, so it can be assigned and hear outcomes."""
        with write(self.engine) as connection:
            return history.put_customer(connection, customer, self._clock())

    def get_customer(self, customer_id: str) -> CustomerRecord | None:
        with read(self.engine) as connection:
            return history.get_customer(connection, customer_id)

    # assignments

    def reserve_and_record(self, assignment: AssignmentIn) -> AssignmentRecord | None:
        """Reserve the rep and record the decision atomically.

        None if the rep is full, inactive or unavailable now: try the runner-up.
        ConflictError if the subject already has an open assignment, or the rep's
        role does not take this kind of work; NotFoundError for an unknown rep, lead
        or customer (record the subject first: `put_lead`, `record_scores`, `put_customer`).
        """
        try:
            with write(self.engine) as connection:
                return assignments.reserve_and_record(connection, assignment, self._clock())
        except IntegrityError as error:
            held = self.open_assignment(assignment.subject_id, assignment.kind)
            if held is None:
                raise
            raise ConflictError(
                "subject_id",
                assignment.subject_id,
                f"{assignment.kind} {assignment.subject_id!r} is already assigned to rep_id "
                f"{held.rep_id!r} (assignment {held.id}); release it first",
            ) from error

    def open_assignment(
        self, subject_id: str, kind: AssignmentKind | str = AssignmentKind.lead
    ) -> AssignmentRecord | None:
        """The subject's assignment still held by a rep, if any."""
        with read(self.engine) as connection:
            return assignments.open_assignment(connection, subject_id, AssignmentKind(kind))

    def latest_assignments(
        self, limit: int = 100, kind: AssignmentKind | str | None = None
    ) -> list[AssignmentRecord]:
        """The newest decisions first, for audits and off-policy evaluation."""
        with read(self.engine) as connection:
            wanted = None if kind is None else AssignmentKind(kind)
            return assignments.latest_assignments(connection, limit, wanted)

    def release_assignment(
        self, subject_id: str, kind: AssignmentKind | str = AssignmentKind.lead
    ) -> AssignmentRecord | None:
        """Close the subject's open assignment and free the rep; None if none is open."""
        with write(self.engine) as connection:
            return assignments.close(connection, subject_id, AssignmentKind(kind), self._clock())

    # outcomes

    def record_outcome(self, event: OutcomeIn) -> OutcomeResult:
        """Store a CRM event once per `event_id` and release the rep it frees.

        `stored` is True when this call wrote it, `duplicate` when it was
        already stored (same content). Raises ConflictError (same id, other
        content), NotFoundError (unknown lead, customer or rep_id), ContradictionError
        (won after lost, lost after won); nothing is stored when it raises.
        """
        try:
            with write(self.engine) as connection:
                return outcomes.record_outcome(connection, event, self._clock())
        except IntegrityError:
            # The same event_id committed by a concurrent request after our check.
            with read(self.engine) as connection:
                stored = outcomes.get_outcome(connection, event.event_id)
            if stored is None:
                raise
            return outcomes.answer_repeat(stored, event)
