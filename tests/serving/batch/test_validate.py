"""The vectorised checks agree with pydantic's `Lead` and normalise every input typing alike;
the custom columns of a model are checked by their type."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from data.contract import Lead
from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate
from features.checks import check_leads
from features.columns import FieldType, from_frame, from_records
from features.lead_features import LEAD_FIELD_TYPES
from features.rules import custom_rules, lead_rules, required_columns
from models.lead_score import LeadScoreModel
from serving.batch.job_errors import InputError
from serving.batch.scoring import ChannelModel, frame_rules

GOOD: dict[str, Any] = {
    "lead_id": "L-1",
    "channel": "inbound",
    "source": "webinar",
    "created_at": "2026-11-20T09:30:00Z",
    "company_size": 800,
    "company_revenue": 1.5e7,
    "company_region": "emea",
    "contact_seniority": "director",
    "web_visits": 6,
    "demo_requested": True,
}

# One field changed per case; None removes the field.
CASES: list[tuple[str, Any]] = [
    ("lead_id", None),
    ("lead_id", ""),
    ("lead_id", "x" * 128),
    ("lead_id", "x" * 129),
    ("channel", "outbound"),
    ("channel", "partner"),
    ("channel", "Inbound"),
    ("channel", None),
    ("created_at", "2026-11-20"),
    ("created_at", "2026-11-20 09:30:00"),
    ("created_at", "2026-11-20T09:30:00+02:00"),
    ("created_at", "yesterday"),
    ("created_at", None),
    ("company_size", 0),
    ("company_size", -1),
    ("company_size", "12"),
    ("company_size", 2.5),
    ("company_size", "many"),
    ("company_revenue", -0.5),
    ("company_revenue", 0.0),
    ("company_region", "latam"),
    ("company_region", "mars"),
    ("contact_seniority", "intern"),
    ("demo_requested", False),
    ("demo_requested", "yes"),
    ("demo_requested", "maybe"),
    ("demo_requested", 1),
    ("demo_requested", 2),
    ("source", "s" * 129),
    ("company_country", "DE"),
    ("contact_title", "t" * 257),
]


def _record(field: str, value: Any) -> dict[str, Any]:
    record = dict(GOOD)
    if value is None:
        record.pop(field)
    else:
        record[field] = value
    return record


def _refused_by_pydantic(record: dict[str, Any]) -> set[str]:
    try:
        Lead.model_validate(record)
    except ValidationError as error:
        return {str(e["loc"][0]) for e in error.errors()}
    return set()


def test_a_row_is_refused_exactly_when_pydantic_refuses_it_naming_the_same_field() -> None:
    records = [_record(field, value) for field, value in CASES]
    frame = pd.DataFrame(records).astype(object)  # as mixed as a client's JSON
    checked = check_leads(frame)
    for (field, value), record, problem in zip(CASES, records, checked.problems, strict=True):
        expected = _refused_by_pydantic(record)
        found = set() if problem is None else {p.split(":")[0] for p in problem.split("; ")}
        assert found == expected, (field, value, problem)


def test_the_rules_come_from_the_contract() -> None:
    rules = {rule.name: rule for rule in lead_rules()}
    assert required_columns() == ["lead_id", "channel", "created_at"]
    assert rules["company_size"].integer and rules["company_size"].minimum == 0
    assert not rules["company_revenue"].integer
    assert rules["channel"].choices == ("inbound", "outbound")
    assert rules["lead_id"].max_length == 128 and rules["lead_id"].min_length == 1


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return generate(GeneratorConfig(leads=2_000, seed=3))["leads"]


def _as_text(frame: pd.DataFrame) -> Any:
    """What a CSV read as text gives: strings, empty cells missing."""
    out = {}
    for name in frame.columns:
        values = frame[name].astype(str).to_numpy(dtype=object)
        values[frame[name].isna().to_numpy()] = None
        out[name] = values
    out["created_at"] = frame["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy(object)
    return pd.DataFrame(out)


def _as_arrow(frame: pd.DataFrame) -> Any:
    """What the local engine reads: Arrow-backed text, nullable flags."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    strings = {pa.string(): pd.ArrowDtype(pa.string()), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=strings.get, ignore_metadata=True)


def _as_spark(frame: pd.DataFrame) -> Any:
    """What Spark's mapInPandas gives: floats for nullable integers, objects for flags."""
    out = {}
    for name, kind in LEAD_FIELD_TYPES.items():
        if kind == "number":
            out[name] = frame[name].astype("Float64").to_numpy(np.float64, na_value=np.nan)
        else:
            values = frame[name].to_numpy(dtype=object)
            values[frame[name].isna().to_numpy()] = None
            out[name] = values
    out["created_at"] = frame["created_at"].to_numpy(dtype="datetime64[ns]")
    return pd.DataFrame(out)


