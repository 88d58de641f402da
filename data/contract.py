"""The data contract: what a lead, a rep, an opportunity and a customer are.

The pydantic models below are the single definition of every table's columns.
The API takes `Lead` as its request body, the generator writes tables with
exactly these columns, and `arrow_schema()` derives the Parquet schema, so a
row of `leads.parquet` can be posted to the API as it is. Every optional field
may be missing: CRMs rarely fill everything.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pyarrow as pa
from pydantic import BaseModel, Field, field_validator
from pydantic.fields import FieldInfo

from data.input_rules import InputModel


class Channel(StrEnum):
    """How the lead reached us: it asked (inbound) or we asked (outbound)."""

    inbound = "inbound"
    outbound = "outbound"


class Seniority(StrEnum):
    """Contact seniority, lowest first (the order is the seniority rank)."""

    entry = "entry"
    manager = "manager"
    director = "director"
    vp = "vp"
    c_level = "c_level"


class Region(StrEnum):
    """Sales territories used for leads and reps."""

    north_america = "north_america"
    emea = "emea"
    apac = "apac"
    latam = "latam"


class Segment(StrEnum):
    """Company-size segment; `segment_of()` derives it from the head count."""

    smb = "smb"
    mid_market = "mid_market"
    enterprise = "enterprise"


class Role(StrEnum):
    """The four specialised sales roles (see DOMAIN.md)."""

    inbound_specialist = "inbound_specialist"
    prospector = "prospector"
    closer = "closer"
    account_manager = "account_manager"


SEGMENT_UPPER_BOUNDS: tuple[tuple[Segment, int], ...] = (
    (Segment.smb, 200),
    (Segment.mid_market, 2000),
)


def segment_of(company_size: float | None) -> Segment | None:
    """The segment of a company with `company_size` employees (None if unknown)."""
    if company_size is None or company_size != company_size:  # None or NaN
        return None
    for segment, upper in SEGMENT_UPPER_BOUNDS:
        if company_size < upper:
            return segment
    return Segment.enterprise


NonNegativeInt = Annotated[int, Field(ge=0)]
CustomValue = Annotated[str, Field(max_length=256)] | float | bool | None
"""A custom field's value: text, a number or a flag (floats as JSON sends them)."""
NonNegativeFloat = Annotated[float, Field(ge=0)]


class _Record(InputModel):
    """A contract record: forbids unknown fields, NUL text, non-finite numbers and
    times out of range (`data.input_rules`)."""


class Lead(_Record):
    """A lead (inbound) or prospect (outbound), as known when it is scored."""

    lead_id: str = Field(min_length=1, max_length=128, description="The CRM's id of the lead.")
    channel: Channel = Field(description="inbound (it asked) or outbound (we asked).")
    source: str | None = Field(
        default=None,
        max_length=128,
        description="Marketing or prospecting source within the channel, e.g. "
        "organic_search, webinar, referral; cold_call, cold_email, target_list.",
    )
    created_at: datetime = Field(description="When the lead entered the CRM (ISO 8601).")
    company_name: str | None = Field(
        default=None, max_length=256, description="Company name; shown, never used as a feature."
    )
    company_industry: str | None = Field(
        default=None, max_length=128, description="Industry, e.g. software, finance, healthcare."
    )
    company_size: NonNegativeInt | None = Field(default=None, description="Employees.")
    company_revenue: NonNegativeFloat | None = Field(
        default=None, description="Annual revenue in the account currency."
    )
    company_region: Region | None = Field(default=None, description="Sales territory.")
    company_country: str | None = Field(
        default=None, max_length=64, description="Country code (ISO 3166 alpha-2)."
    )
    contact_title: str | None = Field(default=None, max_length=256, description="Job title.")
    contact_seniority: Seniority | None = Field(
        default=None, description="entry, manager, director, vp or c_level."
    )
    # inbound signals
    web_visits: NonNegativeInt | None = Field(default=None, description="Website sessions.")
    time_on_site_sec: NonNegativeFloat | None = Field(
        default=None, description="Total seconds on the website."
    )
    pages_viewed: NonNegativeInt | None = Field(default=None, description="Pages viewed.")
    content_downloads: NonNegativeInt | None = Field(
        default=None, description="White papers, e-books, reports downloaded."
    )
    webinar_attended: bool | None = Field(default=None, description="Attended a webinar.")
    demo_requested: bool | None = Field(default=None, description="Asked for a demo.")
    form_fills: NonNegativeInt | None = Field(default=None, description="Forms submitted.")
    specialist_id: str | None = Field(
        default=None, max_length=128, description="Inbound specialist working the lead."
    )
    # outbound signals
    touches: NonNegativeInt | None = Field(
        default=None, description="Prospecting touches of any kind."
    )
    calls: NonNegativeInt | None = Field(default=None, description="Calls made.")
    emails_sent: NonNegativeInt | None = Field(default=None, description="E-mails sent.")
    replies: NonNegativeInt | None = Field(default=None, description="Replies received.")
    meeting_booked: bool | None = Field(default=None, description="A meeting is booked.")
    prospector_id: str | None = Field(
        default=None, max_length=128, description="Prospector who opened the conversation."
    )
    custom_fields: dict[str, CustomValue] | None = Field(
        default=None,
        description="The CRM's own fields that a model was trained on (the `extra` columns of an "
        'import mapping), by column name, e.g. {"landing_page_id": "a7f2"}. '
        "GET /v1/models lists the ones each model reads.",
    )

    @field_validator("custom_fields")
    @classmethod
    def _custom_names(cls, fields: dict[str, CustomValue] | None) -> dict[str, CustomValue] | None:
        for name in fields or {}:
            if name in cls.model_fields:
                raise ValueError(f"'{name}' is a lead field; send it at the top level")
        return fields


