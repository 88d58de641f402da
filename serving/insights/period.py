"""The analysis period: [start, end) in UTC, the last 90 days by default."""

from __future__ import annotations

from datetime import datetime, timedelta

from data.store.store_records import as_utc
from serving.insights.responses import Period

DEFAULT_DAYS = 90


class PeriodError(ValueError):
    """A period that cannot be analysed; `field` names the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def resolve_period(
    start: datetime | None, end: datetime | None, now: datetime, days: int = DEFAULT_DAYS
) -> Period:
    """Fill in the defaults (end = now, start = end - days) and refuse an empty period.

    Naive times are taken as UTC. An empty or inverted period names `start`,
    the bound a client usually gets wrong.
    """
    end_ = as_utc(end) if end is not None else as_utc(now)
    start_ = as_utc(start) if start is not None else end_ - timedelta(days=days)
    if start_ >= end_:
        raise PeriodError(
            "start",
            f"start {start_.isoformat()} must be before end {end_.isoformat()} "
            "(the period is [start, end) and may not be empty)",
        )
    return Period(start=start_, end=end_)
