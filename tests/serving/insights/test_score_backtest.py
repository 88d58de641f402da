"""The score backtest on hand-built scores: realised vs predicted by grade and decile.

Ten inbound leads scored by lead-score-inbound v1 on 2026-01-10 (B01-B10,
probability 0.40, 0.42, ... 0.50 graded D, then 0.60, 0.62, 0.64, 0.66 graded A),
checked on 2026-06-01 with a 90-day horizon (scores up to 2026-03-03 count):

- B07 won 2026-02-01 and B08 won 2026-03-01: within 90 days, realised;
- B09 won 2026-05-01: after the horizon, not realised;
- B01 was scored before (0.30, grade C, 2026-01-05): only its last score counts;
- B01 was also scored by v2 (0.20, grade C): a version of its own;
- B11 was scored 2026-04-01: too recent to judge, left out.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from data.contract import Lead
from data.store import OutcomeIn, ScoreIn, Store
from serving import insights
from serving.insights.responses import Period

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SCORED = datetime(2026, 1, 10, tzinfo=UTC)
PERIOD = Period(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 5, 1, tzinfo=UTC))


def scored(
    lead_id: str, probability: float, grade: str, at: datetime = SCORED, version: str = "1"
) -> ScoreIn:
    lead = Lead(lead_id=lead_id, channel="inbound", created_at=datetime(2026, 1, 2))
    return ScoreIn(
        lead=lead,
        model_name="lead-score-inbound",
        model_version=version,
        probability=probability,
        score=max(1, int(probability * 100)),
        grade=grade,
        scored_at=at,
    )


def won(lead_id: str, month: int) -> OutcomeIn:
    return OutcomeIn(
        event_id=f"won-{lead_id}",
        type="won",
        lead_id=lead_id,
        occurred_at=datetime(2026, month, 1, tzinfo=UTC),
    )


@pytest.fixture
def history(store: Store) -> Store:
    store.record_scores([scored("B01", 0.30, "C", at=datetime(2026, 1, 5, tzinfo=UTC))])
    rows = [scored(f"B{i:02d}", 0.40 + 0.02 * (i - 1), "D") for i in range(1, 7)]
    rows += [scored(f"B{i:02d}", 0.60 + 0.02 * (i - 7), "A") for i in range(7, 11)]
    rows += [
        scored("B01", 0.20, "C", version="2"),
        scored("B11", 0.9, "A", at=datetime(2026, 4, 1, tzinfo=UTC)),
    ]
    store.record_scores(rows)
    for lead_id, month in (("B07", 2), ("B08", 3), ("B09", 5)):
        store.record_outcome(won(lead_id, month))
    return store


def test_realised_against_predicted_by_grade(history: Store) -> None:
    result = insights.backtest(history, PERIOD, NOW, horizon_days=90).model_dump(mode="json")
    assert result["horizon_days"] == 90
    v1, v2 = result["versions"]
    assert (v1["model"], v1["version"], v1["leads"]) == ("lead-score-inbound", "1", 10)
    assert (v2["version"], v2["leads"]) == ("2", 1)
    grade_a, grade_d = v1["by_grade"]
    # A: B07-B10, mean predicted (0.60 + 0.62 + 0.64 + 0.66) / 4 = 0.63; 2 of 4 realised;
    # Wilson(2, 4): centre 0.5, half 1.96 * sqrt(0.0625 + 3.8415/64) / 1.96037 = 0.34997
    assert (grade_a["key"], grade_a["leads"]) == ("A", 4)
    assert grade_a["predicted"] == pytest.approx(0.63)
    assert grade_a["realised"] == 0.5
    assert grade_a["low"] == pytest.approx(0.1500, abs=1e-4)
    assert grade_a["high"] == pytest.approx(0.8500, abs=1e-4)
    assert grade_a["outside"] is False
    # D: B01-B06 (B01's last score), predicted 0.45, none won;
    # Wilson(0, 6): centre (3.8415/12) / 1.64024 = 0.19517, half 0.19517 -> 0 .. 0.3903
    assert (grade_d["key"], grade_d["leads"], grade_d["realised"]) == ("D", 6, 0.0)
    assert grade_d["predicted"] == pytest.approx(0.45)
    assert grade_d["low"] == pytest.approx(0.0, abs=1e-9)
    assert grade_d["high"] == pytest.approx(0.3903, abs=1e-4)
    assert grade_d["outside"] is True
    assert result["warnings"] == [
        "lead-score-inbound v1: grade D realised 0.00 (0.00-0.39) below predicted 0.45"
    ]


def test_deciles_put_the_highest_scores_in_decile_ten(history: Store) -> None:
    (v1, _) = insights.backtest(history, PERIOD, NOW).versions
    deciles = {cell.key: cell for cell in v1.by_decile}
    assert sorted(deciles, key=int) == [str(d) for d in range(1, 11)]
    assert all(cell.leads == 1 for cell in deciles.values())
    assert deciles["10"].predicted == pytest.approx(0.66)  # B10, not won
    assert deciles["7"].realised == 1.0  # B07, won within the horizon
    assert deciles["9"].realised == 0.0  # B09, won after it


def test_scores_younger_than_the_horizon_are_not_judged(history: Store) -> None:
    recent = Period(start=datetime(2026, 3, 10, tzinfo=UTC), end=NOW)
    assert insights.backtest(history, recent, NOW).versions == []


def test_an_empty_store(store: Store) -> None:
    result = insights.backtest(store, PERIOD, NOW)
    assert result.versions == [] and result.warnings == []
