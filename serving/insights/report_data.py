"""Everything the insights report shows, as plain dicts shaped like the API's answers.

`leadscore report` prints it as tables; an HTML report renders the same dict.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from data.store import Store
from data.store.engine import read
from data.store.schema import scores
from data.store.store_records import utc_now
from serving import insights
from serving.insights.frames import load_history
from serving.insights.funnel import funnel
from serving.insights.lifecycle import journeys
from serving.insights.responses import Period
from serving.insights.score_backtest import DEFAULT_HORIZON_DAYS
from serving.insights.speed import speed_to_lead

ROUTED_SHOWN = 20


def model_versions(store: Store, period: Period) -> dict[str, dict[str, int]]:
    """model name -> version -> how many scores it gave in the period."""
    query = (
        select(scores.c.model_name, scores.c.model_version, func.count())
        .where(scores.c.scored_at >= period.start, scores.c.scored_at < period.end)
        .group_by(scores.c.model_name, scores.c.model_version)
        .order_by(scores.c.model_name, scores.c.model_version)
    )
    out: dict[str, dict[str, int]] = {}
    with read(store.engine) as connection:
        for name, version, count in connection.execute(query):
            out.setdefault(name, {})[version] = int(count)
    return out


def gather_report(
    store: Store,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> dict[str, Any]:
    """The report's data for the leads created in [start, end).

    The backtest looks one horizon further back, at the scores given in
    [start - horizon, end - horizon): those leads have had the horizon to
    convert, as if the report had been run then and checked now.
    Keys: period, funnel_by_channel, funnel_by_role, speed, workload,
    backtest (with backtest_period beside it), routed, models.
    """
    now = now or utc_now()
    period = insights.resolve_period(start, end, now)
    horizon = timedelta(days=horizon_days)
    earlier = Period(start=period.start - horizon, end=period.end - horizon)
    with read(store.engine) as connection:
        lives = journeys(load_history(connection, period.start, period.end))

    def dump(model: Any) -> Any:
        return model.model_dump(mode="json", by_alias=True)

    return {
        "period": dump(period),
        "funnel_by_channel": dump(funnel(lives, period, "channel")),
        "funnel_by_role": dump(funnel(lives, period, "role")),
        "speed": dump(speed_to_lead(lives, period)),
        "workload": dump(insights.workload(store)),
        "backtest": dump(insights.backtest(store, earlier, now, horizon_days)),
        "backtest_period": dump(earlier),
        "routed": dump(insights.routed(store, period, ROUTED_SHOWN)),
        "models": model_versions(store, period),
    }
