"""Labels decide what the models learn; an open deal must never count as a loss."""

from __future__ import annotations

import pandas as pd

from data.generator import GeneratorConfig, generate
from data.labels import lead_outcomes


def _opportunities(rows: list[tuple[str, str, str | None, bool | None]]) -> pd.DataFrame:
    """Opportunities from (lead_id, opened_at, closed_at, won), typed as read from Parquet."""
    lead_ids, opened, closed, won = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "opportunity_id": [f"O{i}" for i in range(len(rows))],
            "lead_id": list(lead_ids),
            "opened_at": pd.to_datetime(list(opened)),
            "closed_at": pd.to_datetime(list(closed)),
            "won": pd.array(list(won), dtype="boolean"),
        }
    )


def test_outcomes_of_the_four_kinds_of_lead() -> None:
    leads = pd.DataFrame({"lead_id": ["no_opp", "won", "lost", "open"]})
    opps = _opportunities(
        [
            ("won", "2025-01-10", "2025-02-01", True),
            ("lost", "2025-01-11", "2025-02-02", False),
            ("open", "2025-01-12", None, None),
        ]
    )
    got = lead_outcomes(leads, opps).set_index("lead_id")
    expected = pd.DataFrame(
        {
            "qualified": [0, 1, 1, 1],
            "won": [0, 1, 0, 0],
            "resolved": [True, True, True, False],
        },
        index=pd.Index(["no_opp", "won", "lost", "open"], name="lead_id"),
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_the_latest_opportunity_decides() -> None:
    leads = pd.DataFrame({"lead_id": ["requalified"]})
    opps = _opportunities(
        [
            ("requalified", "2025-05-01", "2025-06-01", True),
            ("requalified", "2025-01-01", "2025-02-01", False),
        ]
    )
    got = lead_outcomes(leads, opps)
    assert got[["qualified", "won", "resolved"]].iloc[0].tolist() == [1, 1, True]


def test_outcomes_agree_with_generated_opportunities() -> None:
    tables = generate(GeneratorConfig(leads=5_000, seed=3))
    leads, opps = tables["leads"], tables["opportunities"]
    got = lead_outcomes(leads, opps)
    assert got["lead_id"].tolist() == leads["lead_id"].tolist()
    assert got["qualified"].sum() == len(opps)
    assert (~got["resolved"]).sum() == opps["won"].isna().sum()
    assert got["won"].sum() == opps["won"].fillna(False).astype(bool).sum()
