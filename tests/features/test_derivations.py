"""Derived features: the edge cases a CRM export is full of."""

from __future__ import annotations

import numpy as np

from features import derivations as d


def test_ratio_is_missing_when_it_is_undefined() -> None:
    out = d.ratio(np.array([4.0, 1.0, np.nan, 3.0]), np.array([2.0, 0.0, 5.0, np.nan]))
    np.testing.assert_array_equal(out, [2.0, np.nan, np.nan, np.nan])


def test_seniority_rank_orders_levels_and_leaves_unknown_missing() -> None:
    out = d.seniority_rank(np.array(["entry", "c_level", None, "intern"], dtype=object))
    np.testing.assert_array_equal(out, [1.0, 5.0, np.nan, np.nan])


def test_segment_boundaries_follow_the_contract() -> None:
    out = d.segment(np.array([1.0, 199.0, 200.0, 1999.0, 2000.0, np.nan]))
    assert out.tolist() == ["smb", "smb", "mid_market", "mid_market", "enterprise", None]


def test_title_function_reads_common_titles() -> None:
    titles = np.array(
        ["CEO", "VP Sales", "Director of IT", "Head of Marketing", "Chef", None], dtype=object
    )
    assert d.title_function(titles).tolist() == [
        "executive",
        "sales",
        "it",
        "marketing",
        None,
        None,
    ]


def test_calendar_features_and_missing_times() -> None:
    times = np.array(["2025-03-31T23:00", "2025-07-06T08:30", "NaT"], dtype="datetime64[us]")
    np.testing.assert_array_equal(d.month(times), [3.0, 7.0, np.nan])
    np.testing.assert_array_equal(d.month_in_quarter(times), [3.0, 1.0, np.nan])
    np.testing.assert_array_equal(d.weekday(times), [0.0, 6.0, np.nan])  # Monday, Sunday
    np.testing.assert_array_equal(d.hour(times), [23.0, 8.0, np.nan])
