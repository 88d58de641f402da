"""Wilson intervals and shrinkage against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from serving.insights.intervals import shrunk, wilson
from serving.insights.period import PeriodError, resolve_period


def test_wilson_matches_the_textbook_values() -> None:
    # 3 of 3: centre (1 + 1.92073) / 2.28049 = 1.28077... capped at 1; low 0.43850
    low, high = wilson(3, 3) or (0.0, 0.0)
    assert low == pytest.approx(0.4385, abs=1e-4) and high == 1.0
    # 50 of 100: 0.5 +- 1.96 * sqrt(0.0025 + 0.000096) / 1.038415 = 0.5 +- 0.09617
    low, high = wilson(50, 100) or (0.0, 0.0)
    assert low == pytest.approx(0.4038, abs=1e-4)
    assert high == pytest.approx(0.5962, abs=1e-4)
    assert wilson(0, 0) is None


def test_shrinkage_pulls_a_lucky_small_group_toward_the_overall_rate() -> None:
    # 3 wins in 3 deals against an overall 0.3: (3 + 20 x 0.3) / (3 + 20) = 9 / 23
    assert shrunk(3, 3, 0.3) == pytest.approx(9 / 23)
    assert shrunk(300, 300, 0.3) == pytest.approx(306 / 320)  # a large group keeps its rate
    assert shrunk(1, 1, None) is None


def test_the_period_defaults_to_the_last_90_days_and_must_not_be_empty() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    period = resolve_period(None, None, now)
    assert (period.start, period.end) == (now - timedelta(days=90), now)
    naive = resolve_period(datetime(2026, 1, 1), None, now)
    assert naive.start == datetime(2026, 1, 1, tzinfo=UTC)
    for start, end in ((now, now), (now, now - timedelta(days=1))):
        with pytest.raises(PeriodError, match="start") as caught:
            resolve_period(start, end, now)
        assert caught.value.field == "start"
