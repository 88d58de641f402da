"""The shapes of the insights answers, one definition for the API and the report.

These are the fixed contract the dashboard builds against: the API returns
them as they are, and `gather_report` dumps them to plain dicts of the same
shape (`model_dump(mode="json", by_alias=True)`). Times are UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

Stage = Literal["created", "contacted", "qualified", "routed", "won", "retained"]
EventStage = Literal[
    "created",
    "scored",
    "contacted",
    "qualified",
    "routed",
    "won",
    "lost",
    "handed_over",
    "renewed",
    "churned",
]
RoleName = Literal["inbound_specialist", "prospector", "closer", "account_manager"]
Breakdown = Literal["channel", "source", "role", "rep", "segment", "grade"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, validate_by_name=True, serialize_by_alias=True)


class Period(_Out):
    start: datetime = Field(description="Inclusive.")
    end: datetime = Field(description="Exclusive.")


class TimelineEvent(_Out):
    at: datetime
    stage: EventStage
    rep_id: str | None = Field(description="Who did it, when known.")
    role: RoleName | None = Field(description="That rep's role.")
    detail: dict[str, JsonValue] = Field(
        description="scored: model, version, score, grade; routed and handed_over: policy, "
        "propensity, reasons (the runners-up); won, lost, renewed, churned: value."
    )
    since_previous_seconds: float | None = Field(description="None for the first event.")


class Handoff(_Out):
    from_role: RoleName | None
    from_rep_id: str | None
    to_role: RoleName | None
    to_rep_id: str
    at: datetime
    after_seconds: float | None = Field(
        description="From the handing rep's last event to the hand-off; None if it had none."
    )


class Timeline(_Out):
    lead_id: str
    channel: str
    created_at: datetime
    events: list[TimelineEvent]
    handoffs: list[Handoff]


class Conversion(_Out):
    from_: Stage = Field(alias="from")
    to: Stage
    rate: float | None = Field(description="counts[to] / counts[from]; None when from is 0.")
    low: float | None = Field(description="95% Wilson interval, lower bound.")
    high: float | None = Field(description="95% Wilson interval, upper bound.")
    shrunk_rate: float | None = Field(
        description="(counts[to] + 20 x overall rate) / (counts[from] + 20): small groups are "
        "pulled toward the overall rate; None when from is 0."
    )
    small: bool = Field(description="counts[from] < 30: read the rate with care.")


class FunnelGroup(_Out):
    key: str
    counts: dict[Stage, int]
    conversions: list[Conversion]
    small: bool = Field(description="Fewer than 30 leads entered the group.")


class Funnel(_Out):
    period: Period
    by: Breakdown
    stages: list[Stage]
    overall: FunnelGroup
    groups: list[FunnelGroup]


class Percentiles(_Out):
    p50: float | None
    p90: float | None
    n: int


class SpeedRow(_Out):
    key: str
    leads: int
    first_touch_minutes: Percentiles = Field(description="Created -> first contacted.")
    qualification_hours: Percentiles = Field(description="Created -> qualified.")


class SpeedToLead(_Out):
    period: Period
    by_channel: list[SpeedRow]
    by_rep: list[SpeedRow]


class RepLoad(_Out):
    rep_id: str
    name: str | None
    role: RoleName
    load: int
    capacity: int
    utilisation: float | None = Field(description="load / capacity; None at capacity 0.")
    active: bool
    available: bool


class RoleLoad(_Out):
    role: RoleName
    load: int
    capacity: int


class Workload(_Out):
    reps: list[RepLoad]
    by_role: list[RoleLoad] = Field(description="Sums over the active reps of each role.")


class Calibration(_Out):
    key: str
    leads: int
    predicted: float = Field(description="Mean predicted probability.")
    realised: float = Field(description="Share won within the horizon.")
    low: float
    high: float
    outside: bool = Field(description="predicted is outside [low, high].")


class VersionBacktest(_Out):
    model: str
    version: str
    leads: int
    by_grade: list[Calibration]
    by_decile: list[Calibration] = Field(description="Decile 10 holds the highest scores.")


class Backtest(_Out):
    horizon_days: int
    versions: list[VersionBacktest]
    warnings: list[str]


class RoutedAssignment(_Out):
    kind: Literal["lead", "customer"]
    subject_id: str
    rep_id: str
    policy: str
    propensity: float
    objective: float
    explored: bool
    assigned_at: datetime
    runners_up: list[dict[str, JsonValue]]


class Routed(_Out):
    assignments: list[RoutedAssignment]


Band = Literal["stable", "moving", "shifted"]


class DriftBin(_Out):
    key: str = Field(description="The bin: a number range, a category, other, new or missing.")
    then: float = Field(description="Share of the training rows.")
    now: float = Field(description="Share of the leads scored in the period.")


class NewCategory(_Out):
    value: str
    share: float = Field(description="Share of the period's leads with this value.")


class FieldDrift(_Out):
    field: str
    kind: Literal["numeric", "categorical"]
    psi: float | None = Field(description="Population stability index; None below min_leads.")
    band: Band | None = Field(description="stable < 0.1 <= moving <= 0.25 < shifted.")
    missing_then: float
    missing_now: float | None
    new_share: float | None = Field(
        description="Share of the period's leads with a category never seen in training."
    )
    new_categories: list[NewCategory] = Field(description="The most frequent new ones.")
    bins: list[DriftBin]


class ModelDrift(_Out):
    model: str
    version: str
    leads: int = Field(description="Leads scored by this version in the period (each once).")
    message: str | None = Field(
        description="Why there is no PSI: no training reference, or too few leads."
    )
    reference_rows: int | None = Field(description="Training rows the reference summarises.")
    reference_window: list[datetime | None] | None = Field(
        description="First and last creation time of those rows."
    )
    score_psi: float | None
    score_band: Band | None
    score_bins: list[DriftBin] = Field(description="Score 1-10 ... 91-99, then and now.")
    grades: list[DriftBin]
    fields: list[FieldDrift] = Field(description="Worst PSI first.")
    calibration: VersionBacktest | None = Field(
        description="The backtest of this version's scores old enough to judge, if any."
    )


class Drift(_Out):
    period: Period
    min_leads: int = Field(description="Fewer leads than this give no PSI.")
    models: list[ModelDrift]
    warnings: list[str] = Field(description="Shifted and moving fields, new categories.")
