"""Labels decide what the models learn; an open deal must never count as a loss."""

from __future__ import annotations

import pandas as pd

from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate
from data.labels import MATURITY_DAYS, export_time, lead_outcomes


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


def _leads(created: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"lead_id": list(created), "created_at": pd.to_datetime(list(created.values()))}
    )


def test_outcomes_of_the_five_kinds_of_lead() -> None:
    old = "2025-01-01"
    leads = _leads({"no_opp": old, "won": old, "lost": old, "open": old, "young_won": "2025-06-20"})
    opps = _opportunities(
        [
            ("won", "2025-01-10", "2025-02-01", True),
            ("lost", "2025-01-11", "2025-02-02", False),
            ("open", "2025-01-12", None, None),
            ("young_won", "2025-06-22", "2025-06-25", True),
        ]
    )
    got = lead_outcomes(leads, opps, as_of=pd.Timestamp("2025-07-01")).set_index("lead_id")
    expected = pd.DataFrame(
        {
            "qualified": [0, 1, 1, 1, 1],
            "won": [0, 1, 0, 0, 1],
            # A lead younger than the maturity window is not judged yet, even if it
            # already won: counting quick wins but not pending losses would bias it.
            "resolved": [True, True, True, False, False],
        },
        index=pd.Index(["no_opp", "won", "lost", "open", "young_won"], name="lead_id"),
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_the_latest_opportunity_decides() -> None:
    leads = _leads({"requalified": "2024-12-01"})
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
    as_of = export_time(leads, opps)
    young = leads["created_at"] > as_of - pd.Timedelta(days=MATURITY_DAYS)
    open_lead = leads["lead_id"].isin(opps.loc[opps["won"].isna(), "lead_id"])
    assert (~got["resolved"]).sum() == (young | open_lead).sum()
    assert got["won"].sum() == opps["won"].fillna(False).astype(bool).sum()
