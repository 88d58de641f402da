"""`leadscore route`: round-robin without a promoted closer-fit, and said so; the roster's
availability and weights respected as online."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
from rich.console import Console

from leadscore.console_tables import routing_table
from models.assignment.types import PolicyConfig
from serving.routing.batch_assignment import route_batch

LEADS = pd.DataFrame(
    {
        "lead_id": [f"L{i}" for i in range(6)],
        "company_region": ["emea"] * 6,
        "company_size": [120.0] * 6,
    }
)


def closers(**columns: Any) -> pd.DataFrame:
    """Three closers of capacity 10 anywhere, with any further roster columns."""
    return pd.DataFrame(
        {
            "rep_id": ["C1", "C2", "C3"],
            "role": ["closer"] * 3,
            "region": [None] * 3,
            "segment": [None] * 3,
            "capacity": [10] * 3,
            **columns,
        }
    )


def test_without_a_fit_model_the_batch_is_spread_evenly_and_the_table_says_round_robin() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'mean of empty slice' from the missing fits
        result = route_batch(LEADS, closers(), None, PolicyConfig())
    assert result.loads == {"C1": 2, "C2": 2, "C3": 2}
    assert set(result.assignments["policy"]) == {"round_robin_fallback"}
    table = routing_table(result)
    assert table.caption == "weighted round-robin (no closer-fit model); load Gini 0.000"
    console = Console(width=200, record=True)
    console.print(table)
    assert "nan" not in console.export_text()


def test_an_unavailable_closer_gets_nothing_and_weights_share_the_work() -> None:
    """The batch reads the roster as the online endpoint does: `available` and `weight`
    (a blank one is the default: available, weight 1)."""
    reps = closers(
        available=pd.array([False, True, None], dtype="boolean"), weight=[1.0, 2.0, None]
    )
    result = route_batch(LEADS, reps, None, PolicyConfig())
    assert "C1" not in set(result.assignments["rep_id"])
    assert result.loads == {"C1": 0, "C2": 4, "C3": 2}
