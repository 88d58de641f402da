"""Response bodies: a score built for an answer is the one pydantic would build."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from data.contract import Channel
from serving.schemas import LeadScore, ModelRef, Reason


def _values() -> dict[str, Any]:
    return {
        "lead_id": "L1",
        "channel": Channel.inbound,
        "probability": 0.123456789,
        "score": 42,
        "grade": "B",
        "reasons": [Reason(field="source", value="web", effect=3.5)],
        "model": ModelRef(name="lead-score-inbound", version="7"),
        "warnings": ["custom field 'x' is not read"],
    }


def test_a_served_score_is_the_constructed_one_field_for_field_and_byte_for_byte() -> None:
    served = LeadScore.served(**_values())
    constructed = LeadScore.model_construct(**_values())
    validated = LeadScore.model_validate(_values())

    assert served == constructed == validated
    assert served.model_fields_set == constructed.model_fields_set == set(LeadScore.model_fields)
    assert served.model_dump() == validated.model_dump()
    adapter = TypeAdapter(LeadScore)
    assert adapter.dump_json(served) == adapter.dump_json(validated)
    assert served.model_dump_json() == validated.model_dump_json()


def test_a_served_score_stays_an_ordinary_model() -> None:
    served = LeadScore.served(**_values())
    other = LeadScore.served(**_values())

    served.warnings = []  # assignment records the field as set, in this score alone
    copy = served.model_copy(update={"score": 43})

    assert (served.warnings, other.warnings) == ([], ["custom field 'x' is not read"])
    assert (copy.score, served.score) == (43, 42)
    assert served.model_fields_set is not other.model_fields_set
