"""Request and response bodies of the routing endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field

from data.contract import Customer
from serving.routing.online import Routed
from serving.schemas import ModelRef


class CustomerToAssign(Customer):
    """A won customer, with the customers table's columns as generated; the account
    manager the export may already name is ignored: choosing one is the point."""

    account_manager_id: str | None = Field(  # type: ignore[assignment]
        default=None, max_length=128, description="Ignored: the service chooses."
    )


class RepOption(BaseModel):
    rep_id: str
    name: str | None
    fit: float | None = Field(
        description="Predicted P(success) with this rep; None without a model."
    )
    expected_value: float | None = Field(description="fit x value.")
    objective: float = Field(description="Expected value minus the fairness penalty.")
    propensity: float = Field(description="Probability the policy would choose this rep.")
    reason: str


class IneligibleRep(BaseModel):
    rep_id: str
    reason: str


class Assignment(BaseModel):
    """Who works it, who else was considered, and why."""

    kind: str = Field(description="lead (to a closer) or customer (to an account manager).")
    subject_id: str = Field(description="The lead_id or customer_id.")
    assignment_id: int
    chosen: RepOption
    policy: str = Field(description="expected_value, or round_robin_fallback without a fit model.")
    propensity: float = Field(description="Probability of this choice (for unbiased evaluation).")
    explored: bool = Field(description="Chosen by exploration rather than as the best option.")
    reason: str
    ranked: list[RepOption] = Field(description="Eligible reps, best first.")
    ineligible: list[IneligibleRep]
    model: ModelRef | None = Field(description="The fit model used; None under the fallback.")
    warnings: list[str]

    @classmethod
    def of(cls, routed: Routed) -> Assignment:
        decision = routed.decision
        options = [
            RepOption(
                rep_id=r.rep_id,
                name=routed.reps[r.rep_id].name if r.rep_id in routed.reps else None,
                fit=r.fit,
                expected_value=r.expected_value,
                objective=r.objective,
                propensity=r.propensity,
                reason=r.reason,
            )
            for r in decision.ranked
        ]
        chosen = next(o for o in options if o.rep_id == decision.chosen)
        entry = routed.model
        return cls(
            kind=routed.assignment.kind,
            subject_id=routed.assignment.subject_id,
            assignment_id=routed.assignment.id,
            chosen=chosen,
            policy=decision.policy,
            propensity=routed.assignment.propensity,
            explored=decision.explored,
            reason=decision.reason,
            ranked=options,
            ineligible=[
                IneligibleRep(rep_id=i.rep_id, reason=i.reason) for i in decision.ineligible
            ],
            model=None if entry is None else ModelRef(name=entry.name, version=entry.version),
            warnings=list(routed.warnings),
        )
