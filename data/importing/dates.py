"""Whether a table's creation dates can order its leads in time.

Training validates on the newest leads, which only means something when
`created_at` says when each lead came in. Exports without a creation date,
or whose "created" column is really the date of a migration or of the
export itself, cannot be split by time; this module says so, with the reason.
"""

from __future__ import annotations

import pandas as pd

MAX_SHARED = 0.5
"""Share of leads on one instant (or one day) from which the dates are not the leads' own."""
MIN_SPAN = pd.Timedelta(days=7)
"""Shorter than this, a split by time has nothing to learn from."""
NOT_REAL = (
    "the export has no creation dates (created_at was not mapped): every lead carries the "
    "import's time"
)
WITHOUT_DATES = (
    "training cannot split leads by time: it will use a random split, so its figures are "
    "optimistic (the model is not tested on leads newer than those it learnt from), and "
    "no time features (month, age) can be learnt"
)


def dates_usable(created_at: pd.Series) -> tuple[bool, str]:
    """(True, the span) when `created_at` can order leads in time, else (False, why not).

    Not usable: fewer than two dates; half or more of the leads on one instant
    or on one day (a migration or export time); a span shorter than `MIN_SPAN`.
    """
    times = pd.to_datetime(created_at, errors="coerce", utc=True, format="ISO8601").dropna()
    if len(times) < 2:
        return False, "fewer than two leads have a creation date"
    for unit, rounded in (("instant", times), ("day", times.dt.floor("D"))):
        counts = rounded.value_counts()
        shared, total = int(counts.iloc[0]), len(times)
        if shared > 1 and shared / total >= MAX_SHARED:
            when = counts.index[0].tz_localize(None)
            shown = f"{when:%Y-%m-%d}" if when == when.normalize() else str(when)
            return False, (
                f"{shared:,} of {total:,} leads ({shared / total:.0%}) share one creation "
                f"{unit}, {shown}: more likely a migration or export time than when they came in"
            )
    first, last = times.min().tz_localize(None), times.max().tz_localize(None)
    span = last - first
    days = span / pd.Timedelta(days=1)
    if span < MIN_SPAN:
        return False, (
            f"creation dates span only {days:.1f} days ({first} to {last}): too short to "
            "validate on newer leads"
        )
    return True, f"creation dates span {first:%Y-%m-%d} to {last:%Y-%m-%d} ({days:,.0f} days)"
