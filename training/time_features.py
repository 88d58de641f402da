"""Which calendar features the creation dates can carry: placeholders and short histories
teach the period, not the season."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.spec import FeatureSpec
from training.training_config import TrainingConfig

CALENDAR = ("month", "month_in_quarter", "weekday", "hour")
"""The derivations of `created_at` in the default spec (`features.lead_features.COMMON`).
None marks absolute time: a trend learnt on the past cannot extrapolate to the future."""

SEASONS_NEEDED = 2
"""A cyclic calendar feature needs each of its values seen in at least this many cycles
(every month of the year in two years, every month of a quarter in two quarters). Seen
once, a value's effect is the level of that one period: under drift it learns the period,
not the season, and a history of 19 months meets May of the new year with last May's level.
Seen twice, the effect of each value averages over years, as the future does."""

PLACEHOLDER_SHARE = 0.02
"""A real time of day to the minute or second spreads leads thin: more than this share at
one exact time (midnight, or a timezone shift of it) is a made-up time."""

HOUR_PEAK_SHARE = 0.2
"""Times recorded to the hour only: the busiest hour may hold this much, not more."""

DAY_PEAK_SHARE = 0.1
"""Real dates spread over the month (1/30 each): a day of the month holding more than this
is the export's placeholder (e.g. every lead on the 1st when only the month is known)."""


def time_feature_plan(created_at: pd.Series, config: TrainingConfig) -> tuple[list[str], list[str]]:
    """Which calendar features (`CALENDAR` derive names) the dates cannot carry, and why.

    Pass the creation times of the rows the evaluated model learns from
    (`split.earlier`). Nothing is used without real dates (`config.dated` off) or
    with `config.time_features` off; the hour only with a real time of day (not a
    constant or midnight placeholder), the weekday only with real days (not the 1st of
    each month, not batch dates), the month of the year and of the quarter only once
    each value was seen `SEASONS_NEEDED` times.
    """
    if not config.dated or not config.time_features:
        why = "the leads have no usable creation dates" if not config.dated else "switched off"
        return list(CALENDAR), [f"no calendar features: {why}"]
    times = pd.Series(pd.to_datetime(created_at)).dropna()
    if times.empty:
        return list(CALENDAR), ["no calendar features: no creation dates"]
    drop, notes = [], []
    checks = (
        ("hour", "the hour of the day", _time_of_day_problem(times)),
        ("weekday", "the weekday", _date_problem(times)),
        ("month", "the month of the year", _season_problem(times, 12, "calendar month", "year")),
        ("month_in_quarter", "the month of the quarter", _season_problem(times, 3, "", "quarter")),
    )
    for derive, name, problem in checks:
        if problem is not None:
            drop.append(derive)
            notes.append(f"{name} is not used: {problem}")
    return drop, notes


def without_calendar(spec: FeatureSpec, derives: Sequence[str]) -> FeatureSpec:
    """`spec` less its calendar features of `created_at` with these derivations."""
    dropped = [f for f in spec.features if f.derive in derives and f.fields == ("created_at",)]
    if not dropped:
        return spec
    return FeatureSpec(tuple(f for f in spec.features if f not in dropped), spec.field_types)


def _time_of_day_problem(times: pd.Series) -> str | None:
    of_day = times - times.dt.normalize()
    hours = times.dt.hour
    if hours.nunique() < 2:
        return f"every lead was created in the same hour ({hours.iloc[0]:02d}h)"
    shares = of_day.value_counts(normalize=True)
    to_the_hour = bool((of_day % pd.Timedelta(hours=1) == pd.Timedelta(0)).mean() > 0.5)
    limit = HOUR_PEAK_SHARE if to_the_hour else PLACEHOLDER_SHARE
    if shares.iloc[0] > limit:
        clock = str(shares.index[0]).split(" days ")[-1]
        return f"{shares.iloc[0]:.0%} of leads share one time of day ({clock}), a placeholder"
    midnight = float((of_day == pd.Timedelta(0)).mean())
    # To the hour, midnight is an hour like any other: only more than its neighbours is odd.
    hourly = hours.value_counts(normalize=True)
    usual = hourly.get(23, 0.0) + hourly.get(1, 0.0) if to_the_hour else 0.0
    if midnight > PLACEHOLDER_SHARE + usual:
        return f"{midnight:.0%} of leads are stamped at midnight, a date without a time"
    return None


def _date_problem(times: pd.Series) -> str | None:
    weekdays = times.dt.weekday.nunique()
    if weekdays < 5:
        return f"the dates fall on {weekdays} weekday(s) only: batch or placeholder dates"
    days = times.dt.day.value_counts(normalize=True)
    if days.iloc[0] > DAY_PEAK_SHARE:
        return (
            f"{days.iloc[0]:.0%} of leads are dated day {days.index[0]} of a month: "
            "the export knows the month, not the day"
        )
    return None


def _season_problem(times: pd.Series, length: int, what: str, cycle: str) -> str | None:
    """Each position of a `length`-month cycle must show in `SEASONS_NEEDED` cycles (a month
    counts when it holds a quarter of a typical month's leads, not a few stragglers)."""
    months = times.dt.year.to_numpy() * 12 + times.dt.month.to_numpy() - 1
    index, counts = np.unique(months, return_counts=True)
    real = index[counts >= 0.25 * np.median(counts)]
    seen = min(len(np.unique(real[real % length == p] // length)) for p in range(length))
    if seen >= SEASONS_NEEDED:
        return None
    shows = "never shows" if seen == 0 else f"shows in {seen} {cycle}{'s' * (seen > 1)} only"
    return (
        f"in {len(real)} months of history some {what or f'month of the {cycle}'} {shows} "
        f"({SEASONS_NEEDED} needed): it would learn the period, not the season"
    )