class Rep(_Record):
    """A person in one of the four roles, with what the router needs to know."""

    rep_id: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=256)
    role: Role
    region: Region | None = Field(default=None, description="Territory; None means any.")
    segment: Segment | None = Field(default=None, description="Segment; None means any.")
    industries: list[str] = Field(default_factory=list, description="Industry focus, if any.")
    capacity: NonNegativeInt = Field(description="Open opportunities or accounts at most.")
    active: bool = True


class Opportunity(_Record):
    """A qualified lead handed to a closer, open or closed."""

    opportunity_id: str = Field(min_length=1, max_length=128)
    lead_id: str = Field(min_length=1, max_length=128)
    closer_id: str = Field(min_length=1, max_length=128)
    opened_at: datetime
    closed_at: datetime | None = Field(default=None, description="None while open.")
    won: bool | None = Field(default=None, description="None while open.")
    value: NonNegativeFloat | None = Field(default=None, description="Deal value if won.")


class Customer(_Record):
    """A won deal handed to an account manager."""

    customer_id: str = Field(min_length=1, max_length=128)
    lead_id: str = Field(min_length=1, max_length=128)
    opportunity_id: str = Field(min_length=1, max_length=128)
    account_manager_id: str = Field(min_length=1, max_length=128)
    start_date: datetime
    company_industry: str | None = None
    company_size: NonNegativeInt | None = None
    company_region: Region | None = None
    account_value: NonNegativeFloat = Field(description="Annual contract value at signing.")
    retained_12m: bool | None = Field(
        default=None, description="Still a customer 12 months after the start; None if too early."
    )
    expansion_value: NonNegativeFloat | None = Field(
        default=None, description="Added annual value within 12 months; None if too early."
    )


def base_type(annotation: Any) -> Any:
    """The type under `X | None` and `Annotated[X, ...]` (e.g. int for NonNegativeInt | None)."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        (inner,) = (a for a in get_args(annotation) if a is not NoneType)
        return base_type(inner)
    if origin is Annotated:
        return base_type(get_args(annotation)[0])
    return annotation


def _arrow_type(annotation: Any) -> pa.DataType:
    annotation = base_type(annotation)
    origin = get_origin(annotation)
    if origin is list:
        return pa.list_(_arrow_type(get_args(annotation)[0]))
    simple: dict[Any, pa.DataType] = {
        str: pa.string(),
        int: pa.int64(),
        float: pa.float64(),
        bool: pa.bool_(),
        datetime: pa.timestamp("us"),
    }
    if annotation in simple:
        return simple[annotation]
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return pa.string()
    raise TypeError(f"no Arrow type for {annotation!r}")


NESTED_FIELDS = frozenset({"custom_fields"})
"""Fields that a table holds flat, one column per key, rather than as one column."""


def table_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The fields of a contract model that are columns of its table."""
    return {name: info for name, info in model.model_fields.items() if name not in NESTED_FIELDS}


def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """The Parquet schema of a contract table, derived from its pydantic model."""
    return pa.schema(
        [
            pa.field(name, _arrow_type(info.annotation), nullable=not info.is_required())
            for name, info in table_fields(model).items()
        ]
    )


def columns(model: type[BaseModel]) -> list[str]:
    """The column names of a contract table, in contract order."""
    return list(table_fields(model))


TABLES: dict[str, type[BaseModel]] = {
    "leads": Lead,
    "reps": Rep,
    "opportunities": Opportunity,
    "customers": Customer,
}
