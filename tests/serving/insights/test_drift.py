"""The PSI, its bands and the binning of posted leads, on hand-made references."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from serving.insights.drift import (
    EPSILON,
    MIN_LEADS,
    band,
    categorical_drift,
    model_drift,
    numeric_drift,
    psi,
)

SIZE = {
    "kind": "numeric",
    "type": "number",
    "edges": [10.0, 100.0],
    "shares": [0.3, 0.4, 0.2],
    "missing": 0.1,
}
SOURCE = {
    "kind": "categorical",
    "type": "text",
    "categories": {"web": 0.6, "event": 0.3},
    "other": 0.05,
    "missing": 0.05,
    "known": ["event", "partner", "web"],
    "known_complete": True,
}
REFERENCE = {
    "rows": 1000,
    "window": {"first": "2025-01-01T00:00:00+00:00", "last": "2025-12-31T00:00:00+00:00"},
    "fields": {"company_size": SIZE, "source": SOURCE},
    "score": {"edges": [10, 20, 30, 40, 50, 60, 70, 80, 90], "shares": [0.1] * 10},
    "grades": {"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4},
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "stable"),
        (0.0999, "stable"),
        (0.1, "moving"),
        (0.25, "moving"),
        (0.2501, "shifted"),
        (3.0, "shifted"),
    ],
)
def test_the_bands_boundaries(value: float, expected: str) -> None:
    assert band(value) == expected


def test_psi_is_the_textbook_sum_with_empty_bins_floored() -> None:
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    # a bin training never filled, now holding 10%: large but finite
    assert psi([1.0, 0.0], [0.9, 0.1]) == pytest.approx(
        -0.1 * math.log(0.9) + (0.1 - EPSILON) * math.log(0.1 / EPSILON)
    )


def test_numbers_fall_in_the_training_bins_with_missing_as_a_bin() -> None:
    values = [5, 10, 50, 100, 1000, None, "7", True] + [50] * 92  # 100 leads
    found = numeric_drift("company_size", SIZE, values)
    shares = {b.key: round(b.now, 2) for b in found.bins}
    # 10 is at the edge: the lower bin, as training counted it; True counts as 1
    assert shares == {"<= 10": 0.04, "10 - 100": 0.94, "> 100": 0.01, "missing": 0.01}
    assert found.missing_then == 0.1 and found.missing_now == 0.01
    assert found.psi == pytest.approx(psi([0.3, 0.4, 0.2, 0.1], [0.04, 0.94, 0.01, 0.01]), abs=1e-4)
    assert found.band == "shifted"


def test_new_categories_are_named_with_their_share() -> None:
    values = ["web"] * 60 + ["tiktok"] * 25 + ["partner"] * 5 + ["fax"] * 5 + [None] * 5
    found = categorical_drift("source", SOURCE, values, "text")
    assert found.new_share == pytest.approx(0.30)
    assert [(c.value, c.share) for c in found.new_categories] == [("tiktok", 0.25), ("fax", 0.05)]
    shares = {b.key: b.now for b in found.bins}
    assert shares["other"] == 0.05  # partner: seen in training, not among the top
    assert found.band == "shifted"


def test_below_the_minimum_the_answer_says_so_instead_of_a_psi() -> None:
    few = pd.DataFrame(
        {
            "score": [50] * 20,
            "grade": ["B"] * 20,
            "payload": [{"company_size": 50, "source": "web"}] * 20,
        }
    )
    found = model_drift("lead-score-inbound", "3", REFERENCE, few, None)
    assert found.message == f"20 leads scored in the period; a PSI needs at least {MIN_LEADS}"
    assert found.score_psi is None and all(f.psi is None for f in found.fields)
    assert found.fields[0].missing_now == 0.0  # the shares are still shown


def test_custom_fields_are_read_from_the_posted_custom_fields() -> None:
    plan_reference = {
        **SOURCE,
        "categories": {"pro": 1.0},
        "other": 0.0,
        "missing": 0.0,
        "known": ["pro"],
    }
    reference = {**REFERENCE, "fields": {"plan": plan_reference}}
    leads = pd.DataFrame(
        {
            "score": [50] * MIN_LEADS,
            "grade": ["B"] * MIN_LEADS,
            "payload": [{"custom_fields": {"plan": "pro"}}] * MIN_LEADS,
        }
    )
    (plan,) = model_drift("m", "1", reference, leads, None).fields
    assert {b.key: b.now for b in plan.bins}["pro"] == 1.0
    assert plan.psi == 0 and plan.band == "stable"
