"""The contract is what the API accepts and what the Parquet files hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from data.contract import TABLES, Lead, Segment, arrow_schema, columns, segment_of

MINIMAL_LEAD: dict[str, Any] = {
    "lead_id": "L0000001",
    "channel": "inbound",
    "created_at": datetime(2025, 3, 4, 9, 30),
}


@pytest.mark.parametrize(
    ("model", "field", "arrow_type"),
    [
        (Lead, "lead_id", pa.string()),
        (Lead, "channel", pa.string()),
        (Lead, "created_at", pa.timestamp("us")),
        (Lead, "company_size", pa.int64()),
        (Lead, "company_revenue", pa.float64()),
        (Lead, "demo_requested", pa.bool_()),
        (TABLES["reps"], "industries", pa.list_(pa.string())),
        (TABLES["opportunities"], "closed_at", pa.timestamp("us")),
    ],
)
def test_arrow_schema_maps_types(model: Any, field: str, arrow_type: pa.DataType) -> None:
    assert arrow_schema(model).field(field).type == arrow_type


def test_only_required_fields_are_not_nullable() -> None:
    schema = arrow_schema(Lead)
    assert not schema.field("lead_id").nullable
    assert not schema.field("created_at").nullable
    assert schema.field("company_size").nullable
    assert schema.field("source").nullable


@pytest.mark.parametrize("name", list(TABLES))
def test_schema_has_the_model_columns_in_order(name: str) -> None:
    assert arrow_schema(TABLES[name]).names == columns(TABLES[name])


def test_minimal_lead_is_valid() -> None:
    lead = Lead.model_validate(MINIMAL_LEAD)
    assert lead.channel == "inbound"
    assert lead.company_size is None


@pytest.mark.parametrize(
    ("field", "value", "error_type"),
    [
        ("channel", "carrier_pigeon", "enum"),
        ("company_size", -1, "greater_than_equal"),
        ("favourite_colour", "teal", "extra_forbidden"),
    ],
)
def test_lead_rejects_bad_input_naming_the_field(field: str, value: Any, error_type: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Lead.model_validate({**MINIMAL_LEAD, field: value})
    errors = caught.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [((field,), error_type)]


@pytest.mark.parametrize(
    ("size", "segment"),
    [
        (None, None),
        (float("nan"), None),
        (1, Segment.smb),
        (199, Segment.smb),
        (200, Segment.mid_market),
        (1999, Segment.mid_market),
        (2000, Segment.enterprise),
    ],
)
def test_segment_of_uses_the_boundaries(size: float | None, segment: Segment | None) -> None:
    assert segment_of(size) == segment
