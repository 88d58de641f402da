"""Who should work it: a qualified lead to a closer, a won customer to an account manager.

The roster and loads come from the store, the fits from the rep-fit model
(weighted round-robin when none is registered), the decision from the
assignment policy in `models.assignment.policy`, and the capacity is reserved
atomically together with the logged decision: if the chosen rep filled up in
the meantime, the roster is read again and the policy decides again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from data.contract import Customer, Lead, Role, segment_of
from data.store import AssignmentIn, AssignmentKind, AssignmentRecord, RepRecord, RunnerUp, Store
from data.store.store_records import CustomerIn
from features.columns import from_records
from features.rep_features import Roster
from models.assignment.policy import decide_one
from models.assignment.roster_rows import policy_rep
from models.assignment.types import Candidate, Decision, Item, PolicyConfig, Rep
from serving.model_store import FitModelSet, LoadedFitModel

ATTEMPTS = 5
"""Re-decisions when the chosen rep fills up between deciding and reserving."""


class AlreadyAssignedError(Exception):
    def __init__(self, record: AssignmentRecord) -> None:
        self.record = record
        super().__init__(
            f"{record.kind} '{record.subject_id}' is already assigned to rep_id '{record.rep_id}' "
            f"(assignment {record.id}, since {record.assigned_at.isoformat()}); report the "
            "outcome to release it"
        )


class NoEligibleRepError(Exception):
    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(decision.reason)


@dataclass(frozen=True)
class Routed:
    decision: Decision
    assignment: AssignmentRecord
    model: LoadedFitModel | None
    warnings: tuple[str, ...]
    reps: dict[str, RepRecord]


def _policy_reps(reps: Sequence[RepRecord]) -> list[Rep]:
    return [policy_rep(r.model_dump(), load=r.load) for r in reps]


def _fits(
    entry: LoadedFitModel | None, subject: dict[str, Any], reps: Sequence[RepRecord]
) -> tuple[list[float | None], list[float | None]]:
    """(fit, expected expansion if the outcome is good) per rep; Nones without a model."""
    if entry is None or not reps:
        return [None] * len(reps), [None] * len(reps)
    model = entry.model
    roster = Roster.from_records([r.model_dump() for r in reps])
    scores = model.fit_scores(from_records([subject], model.input_fields), roster)
    expansion = scores.expansion_if_retained
    return (
        [float(p) for p in scores.probability[0]],
        [None] * len(reps) if expansion is None else [float(e) for e in expansion[0]],
    )


def _assign(
    store: Store,
    kind: AssignmentKind,
    subject_id: str,
    role: Role,
    decide: Callable[[list[RepRecord]], tuple[Decision, LoadedFitModel | None, tuple[str, ...]]],
) -> Routed:
    if (open_one := store.open_assignment(subject_id, kind)) is not None:
        raise AlreadyAssignedError(open_one)
    for _ in range(ATTEMPTS):
        reps = store.list_reps(role)
        decision, entry, warnings = decide(reps)
        if decision.chosen is None:
            raise NoEligibleRepError(decision)
        chosen = next(r for r in decision.ranked if r.rep_id == decision.chosen)
        record = store.reserve_and_record(
            AssignmentIn(
                kind=kind,
                subject_id=subject_id,
                rep_id=decision.chosen,
                policy=decision.policy,
                propensity=decision.propensity or 0.0,
                objective=chosen.objective,
                explored=decision.explored,
                runners_up=[
                    RunnerUp(
                        rep_id=r.rep_id,
                        fit=r.fit or 0.0,
                        expected_value=r.expected_value or 0.0,
                        propensity=r.propensity,
                    )
                    for r in decision.runners_up
                ],
            )
        )
        if record is not None:
            return Routed(decision, record, entry, warnings, {r.rep_id: r for r in reps})
    raise NoEligibleRepError(
        Decision(
            item_id=subject_id,
            chosen=None,
            policy=decision.policy,
            reason=f"every chosen rep filled up before the reservation ({ATTEMPTS} attempts)",
        )
    )


def _model_for(
    models: FitModelSet | None, role: Role
) -> tuple[LoadedFitModel | None, tuple[str, ...]]:
    if models is not None and role.value in models.loaded:
        return models.loaded[role.value], ()
    missing = models.missing.get(role.value) if models is not None else None
    why = missing.reason if missing is not None else "the rep-fit models are still loading"
    return None, (f"no {role.value} fit model: {why}",)


def route_lead(
    store: Store,
    models: FitModelSet | None,
    config: PolicyConfig,
    lead: Lead,
    deal_value: float | None,
) -> Routed:
    """Choose a closer for a qualified lead and reserve the closer's capacity."""
    entry, warnings = _model_for(models, Role.closer)
    store.put_lead(lead)
    value = 1.0 if deal_value is None else deal_value

    def decide(reps: list[RepRecord]) -> tuple[Decision, LoadedFitModel | None, tuple[str, ...]]:
        fits, _ = _fits(entry, dict(lead.__dict__), reps)
        item = Item(
            item_id=lead.lead_id,
            candidates=[Candidate(r.rep_id, fit, value) for r, fit in zip(reps, fits, strict=True)],
            region=lead.company_region,
            segment=segment_of(lead.company_size),
        )
        return decide_one(item, _policy_reps(reps), config), entry, warnings

    return _assign(store, AssignmentKind.lead, lead.lead_id, Role.closer, decide)


def assign_customer(
    store: Store, models: FitModelSet | None, config: PolicyConfig, customer: Customer
) -> Routed:
    """Choose an account manager for a won customer and reserve room in the book."""
    entry, warnings = _model_for(models, Role.account_manager)
    store.put_customer(
        CustomerIn(
            customer_id=customer.customer_id,
            lead_id=customer.lead_id,
            payload=customer.model_dump(mode="json"),
        )
    )
    subject = dict(customer.__dict__)

    def decide(reps: list[RepRecord]) -> tuple[Decision, LoadedFitModel | None, tuple[str, ...]]:
        fits, expansions = _fits(entry, subject, reps)
        candidates = [
            Candidate(r.rep_id, fit, customer.account_value + (expansion or 0.0))
            for r, fit, expansion in zip(reps, fits, expansions, strict=True)
        ]
        item = Item(
            item_id=customer.customer_id,
            candidates=candidates,
            region=customer.company_region,
            segment=segment_of(customer.company_size),
        )
        return decide_one(item, _policy_reps(reps), config), entry, warnings

    return _assign(
        store, AssignmentKind.customer, customer.customer_id, Role.account_manager, decide
    )
