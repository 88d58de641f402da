"""The API's custom fields: the ones a lead lacks are named in a warning, like the typos."""

from __future__ import annotations

from typing import Any

import pytest

from data.contract import Lead
from features.columns import FieldType
from serving.online_scoring import CustomFieldError, with_custom_fields
from serving.schemas import ModelRef

READS = {"Plan": FieldType.text, "Score": FieldType.number, "LastLogin": FieldType.time}
MODEL = ModelRef(name="lead-score-inbound", version="3")


def lead(**custom: Any) -> Lead:
    return Lead.model_validate(
        {
            "lead_id": "L1",
            "channel": "inbound",
            "created_at": "2026-11-20T09:30:00Z",
            "custom_fields": custom or None,
        }
    )


def warnings_of(*leads: Lead) -> list[list[str]]:
    return with_custom_fields(leads, range(len(leads)), READS, MODEL)[1]


def test_missing_custom_fields_absent_or_null_are_named_in_one_warning() -> None:
    full = lead(Plan="pro", Score=1.5, LastLogin="2026-11-01T00:00:00Z")
    one = lead(Plan="pro", Score=None, LastLogin="2026-11-01T00:00:00Z")
    assert warnings_of(full, one, lead(Plna="x")) == [
        [],
        [
            "custom field Score is missing; lead-score-inbound v3 reads it, "
            "so the lead was scored as if it were unknown"
        ],
        [
            "custom field 'Plna' is not read by lead-score-inbound v3; "
            "it reads: Plan, Score, LastLogin",
            "custom fields Plan, Score, LastLogin are missing; lead-score-inbound v3 reads "
            "them, so the lead was scored as if they were unknown",
        ],
    ]


def test_a_wrong_type_is_still_an_error_naming_the_field() -> None:
    with pytest.raises(CustomFieldError, match="Score must be a number") as error:
        warnings_of(lead(Plan="pro"), lead(Score="abc"))
    assert (error.value.row, error.value.name) == (1, "Score")
