"""What a valid lead is, read off the data contract once, to check whole columns.

The API validates each lead with pydantic (`data.contract.Lead`). Batches
check the same constraints column by column (`serving.batch.validate`), and
take them from the same model, so a new constraint in the contract is
checked in batches too without anyone remembering to copy it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import Ge, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from data.contract import Lead, table_fields
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


def lead_rules() -> tuple[FieldRule, ...]:
    """The rules of `data.contract.Lead`."""
    return field_rules(Lead, LEAD_FIELD_TYPES)


def required_columns() -> list[str]:
    """The columns every input must have (the rest may be absent: read as missing)."""
    return [rule.name for rule in lead_rules() if rule.required]
