"""`leadscore route` without a promoted closer-fit: round-robin, and said so."""

from __future__ import annotations

import warnings

import pandas as pd
from rich.console import Console

from leadscore.console_tables import routing_table
from models.assignment import PolicyConfig
from serving.batch_routing import route_batch


def test_without_a_fit_model_the_batch_is_spread_evenly_and_the_table_says_round_robin() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(6)],
            "company_region": ["emea"] * 6,
            "company_size": [120.0] * 6,
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": ["C1", "C2", "C3"],
            "role": ["closer"] * 3,
            "region": [None] * 3,
            "segment": [None] * 3,
            "capacity": [10] * 3,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'mean of empty slice' from the missing fits
        result = route_batch(leads, reps, None, PolicyConfig())
    assert result.loads == {"C1": 2, "C2": 2, "C3": 2}
    assert set(result.assignments["policy"]) == {"round_robin_fallback"}
    table = routing_table(result)
    assert table.caption == "weighted round-robin (no closer-fit model); load Gini 0.000"
    console = Console(width=200, record=True)
    console.print(table)
    assert "nan" not in console.export_text()
