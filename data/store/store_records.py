"""What goes into the store and what comes out: pydantic records, never ORM rows.

Inputs (`...In`) validate everything a client may send, so a bad value is
refused with a message naming the field before any SQL runs; outputs
(`...Record`) are what the store read back, with times in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, model_validator

from data.contract import Lead, Region, Role, Segment
from data.input_rules import InputModel


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive time is taken to be UTC already (as CRMs export it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


UtcTime = Annotated[datetime, AfterValidator(as_utc)]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
JsonObject = dict[str, JsonValue]


class AssignmentKind(StrEnum):
    """What is assigned: a qualified lead to a closer, a won customer to an account manager."""

    lead = "lead"
    customer = "customer"


ROLE_OF_KIND: dict[str, Role] = {
    AssignmentKind.lead: Role.closer,
    AssignmentKind.customer: Role.account_manager,
}


class OutcomeType(StrEnum):
    """What the CRM reports; the first four are about leads, the last two about customers.

    `contacted` is the first touch by an inbound specialist or prospector; more
    than one may arrive (every touch), and the first one counts in the analytics.
    """

    contacted = "contacted"
    qualified = "qualified"
    won = "won"
    lost = "lost"
    renewed = "renewed"
    churned = "churned"


LEAD_OUTCOMES = frozenset(
    {OutcomeType.contacted, OutcomeType.qualified, OutcomeType.won, OutcomeType.lost}
)
CUSTOMER_OUTCOMES = frozenset({OutcomeType.renewed, OutcomeType.churned})


class _In(InputModel):
    """What a client sends: checked field by field (`data.input_rules`)."""


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, use_enum_values=True)


class RepIn(_In):
    """A rep as the roster sets it (`PUT /v1/reps`); the load is the store's business."""

    rep_id: Id
    name: str | None = Field(default=None, max_length=256)
    role: Role
    region: Region | None = Field(default=None, description="Territory; None means any.")
    segment: Segment | None = Field(default=None, description="Segment; None means any.")
    industries: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, description="Industry focus; empty means any."
    )
    capacity: int = Field(ge=0, description="Open opportunities or accounts at most.")
    active: bool = Field(default=True, description="Still in the team.")
    available: bool = Field(default=True, description="Takes new work now (not on leave).")
    weight: float = Field(
        default=1.0, gt=0, allow_inf_nan=False, description="Share of new work, relative."
    )


class RepRecord(RepIn):
    model_config = ConfigDict(extra="ignore")

    load: int = Field(ge=0, description="Open items now: reserved and not yet released.")
    updated_at: UtcTime


class ScoreIn(_In):
    """One scored lead: the lead as posted and what the model said about it."""

    lead: Lead
    model_name: str = Field(min_length=1, max_length=256)
    model_version: str = Field(min_length=1, max_length=64)
    probability: Probability
    score: int = Field(ge=1, le=99)
    grade: Literal["A", "B", "C", "D"]
    reasons: list[JsonObject] = Field(default_factory=list)
    scored_at: UtcTime | None = Field(default=None, description="Default: when it is recorded.")


class ScoreRecord(_Out):
    id: int
    lead_id: str
    scored_at: UtcTime
    model_name: str
    model_version: str
    probability: float
    score: int
    grade: str
    reasons: list[JsonObject]


class LeadRecord(_Out):
    lead: Lead
    first_lead: Lead = Field(
        description="The lead as first recorded, never updated: what training may read."
    )
    first_seen_at: UtcTime
    last_scored_at: UtcTime | None


class CustomerIn(_In):
    """A won customer the service may assign and hear outcomes about."""

    customer_id: Id
    lead_id: str | None = Field(default=None, max_length=128, description="The lead it was.")
    payload: JsonObject = Field(default_factory=dict, description="The customer as posted.")


class CustomerRecord(CustomerIn):
    model_config = ConfigDict(extra="ignore")

    first_seen_at: UtcTime


class RunnerUp(_In):
    """A rep the policy considered and did not choose, with why (fit and value)."""

    rep_id: Id
    fit: Probability
    expected_value: Finite
    propensity: Probability = Field(description="Probability the policy would have chosen it.")


class AssignmentIn(_In):
    """One routing decision, with what off-policy evaluation needs later."""

    kind: AssignmentKind
    subject_id: Id = Field(description="The lead_id (kind lead) or customer_id (kind customer).")
    rep_id: Id
    policy: str = Field(min_length=1, max_length=64, examples=["expected_value"])
    propensity: Probability = Field(description="Probability the policy chose this rep.")
    objective: Finite = Field(description="The policy's objective for the chosen rep.")
    runners_up: list[RunnerUp] = Field(default_factory=list)
    explored: bool = Field(default=False, description="Chosen by exploration, not the best.")
    assigned_at: UtcTime | None = Field(default=None, description="Default: when recorded.")


class AssignmentRecord(AssignmentIn):
    model_config = ConfigDict(extra="ignore")

    id: int
    assigned_at: UtcTime
    released_at: UtcTime | None = Field(description="None while the rep still holds it.")


class OutcomeIn(_In):
    """An event from the CRM; `event_id` makes re-sending it harmless."""

    event_id: Id
    type: OutcomeType
    lead_id: str | None = Field(default=None, min_length=1, max_length=128)
    customer_id: str | None = Field(default=None, min_length=1, max_length=128)
    occurred_at: UtcTime
    value: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    rep_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Who did it, a rep of the roster: the inbound specialist or prospector "
        "for contacted and qualified, the closer for won and lost, the account manager for "
        "renewed and churned. Optional.",
    )
    payload: JsonObject = Field(default_factory=dict, description="The event as the CRM sent it.")

    @model_validator(mode="after")
    def _one_subject(self) -> OutcomeIn:
        wanted, other = (
            ("lead_id", "customer_id") if self.type in LEAD_OUTCOMES else ("customer_id", "lead_id")
        )
        if getattr(self, wanted) is None:
            raise ValueError(f"{wanted} is required for a {self.type} event")
        if getattr(self, other) is not None:
            raise ValueError(f"{other} must be empty for a {self.type} event")
        return self

    @property
    def subject(self) -> tuple[str, str]:
        """(field, id) of what the event is about."""
        if self.lead_id is not None:
            return "lead_id", self.lead_id
        assert self.customer_id is not None  # the validator guarantees one of them
        return "customer_id", self.customer_id


class OutcomeRecord(OutcomeIn):
    model_config = ConfigDict(extra="ignore")

    received_at: UtcTime


class OutcomeResult(_Out):
    """What `record_outcome` did: `stored` by this call, or a `duplicate` of a stored event."""

    stored: bool
    duplicate: bool
    event: OutcomeRecord
    released: AssignmentRecord | None = Field(
        default=None, description="The assignment this event closed (won, lost, churned)."
    )
