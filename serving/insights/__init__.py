"""Analytics on the operational store: lifecycles, funnel, speed-to-lead, workload, backtest,
drift.

Each function opens one read transaction (a consistent snapshot) and returns
the contract's pydantic model (`serving.insights.responses`); the API serves them
as they are, the report (`gather_report`) as plain dicts. Nothing here
writes. An empty store gives empty lists and zero counts, never an error.
"""

from __future__ import annotations

from datetime import datetime

from data.store import Store
from data.store.engine import read
from serving.insights import drift as _drift
from serving.insights import funnel as _funnel
from serving.insights import score_backtest as _backtest
from serving.insights import speed as _speed
from serving.insights import workload as _workload
from serving.insights.frames import load_history
from serving.insights.lifecycle import STAGES, journeys
from serving.insights.period import DEFAULT_DAYS, PeriodError, resolve_period
from serving.insights.responses import (
    Backtest,
    Breakdown,
    Drift,
    Funnel,
    Period,
    Routed,
    SpeedToLead,
    Timeline,
    Workload,
)
from serving.insights.timeline import timeline as _timeline

__all__ = [
    "DEFAULT_DAYS",
    "STAGES",
    "PeriodError",
    "backtest",
    "drift",
    "funnel",
    "lead_timeline",
    "resolve_period",
    "routed",
    "speed_to_lead",
    "workload",
]


def lead_timeline(store: Store, lead_id: str) -> Timeline | None:
    """The lead's timeline in order, with its hand-offs; None for an unknown lead."""
    with read(store.engine) as connection:
        return _timeline(load_history(connection, lead_id=lead_id))


def funnel(store: Store, period: Period, by: Breakdown = "channel") -> Funnel:
    """The funnel of the leads created in the period, overall and per group of `by`."""
    with read(store.engine) as connection:
        history = load_history(connection, period.start, period.end)
    return _funnel.funnel(journeys(history), period, by)


def speed_to_lead(store: Store, period: Period) -> SpeedToLead:
    """First-touch and qualification delays of the leads created in the period."""
    with read(store.engine) as connection:
        history = load_history(connection, period.start, period.end)
    return _speed.speed_to_lead(journeys(history), period)


def workload(store: Store) -> Workload:
    with read(store.engine) as connection:
        return _workload.workload(connection)


def routed(store: Store, period: Period, limit: int = 20) -> Routed:
    with read(store.engine) as connection:
        return _workload.routed(connection, period, limit)


def backtest(
    store: Store,
    period: Period,
    now: datetime,
    horizon_days: int = _backtest.DEFAULT_HORIZON_DAYS,
) -> Backtest:
    """Predicted vs realised conversion of the scores given in the period (see `backtest`)."""
    with read(store.engine) as connection:
        return _backtest.backtest(connection, period, now, horizon_days)


def drift(
    store: Store,
    period: Period,
    now: datetime,
    references: _drift.References,
    horizon_days: int = _backtest.DEFAULT_HORIZON_DAYS,
) -> Drift:
    """Each live model's drift from its training reference over the leads scored in the
    period (see `serving.insights.drift`); `references` names the live models."""
    with read(store.engine) as connection:
        return _drift.drift(connection, period, now, references, horizon_days)
