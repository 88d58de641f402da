"""Roster rows to the policy's reps: every rule the roster sets, and its defaults."""

from __future__ import annotations

import math

from models.assignment.roster_rows import policy_rep
from models.assignment.types import Rep


def test_every_roster_rule_reaches_the_rep() -> None:
    row = {
        "rep_id": "C1",
        "capacity": 4,
        "active": False,
        "available": False,
        "region": "emea",
        "segment": "smb",
        "weight": 2.5,
    }
    assert policy_rep(row, load=3) == Rep(
        "C1",
        4,
        load=3,
        active=False,
        available=False,
        regions=("emea",),
        segments=("smb",),
        weight=2.5,
    )


def test_missing_or_blank_columns_take_the_roster_defaults() -> None:
    bare = policy_rep({"rep_id": "C2", "capacity": 1})
    blank = policy_rep(
        {
            "rep_id": "C2",
            "capacity": 1,
            "active": None,
            "available": math.nan,
            "region": None,
            "segment": math.nan,
            "weight": None,
        }
    )
    assert bare == blank == Rep("C2", 1)
