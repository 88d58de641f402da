"""The default lead-score features for each channel.

Inbound leads carry web behaviour, outbound prospects carry touches and
replies; both carry firmographics, the contact and the calendar. Rep ids,
names and the lead id are deliberately not features: a score must not depend
on who typed the lead in or what it is called. The clearest buying signals
are monotone: asking for a demo or booking a meeting never lowers a score.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from data.contract import Channel, Lead, base_type, table_fields
from features.columns import FieldType
from features.spec import Feature, FeatureSpec, Kind

COMMON: tuple[dict[str, Any], ...] = (
    {"name": "source", "kind": "categorical"},
    {"name": "company_industry", "kind": "categorical"},
    {"name": "company_size", "kind": "numeric"},
    {"name": "company_revenue", "kind": "numeric"},
    {
        "name": "revenue_per_employee",
        "kind": "numeric",
        "derive": "ratio",
        "fields": ["company_revenue", "company_size"],
    },
    {"name": "company_region", "kind": "categorical"},
    {"name": "company_country", "kind": "categorical"},
    {
        "name": "contact_seniority_rank",
        "kind": "numeric",
        "derive": "seniority_rank",
        "fields": ["contact_seniority"],
    },
    {
        "name": "contact_function",
        "kind": "categorical",
        "derive": "title_function",
        "fields": ["contact_title"],
    },
    {"name": "created_month", "kind": "numeric", "derive": "month", "fields": ["created_at"]},
    {
        "name": "created_month_in_quarter",
        "kind": "numeric",
        "derive": "month_in_quarter",
        "fields": ["created_at"],
    },
    {"name": "created_weekday", "kind": "numeric", "derive": "weekday", "fields": ["created_at"]},
    {"name": "created_hour", "kind": "numeric", "derive": "hour", "fields": ["created_at"]},
)

INBOUND: tuple[dict[str, Any], ...] = (
    {"name": "web_visits", "kind": "numeric"},
    {"name": "time_on_site_sec", "kind": "numeric"},
    {"name": "pages_viewed", "kind": "numeric"},
    {
        "name": "pages_per_visit",
        "kind": "numeric",
        "derive": "ratio",
        "fields": ["pages_viewed", "web_visits"],
    },
    {
        "name": "minutes_per_visit",
        "kind": "numeric",
        "derive": "per_minute_ratio",
        "fields": ["time_on_site_sec", "web_visits"],
    },
    {"name": "content_downloads", "kind": "numeric"},
    {"name": "webinar_attended", "kind": "boolean", "monotone": 1},
    {"name": "demo_requested", "kind": "boolean", "monotone": 1},
    {"name": "form_fills", "kind": "numeric"},
)

OUTBOUND: tuple[dict[str, Any], ...] = (
    {"name": "touches", "kind": "numeric"},
    {"name": "calls", "kind": "numeric"},
    {"name": "emails_sent", "kind": "numeric"},
    {"name": "replies", "kind": "numeric", "monotone": 1},
    {"name": "reply_rate", "kind": "numeric", "derive": "ratio", "fields": ["replies", "touches"]},
    {"name": "call_share", "kind": "numeric", "derive": "ratio", "fields": ["calls", "touches"]},
    {"name": "meeting_booked", "kind": "boolean", "monotone": 1},
)


def _field_type(annotation: Any) -> FieldType:
    annotation = base_type(annotation)
    if annotation is bool:
        return FieldType.boolean
    if annotation in (int, float):
        return FieldType.number
    if annotation is datetime:
        return FieldType.time
    return FieldType.text


def contract_field_types(model: type[BaseModel]) -> dict[str, FieldType]:
    """The feature-spec type of every field of a contract table."""
    return {name: _field_type(info.annotation) for name, info in table_fields(model).items()}


LEAD_FIELD_TYPES: dict[str, FieldType] = contract_field_types(Lead)


def default_spec(channel: Channel | str) -> FeatureSpec:
    """The unfitted default spec of a channel's lead-score model."""
    specific = INBOUND if Channel(channel) is Channel.inbound else OUTBOUND
    return FeatureSpec(
        features=tuple(Feature.from_dict(raw) for raw in COMMON + specific),
        field_types=LEAD_FIELD_TYPES,
    )


_CUSTOM_KINDS: dict[str, tuple[Kind, FieldType]] = {
    "categorical": (Kind.categorical, FieldType.text),
    "numeric": (Kind.numeric, FieldType.number),
    "boolean": (Kind.boolean, FieldType.boolean),
    "timestamp": (Kind.numeric, FieldType.time),
}


def with_custom_columns(spec: FeatureSpec, extra: Mapping[str, str]) -> FeatureSpec:
    """`spec` plus one feature per custom column of an import (`column -> kind`).

    A timestamp becomes the days from it to the lead's creation, which is
    what can carry signal (an absolute date only marks the period).
    """
    features, types = [], {}
    for column, kind in extra.items():
        if kind not in _CUSTOM_KINDS:
            raise ValueError(f"custom column {column!r}: unknown kind {kind!r}")
        feature_kind, field_type = _CUSTOM_KINDS[kind]
        if field_type is FieldType.time:
            features.append(
                Feature(column, Kind.numeric, (column, "created_at"), derive="days_before_created")
            )
        else:
            features.append(Feature(column, feature_kind, (column,)))
        types[column] = field_type
    return spec.with_features(features, types)
