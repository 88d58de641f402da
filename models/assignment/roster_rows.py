"""The one mapping from a roster row to the policy's ``Rep``.

The online endpoint (store records), batch assignment (a reps table) and the
training replay all read reps through here, so a rule the roster sets (active,
available, territory, segment, weight) means the same wherever a rep is chosen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from models.assignment.types import Rep


def policy_rep(row: Mapping[str, Any], load: int = 0) -> Rep:
    """The rep of a roster row (the reps table's or the store's columns: rep_id,
    capacity and, optionally, active, available, region, segment, weight).

    A missing or blank column takes the roster's default: active, available, any
    region, any segment, weight 1. ``load`` is the rep's open work now; the roster
    row does not own it (the store or the caller does).
    """
    region = _given(row, "region")
    segment = _given(row, "segment")
    return Rep(
        rep_id=str(row["rep_id"]),
        capacity=int(row["capacity"]),
        load=load,
        active=bool(_given(row, "active", True)),
        available=bool(_given(row, "available", True)),
        regions=None if region is None else (str(region),),
        segments=None if segment is None else (str(segment),),
        weight=float(_given(row, "weight", 1.0)),
    )


def _given(row: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """The row's value, or ``default`` where the column is missing or blank (None, NaN)."""
    value = row.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    return value