@pytest.mark.parametrize("shape", [_as_text, _as_arrow, _as_spark])
def test_every_input_typing_gives_the_same_feature_columns(leads: pd.DataFrame, shape: Any) -> None:
    expected = check_leads(leads)
    got = check_leads(shape(leads))
    assert got.valid.all() and expected.valid.all()
    want, have = (
        from_frame(expected.frame, LEAD_FIELD_TYPES),
        from_frame(got.frame, LEAD_FIELD_TYPES),
    )
    for name in LEAD_FIELD_TYPES:
        np.testing.assert_array_equal(have[name], want[name], err_msg=name)


def test_an_absent_required_column_refuses_every_row(leads: pd.DataFrame) -> None:
    checked = check_leads(leads.drop(columns=["created_at"]).head(3))
    assert checked.problems.tolist() == ["created_at: missing"] * 3


CUSTOM = {
    "Plan": FieldType.text,
    "Seats": FieldType.number,
    "Trial": FieldType.boolean,
    "LastLogin": FieldType.time,
}


def _with_custom(values: dict[str, list[Any]]) -> pd.DataFrame:
    rows = len(next(iter(values.values())))
    base = pd.DataFrame([GOOD] * rows).astype(object)
    return base.assign(**{name: pd.Series(v, dtype=object) for name, v in values.items()})


def test_custom_columns_are_kept_and_read_as_the_api_reads_custom_fields() -> None:
    """CSV text: numbers as text, flags as words, times in ISO 8601 with any offset."""
    frame = _with_custom(
        {
            "Plan": ["pro", None, "basic"],
            "Seats": ["12", "2.5", None],
            "Trial": ["yes", "No", None],
            "LastLogin": ["2026-11-20T09:30:00Z", "2026-11-20T11:30:00+02:00", None],
        }
    )
    checked = check_leads(frame, (*lead_rules(), *custom_rules(CUSTOM)))
    assert checked.valid.all()
    got = from_frame(checked.frame, CUSTOM)
    records: list[dict[str, Any]] = [
        {"Plan": "pro", "Seats": 12, "Trial": True, "LastLogin": "2026-11-20T09:30:00Z"},
        {"Seats": 2.5, "Trial": False, "LastLogin": "2026-11-20T09:30:00Z"},
        {"Plan": "basic"},
    ]
    want = from_records(records, CUSTOM)  # the API's path for its custom_fields
    for name in CUSTOM:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_a_bad_custom_value_is_a_problem_naming_its_column() -> None:
    frame = _with_custom(
        {
            "Plan": ["p" * 257, "ok", "ok", "ok"],
            "Seats": ["1", "abc", "1", "1"],
            "Trial": ["yes", "yes", "maybe", "yes"],
            "LastLogin": [None, None, None, "yesterday"],
        }
    )
    checked = check_leads(frame, (*lead_rules(), *custom_rules(CUSTOM)))
    assert checked.problems.tolist() == [
        "Plan: longer than 256 characters",
        "Seats: 'abc' is not a number",
        "Trial: 'maybe' is not true or false",
        "LastLogin: 'yesterday' is not a date and time (ISO 8601, e.g. 2026-11-20T09:30:00Z)",
    ]
    assert "row 1: Seats: 'abc' is not a number" in checked.describe()


def test_a_custom_rule_of_some_channels_checks_only_their_rows() -> None:
    frame = _with_custom({"Seats": ["abc", "abc"]})
    frame["channel"] = ["inbound", "outbound"]
    checked = check_leads(
        frame, (*lead_rules(), *custom_rules({"Seats": FieldType.number}, ["outbound"]))
    )
    assert checked.problems.tolist() == [None, "Seats: 'abc' is not a number"]


def _models(**custom: dict[str, FieldType]) -> dict[str, ChannelModel]:
    """Channel models that only say which custom fields they read."""
    return {
        channel: ChannelModel(
            f"lead-score-{channel}",
            "1",
            cast(LeadScoreModel, SimpleNamespace(custom_fields=fields)),
        )
        for channel, fields in custom.items()
    }


def test_a_custom_field_one_model_reads_is_checked_on_its_channel_only() -> None:
    rules = frame_rules(
        _models(
            inbound={"Seats": FieldType.number, "Plan": FieldType.text},
            outbound={"Seats": FieldType.number},
        )
    )
    custom = {rule.name: rule for rule in rules if rule.name not in LEAD_FIELD_TYPES}
    assert custom["Seats"].channels is None
    assert custom["Plan"].channels == frozenset({"inbound"})


def test_models_typing_a_custom_column_differently_are_refused() -> None:
    models = _models(inbound={"Seats": FieldType.number}, outbound={"Seats": FieldType.text})
    with pytest.raises(InputError, match="read the custom column Seats as number and as text"):
        frame_rules(models)


def test_a_frame_with_any_index_is_checked_row_by_row(leads: pd.DataFrame) -> None:
    """A slice of a frame (the pyfunc's input, say) keeps its index; rows still line up."""
    some = leads[leads["channel"] == "inbound"].iloc[::-3].head(50)
    checked, plain = check_leads(some), check_leads(some.reset_index(drop=True))
    pd.testing.assert_frame_equal(checked.frame, plain.frame)
    assert checked.frame["company_industry"].notna().sum() == some["company_industry"].notna().sum()
