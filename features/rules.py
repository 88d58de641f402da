"""What a valid lead is, read off the data contract once, to check whole columns.

The API validates each lead with pydantic (`data.contract.Lead`). Frames of
leads (batch re-scoring, the MLflow pyfunc) check the same constraints
column by column (`features.checks`), and take them from the same model, so
a new constraint in the contract is checked in frames too without anyone
remembering to copy it. A model's custom fields (an import's extra columns)
get rules from their type and the contract's `CustomValue`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import Ge, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from data.contract import CustomValue, Lead, table_fields
from features.columns import FieldType
from features.lead_features import LEAD_FIELD_TYPES


@dataclass(frozen=True)
class FieldRule:
    """The constraints of one contract field."""

    name: str
    kind: FieldType
    required: bool
    integer: bool = False
    minimum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    channels: frozenset[str] | None = None
    """Checked on the rows of these channels only (a custom field one channel's model
    reads and the other's does not); None: on every row."""


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The base type under Optional/Annotated, and the constraints found on the way."""
    constraints: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin in (Union, UnionType):
            (annotation,) = (a for a in get_args(annotation) if a is not NoneType)
        elif origin is Annotated:
            annotation, *extra = get_args(annotation)
            for item in extra:
                constraints.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        else:
            return annotation, constraints


def _number(bound: object) -> float:
    if not isinstance(bound, int | float):
        raise TypeError(f"a lower bound must be a number, got {bound!r}")
    return float(bound)


def field_rules(model: type[BaseModel], kinds: dict[str, FieldType]) -> tuple[FieldRule, ...]:
    """One rule per field of `model`, in contract order."""
    rules = []
    for name, info in table_fields(model).items():
        base, constraints = _unwrap(info.annotation)
        constraints = [*info.metadata, *constraints]
        choices: tuple[str, ...] = ()
        if isinstance(base, type) and issubclass(base, StrEnum):
            choices = tuple(member.value for member in base)
        rules.append(
            FieldRule(
                name=name,
                kind=kinds[name],
                required=info.is_required(),
                integer=base is int,
                minimum=next((_number(c.ge) for c in constraints if isinstance(c, Ge)), None),
                min_length=next((c.min_length for c in constraints if isinstance(c, MinLen)), None),
                max_length=next((c.max_length for c in constraints if isinstance(c, MaxLen)), None),
                choices=choices,
            )
        )
    return tuple(rules)


@cache
def lead_rules() -> tuple[FieldRule, ...]:
    """The rules of `data.contract.Lead`."""
    return field_rules(Lead, LEAD_FIELD_TYPES)


def _custom_text_length() -> int | None:
    """The longest text a custom field may hold, from the contract's `CustomValue`."""
    for member in get_args(CustomValue):
        base, constraints = _unwrap(member)
        if base is str:
            return next((c.max_length for c in constraints if isinstance(c, MaxLen)), None)
    return None


def custom_rules(
    fields: Mapping[str, FieldType], channels: Collection[str] | None = None
) -> tuple[FieldRule, ...]:
    """Rules of a model's custom fields (never required: a lead may lack them).

    Their types are those of the import they were trained on: no bounds, and
    text as long as the API takes in `custom_fields`. With `channels`, the
    rules apply to those channels' rows only.
    """
    only = frozenset(channels) if channels is not None else None
    longest = _custom_text_length()
    return tuple(
        FieldRule(
            name=name,
            kind=kind,
            required=False,
            max_length=longest if kind is FieldType.text else None,
            channels=only,
        )
        for name, kind in fields.items()
    )


def required_columns() -> list[str]:
    """The columns every input must have (the rest may be absent: read as missing)."""
    return [rule.name for rule in lead_rules() if rule.required]
