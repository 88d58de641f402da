"""What every value a client sends must satisfy, whatever field it is in.

A NUL character cannot be stored in PostgreSQL text, an infinite number is
not JSON, and a date in year 9999 overflows the analytics' timestamps: each
would be accepted, then break a later write or read that other clients rely
on. So they are refused at the door, naming the field. Every input model
(the contract's records, the store's `...In` models) derives from
`InputModel`; query and path values use `check_text` and `check_time`.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
"""Times outside these years are typing errors or placeholders, never CRM events."""
TIME_RANGE = f"between the years {EARLIEST_YEAR} and {LATEST_YEAR}"


def check_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters (\\u0000)")
    return value


def check_time(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be {TIME_RANGE}, not {value.year}")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any) -> Any:
    """Only ISO 8601 text: pydantic would read `0.5` or `1700000000` as epoch seconds."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(
            "must be an ISO 8601 date or time, e.g. 2026-09-01 or 2026-09-01T08:00:00Z"
        )
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(check_time)]
"""A time given as text (a query parameter): ISO 8601 only, within the sane years."""


def check_value(value: Any) -> Any:
    """`value` if it holds no NUL text, no non-finite number and no time out of range,
    looking inside lists and mappings (custom fields, payloads)."""
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
    elif isinstance(value, datetime):
        check_time(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                check_text(key)
            check_value(item)
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        for item in value:
            check_value(item)
    return value


SAFE_TYPES = frozenset(
    {"int", "bool", "float", "None", "NoneType", "Optional", "NonNegativeInt", "NonNegativeFloat"}
)
"""Annotations made of these names alone hold no text, time or container: pydantic
checks them itself (the model config keeps numbers finite), so the per-field check
is left off them. Any other name (an enum, a model, a type alias) keeps the check."""


def may_hold_trouble(annotation: Any, namespace: Mapping[str, Any]) -> bool:
    """Whether a field so annotated can hold text, a time or a container (then every
    value it gets goes through `check_value`); an enum of `namespace` holds only its
    own values."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    names = [name.rsplit(".", 1)[-1] for name in re.findall(r"[A-Za-z_][\w.]*", text)]
    return not names or any(
        name not in SAFE_TYPES and not _is_enum(namespace.get(name)) for name in names
    )


def _is_enum(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Enum)


def _sane(model: InputModel) -> InputModel:
    """Refuses `model` if a checked field holds trouble: one error per such field, shaped
    as a field validator's `ValueError` would be (type value_error, loc the field)."""
    values: dict[str, Any] = model.__dict__
    troubles: list[InitErrorDetails] = []
    for name in model.checked_fields:
        value = values[name]
        kind = type(value)
        # The usual values, answered here: a call per value was most of the cost.
        if kind is str:
            if "\x00" not in value:
                continue
        elif kind is datetime:
            if EARLIEST_YEAR <= value.year <= LATEST_YEAR:
                continue
        elif value is None or isinstance(value, bool | int | BaseModel):
            continue
        try:
            check_value(value)
        except ValueError as error:
            troubles.append(
                InitErrorDetails(type="value_error", loc=(name,), input=value, ctx={"error": error})
            )
    if troubles:
        raise ValidationError.from_exception_data(type(model).__name__, troubles)
    return model


class InputModel(BaseModel):
    """A record a client sends: strict about fields, and about the values in them.

    Each subclass checks, with `check_value`, every field that may hold trouble,
    in one validator that runs once the fields are valid: a validator per field
    costs a Python call per value, which on the scoring route's lead was most
    of its validation time. So trouble in a field is reported once the
    request's other errors are mended.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_enum_values=True, allow_inf_nan=False
    )
    checked_fields: ClassVar[tuple[str, ...]] = ()
    """The fields `_sane` checks, chosen from the annotations when the class is made."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before pydantic collects the class's validators: the fields of the whole MRO,
        # since this validator replaces the parent's of the same name.
        super().__init_subclass__(**kwargs)
        annotations: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            annotations.update(vars(klass).get("__annotations__", {}))
        cls.checked_fields = tuple(
            name
            for name, annotation in annotations.items()
            if not name.startswith("_")
            and "ClassVar" not in str(annotation)
            and may_hold_trouble(annotation, vars(sys.modules[cls.__module__]))
        )
        if cls.checked_fields:
            cls._sane = model_validator(mode="after")(_sane)  # type: ignore[attr-defined]
