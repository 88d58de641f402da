"""Whether creation dates can order leads in time, and why not."""

from __future__ import annotations

import pandas as pd
import pytest

from data.importing.dates import dates_usable


def days(*dates: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(dates), format="ISO8601"))


def test_dates_over_months_are_usable() -> None:
    usable, note = dates_usable(days("2024-01-05", "2024-02-10 10:00", "2024-05-01", "2024-03-03"))
    assert usable
    assert note == "creation dates span 2024-01-05 to 2024-05-01 (117 days)"


def test_one_timestamp_for_every_row_is_not_usable() -> None:
    usable, note = dates_usable(pd.Series([pd.Timestamp("2024-06-30 23:59:01")] * 10))
    assert not usable
    assert "10 of 10 leads (100%) share one creation instant, 2024-06-30 23:59:01" in note


def test_half_on_one_instant_is_not_usable() -> None:
    migrated = ["2023-01-01"] * 3 + ["2022-01-01", "2022-05-01", "2022-09-01"]
    usable, note = dates_usable(days(*migrated))
    assert not usable
    assert note.startswith("3 of 6 leads (50%) share one creation instant, 2023-01-01:")


def test_many_times_on_one_day_are_not_usable() -> None:
    times = [f"2024-03-01 10:{minute:02d}" for minute in range(6)] + ["2023-01-01", "2023-06-01"]
    usable, note = dates_usable(days(*times))
    assert not usable
    assert "6 of 8 leads (75%) share one creation day, 2024-03-01" in note


def test_a_short_span_is_not_usable() -> None:
    usable, note = dates_usable(days("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"))
    assert not usable
    assert note.startswith("creation dates span only 3.0 days")


@pytest.mark.parametrize("values", [[], [None, None], ["2024-01-01"]])
def test_fewer_than_two_dates_are_not_usable(values: list[str | None]) -> None:
    assert dates_usable(pd.Series(values, dtype=object)) == (
        False,
        "fewer than two leads have a creation date",
    )


def test_time_zones_and_text_are_read() -> None:
    usable, _ = dates_usable(pd.Series(["2024-01-01T00:00:00+02:00", "2024-03-01T00:00:00Z"]))
    assert usable
