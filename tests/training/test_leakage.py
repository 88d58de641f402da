"""The leakage guard on columns whose story is known: filled in after the win, later
timestamps, id-like noise, an honest signal, and the user's override."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.columns import FieldType
from training.leakage import check_leakage, single_column_auc

N = 4_000


@pytest.fixture(scope="module")
def leads() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, N), unit="D")
    plan = rng.choice(["basic", "pro", "enterprise"], N)
    y = rng.random(N) < np.select([plan == "enterprise", plan == "pro"], [0.3, 0.15], 0.05)
    y = y.astype(np.int64)
    won = pd.Series(y == 1)
    closed = pd.Series(created + pd.to_timedelta(rng.integers(3, 90, N), unit="D"))
    frame = pd.DataFrame(
        {
            "created_at": created,
            "plan": plan,  # honest: known at sign-up, predictive but far from perfect
            "record_id": [f"r{i}" for i in range(N)],  # unique per row: no signal out of fold
            "deal_segment": pd.Series(rng.choice(["pet", "toys"], N)).where(won),
            "closed_on": closed.where(won),
            "closed_text": closed.dt.strftime("%Y-%m-%d").where(won),
            "first_visit": created - pd.to_timedelta(rng.integers(0, 30, N), unit="D"),
            "revenue": pd.Series(rng.normal(5e4, 1e4, N)).where(won),
        }
    )
    return frame, y


FIELDS = {
    "created_at": FieldType.time,
    "plan": FieldType.text,
    "record_id": FieldType.text,
    "deal_segment": FieldType.text,
    "closed_on": FieldType.time,
    "closed_text": FieldType.text,
    "first_visit": FieldType.time,
    "revenue": FieldType.number,
}


def test_post_win_columns_are_dropped_and_honest_ones_kept(
    leads: tuple[pd.DataFrame, np.ndarray],
) -> None:
    frame, y = leads
    report = check_leakage(frame, y, FIELDS)
    decisions = {c.column: c for c in report.checks}
    assert set(report.dropped) == {"deal_segment", "closed_on", "closed_text", "revenue"}
    assert decisions["plan"].decision == "kept"
    assert 0.6 < (decisions["plan"].single_column_auc or 0) < 0.8
    assert decisions["record_id"].decision == "kept"
    assert abs((decisions["record_id"].single_column_auc or 0) - 0.5) < 0.05
    assert decisions["first_visit"].decision == "kept"
    assert decisions["first_visit"].later_share == 0
    assert "created_at" not in decisions


def test_reasons_carry_the_evidence(leads: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, y = leads
    report = check_leakage(frame, y, FIELDS)
    closed = next(c for c in report.checks if c.column == "closed_on")
    assert closed.later_share == 1.0
    assert "100% of its timestamps are later than the lead's creation" in closed.reason
    text = next(c for c in report.checks if c.column == "closed_text")
    assert text.later_share == 1.0  # a date stored as text is still a date
    segment = next(c for c in report.checks if c.column == "deal_segment")
    assert "alone it predicts the outcome with ROC AUC" in segment.reason
    assert report.as_dict()["max_single_column_auc"] == 0.95


def test_a_kept_column_is_still_reported(leads: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, y = leads
    report = check_leakage(frame, y, FIELDS, keep=["revenue"])
    assert "revenue" not in report.dropped
    revenue = next(c for c in report.suspicious if c.column == "revenue")
    assert revenue.decision == "kept by override"
    assert revenue.reason


def test_the_threshold_is_configurable(leads: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, y = leads
    report = check_leakage(frame, y, {"plan": FieldType.text}, max_auc=0.6)
    assert report.dropped == ["plan"]


def test_too_few_outcomes_give_no_auc() -> None:
    values = pd.Series(["a", "b", "c", "d", "e", "f"])
    assert single_column_auc(values, FieldType.text, np.array([1, 0, 0, 0, 0, 0])) is None
