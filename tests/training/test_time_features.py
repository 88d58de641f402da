"""Which calendar features the dates can carry: pure checks, no model fitted."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from features.lead_features import default_spec
from training.time_features import CALENDAR, time_feature_plan, without_calendar
from training.training_config import TrainingConfig


def _stamps(days: int = 730, rows: int = 20_000, seed: int = 0) -> tuple[pd.Series, pd.Series]:
    """(dates at midnight, the same dates with a real time of day)."""
    rng = np.random.default_rng(seed)
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, days, rows), unit="D")
    seconds = rng.normal(14 * 3600, 3 * 3600, rows).clip(0, 86_399).astype(int)
    return pd.Series(dates), pd.Series(dates + pd.to_timedelta(seconds, unit="s"))


CONFIG = TrainingConfig()


def test_two_years_of_real_timestamps_keep_every_calendar_feature() -> None:
    _, stamped = _stamps()
    assert time_feature_plan(stamped, CONFIG) == ([], [])


@pytest.mark.parametrize(
    "config", [replace(CONFIG, dated=False), replace(CONFIG, time_features=False)]
)
def test_no_calendar_feature_without_dates_or_when_switched_off(config: TrainingConfig) -> None:
    _, stamped = _stamps()
    dropped, notes = time_feature_plan(stamped, config)
    assert sorted(dropped) == sorted(CALENDAR)
    assert len(notes) == 1


def test_no_calendar_feature_when_no_lead_has_a_date() -> None:
    assert sorted(time_feature_plan(pd.Series([pd.NaT] * 5), CONFIG)[0]) == sorted(CALENDAR)


def test_the_month_of_the_year_needs_every_month_twice() -> None:
    _, stamped = _stamps(days=580)  # 19 months: some months seen in one year only
    dropped, notes = time_feature_plan(stamped, CONFIG)
    assert dropped == ["month"]
    assert "some calendar month shows in 1 year only (2 needed)" in notes[0]
    _, short = _stamps(days=150)  # 5 months: some month of the quarter seen once
    assert sorted(time_feature_plan(short, CONFIG)[0]) == ["month", "month_in_quarter"]


def test_dates_at_midnight_have_no_hour() -> None:
    midnight, _ = _stamps()
    dropped, notes = time_feature_plan(midnight, CONFIG)
    assert dropped == ["hour"]
    assert "same hour" in notes[0]


def test_a_constant_or_partly_made_up_time_of_day_has_no_hour() -> None:
    midnight, stamped = _stamps()
    shifted = midnight + pd.Timedelta(hours=5)  # a date-only value read in another time zone
    assert time_feature_plan(shifted, CONFIG)[0] == ["hour"]
    partly = stamped.where(np.arange(len(stamped)) % 5 != 0, midnight)  # a fifth without time
    dropped, notes = time_feature_plan(partly, CONFIG)
    assert dropped == ["hour"]
    assert "20% of leads share one time of day (00:00:00)" in notes[0]


@pytest.mark.parametrize(("first", "last"), [(8, 18), (0, 23)])
def test_times_recorded_to_the_hour_keep_the_hour(first: int, last: int) -> None:
    midnight, _ = _stamps()
    hours = np.random.default_rng(1).integers(first, last + 1, len(midnight))
    assert time_feature_plan(midnight + pd.to_timedelta(hours, unit="h"), CONFIG) == ([], [])
    # ... unless midnight stands out from the hours around it
    placeholder = np.where(np.arange(len(hours)) % 8 == 0, 0, hours)
    stamps = midnight + pd.to_timedelta(placeholder, unit="h")
    assert time_feature_plan(stamps, CONFIG)[0] == ["hour"]


def test_dates_known_to_the_month_have_no_weekday() -> None:
    _, stamped = _stamps()
    monthly = stamped.dt.to_period("M").dt.to_timestamp()
    dropped, notes = time_feature_plan(monthly, CONFIG)
    assert sorted(dropped) == ["hour", "weekday"]
    assert any("dated day 1 of a month" in note for note in notes)


def test_batch_dates_have_no_weekday() -> None:
    _, stamped = _stamps()
    mondays = stamped - pd.to_timedelta(stamped.dt.weekday, unit="D")
    assert "weekday" in time_feature_plan(mondays, CONFIG)[0]


def test_dropping_calendar_features_keeps_the_rest() -> None:
    spec = default_spec("inbound")
    fewer = without_calendar(spec, ["hour", "month"])
    derived = {f.derive for f in fewer.features}
    assert "hour" not in derived and "month" not in derived
    assert {"weekday", "month_in_quarter"} <= derived
    assert len(fewer.features) == len(spec.features) - 2
    assert without_calendar(spec, []) is spec
