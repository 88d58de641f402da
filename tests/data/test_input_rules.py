"""Every input model refuses NUL text, non-finite numbers and times out of range in
each field that can hold them, naming the field; fields that cannot skip the check."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest
from pydantic import ValidationError

from data.contract import Lead
from data.input_rules import InputModel


class Colour(StrEnum):
    red = "red"


class Parent(InputModel):
    name: str
    count: int = 0
    flag: bool | None = None
    ratio: float | None = None
    colour: Colour | None = None


class Child(Parent):
    at: datetime | None = None
    extra: dict[str, str | float | None] | None = None
    tags: list[str] | None = None


def checked(model: type[InputModel]) -> set[str]:
    return set(model.checked_fields)


def refusal(model: type[InputModel], **values: Any) -> tuple[set[str], str]:
    """The fields named by the errors, and their messages."""
    with pytest.raises(ValidationError) as caught:
        model(**{"name": "ok", **values})
    errors = caught.value.errors(include_url=False)
    return {str(e["loc"][0]) for e in errors}, " | ".join(e["msg"] for e in errors)


def test_only_fields_that_can_hold_text_times_or_containers_are_checked() -> None:
    assert checked(Parent) == {"name"}
    assert checked(Child) == {"name", "at", "extra", "tags"}, "inherited fields stay checked"
    lead_numbers = {"company_size", "company_revenue", "web_visits", "webinar_attended"}
    assert not lead_numbers & checked(Lead)
    assert {"lead_id", "source", "created_at", "custom_fields"} <= checked(Lead)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "a\x00b"}, "name", "must not contain NUL characters"),
        ({"tags": ["x", "y\x00"]}, "tags", "must not contain NUL characters"),
        ({"extra": {"k\x00": "v"}}, "extra", "must not contain NUL characters"),
        ({"extra": {"k": float("inf")}}, "extra", "finite number"),
        ({"at": datetime(9999, 1, 1, tzinfo=UTC)}, "at", "between the years 1900 and 2199"),
        ({"ratio": float("nan")}, "ratio", "finite number"),
    ],
)
def test_each_kind_of_trouble_is_refused_naming_its_field(
    values: dict[str, Any], field: str, message: str
) -> None:
    fields, messages = refusal(Child, **values)
    assert fields == {field}
    assert message in messages


def test_good_values_pass_unchanged() -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC)
    child = Child(name="n", count=3, flag=True, ratio=0.5, colour=Colour.red, at=at, tags=["a"])
    assert (child.name, child.count, child.colour, child.at, child.tags) == (
        "n",
        3,
        "red",
        at,
        ["a"],
    )


def test_every_troubled_field_is_named_at_once_with_the_path_to_it() -> None:
    class Batch(InputModel):
        children: list[Child]

    with pytest.raises(ValidationError) as caught:
        Batch(
            children=[
                Child(name="fine"),
                {"name": "a\x00", "at": datetime(9999, 1, 1, tzinfo=UTC), "tags": ["ok"]},
            ]
        )
    errors = {e["loc"]: e for e in caught.value.errors(include_url=False)}
    assert set(errors) == {("children", 1, "name"), ("children", 1, "at")}
    name = errors[("children", 1, "name")]
    assert name["type"] == "value_error" and name["input"] == "a\x00"
    assert name["msg"] == "Value error, must not contain NUL characters (\\u0000)"


def test_trouble_is_reported_once_the_other_errors_are_mended() -> None:
    """The values are checked once every field is valid: a NUL beside a missing field
    is named when the request comes back with the field."""
    fields, _ = refusal(Child, name="a\x00", count="many")
    assert fields == {"count"}
    fields, messages = refusal(Child, name="a\x00", count=2)
    assert fields == {"name"} and "NUL" in messages
