"""The leakage guard on columns whose story is known: filled in after the win, later
timestamps, id-like noise, an honest signal, the user's override, fields that fill up as
leads are worked, values only decided leads hold, a column that rivals all the others,
post-contact names, and its speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from features.columns import FieldType
from training.leakage import check_leakage, single_column_auc
from training.leakage_evidence import post_contact_name

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


@pytest.fixture(scope="module")
def worked() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Leads whose outcome is known, and the newest ones whose outcome is not, with
    fields sales fills in once a lead is worked (a week or so after it arrives)."""
    rng = np.random.default_rng(5)
    n = 6_000
    days = np.sort(rng.uniform(0, 400, n))
    created = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"))
    decided = (days.max() - days) >= 60
    plan = rng.choice(["basic", "pro"], n)
    y = (rng.random(n) < np.where(plan == "pro", 0.2, 0.08)).astype(np.int64)
    is_worked = days + rng.exponential(7, n) <= days.max()
    warmth = np.where(decided, y, rng.random(n) < 0.12) + rng.normal(0, 0.7, n)
    rating = pd.Series(np.select([warmth > 1, warmth > 0.3], ["hot", "warm"], "cold"))
    lost_tag = rng.choice(["not interested", "no answer", "call back"], n, p=[0.3, 0.4, 0.3])
    outcome_tag = np.where((y == 1) & (rng.random(n) < 0.6), "enrolled", lost_tag)
    tags = pd.Series(np.where(decided, outcome_tag, rng.choice(["call back", "no answer"], n)))
    frame = pd.DataFrame(
        {
            "created_at": created,
            "plan": plan,
            "score_band": rating.where(is_worked),  # post-contact, neutral name
            "Rating": rating.where(is_worked),  # post-contact, a CRM's name
            "remark": tags.where(is_worked),  # outcome words typed in, neutral name
        }
    )
    return frame[decided].reset_index(drop=True), y[decided], frame[~decided]


WORKED_FIELDS = {
    "plan": FieldType.text,
    "score_band": FieldType.text,
    "Rating": FieldType.text,
    "remark": FieldType.text,
}


def test_fields_filled_in_as_leads_are_worked_are_suspects_or_dropped(
    worked: tuple[pd.DataFrame, np.ndarray, pd.DataFrame],
) -> None:
    decided, y, undecided = worked
    report = check_leakage(decided, y, WORKED_FIELDS, undecided=undecided)
    checks = {c.column: c for c in report.checks}
    assert checks["plan"].decision == "kept" and checks["plan"].evidence == ()
    band = checks["score_band"]
    assert band.decision == "suspect" and band.evidence == ("fills as worked",)
    assert (band.filled_older or 0) - (band.filled_newest or 0) > 0.3
    assert band in report.suspects and band not in report.suspicious
    rating = checks["Rating"]
    assert rating.decision == "dropped"
    assert rating.evidence == ("fills as worked", "post-contact name")
    remark = checks["remark"]
    assert remark.decision == "dropped"
    assert "decided-only values" in remark.evidence
    assert "enrolled" in remark.decided_only_values
    assert (remark.decided_only_share or 0) > 0.2
    assert set(report.dropped) == {"Rating", "remark"}
    assert {c.column for c in report.reported} == {"score_band", "Rating", "remark"}


def test_without_undecided_leads_or_dates_there_is_less_to_go_on(
    worked: tuple[pd.DataFrame, np.ndarray, pd.DataFrame],
) -> None:
    decided, y, undecided = worked
    no_dates = check_leakage(decided, y, WORKED_FIELDS, undecided=undecided, dates=False)
    checks = {c.column: c for c in no_dates.checks}
    assert checks["score_band"].decision == "kept"
    assert checks["Rating"].decision == "suspect"  # its name is all that is left
    assert "decided-only values" in checks["remark"].evidence  # no dates needed for that
    assert "fills as worked" not in checks["remark"].evidence
    assert all(c.filled_newest is None and c.later_share is None for c in no_dates.checks)
    alone = check_leakage(decided, y, WORKED_FIELDS)
    assert all(c.decided_only_share is None for c in alone.checks)


def test_a_column_that_alone_rivals_the_others_is_a_suspect() -> None:
    rng = np.random.default_rng(9)
    n = 5_000
    y = (rng.random(n) < 0.15).astype(np.int64)
    frame = pd.DataFrame(
        {
            "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="h"),
            "size": rng.normal(0, 1, n) + 0.5 * y,  # honest, weak
            "region": np.where(rng.random(n) < 0.6 + 0.2 * y, "north", "south"),  # honest, weak
            "assessment": rng.normal(0, 1, n) + 2.0 * y,  # alone far better than the rest
        }
    )
    fields = {"size": FieldType.number, "region": FieldType.text, "assessment": FieldType.number}
    report = check_leakage(frame, y, fields)
    checks = {c.column: c for c in report.checks}
    assessment = checks["assessment"]
    assert assessment.decision == "suspect" and assessment.evidence == ("rivals the others",)
    assert (assessment.single_column_auc or 0) > 0.85 > (assessment.others_auc or 1)
    assert checks["size"].decision == checks["region"].decision == "kept"
    assert (report.reference_auc or 0) > (assessment.others_auc or 1)  # the model of all
    kept = check_leakage(frame, y, fields, keep=["assessment"])
    assert kept.reported[0].decision == "kept by override"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("Tags__c", "tags"),
        ("Lead Quality", "quality"),
        ("Last Notable Activity", "last notable"),
        ("LastActivityDate", "LastActivityDate"),  # a preset's post-contact field
        ("Contact owner", "Contact owner"),
        ("won_date", "won"),
        ("time_on_site_sec", None),
        ("contact_title", None),
        ("Lead Origin", None),
        ("meeting_booked", None),
    ],
)
def test_post_contact_names(name: str, hint: str | None) -> None:
    assert post_contact_name(name) == hint


def test_the_guard_is_quick_on_ten_thousand_leads_and_twenty_five_columns() -> None:
    rng = np.random.default_rng(1)
    n = 10_000
    y = (rng.random(n) < 0.1).astype(np.int64)
    columns: dict[str, object] = {
        "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 600, n), "D")
    }
    fields = {}
    for i in range(25):
        name = f"c{i}"
        if i % 3:
            columns[name] = rng.normal(0, 1, n) + 0.2 * y
            fields[name] = FieldType.number
        else:
            columns[name] = rng.choice([f"v{j}" for j in range(15)], n)
            fields[name] = FieldType.text
    frame = pd.DataFrame(columns)
    started = time.perf_counter()
    report = check_leakage(
        frame, y, fields, undecided=frame.iloc[:2_000], held_out=frame.iloc[-2_000:]
    )
    assert time.perf_counter() - started < 5
    assert report.dropped == []


def test_leads_without_a_creation_date_are_checked_on_the_rest(
    worked: tuple[pd.DataFrame, np.ndarray, pd.DataFrame],
) -> None:
    decided, y, undecided = worked
    report = check_leakage(
        decided.drop(columns="created_at"),
        y,
        WORKED_FIELDS,
        undecided=undecided.drop(columns="created_at"),
    )
    checks = {c.column: c for c in report.checks}
    assert checks["remark"].decision == "dropped"
    assert checks["plan"].decision == "kept"
    assert all(c.filled_newest is None for c in report.checks)
