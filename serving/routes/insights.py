"""Analytics for the dashboard: funnel, speed-to-lead, workload, score backtest, routing log.

The answers are computed by `serving.insights` on the operational store; this
module only reads the query parameters and translates errors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from data.input_rules import IsoTime
from data.store.store_records import utc_now
from serving import insights
from serving.auth import READ
from serving.deps import HistoryDep, ModelStoreDep, StoreDep
from serving.insights.drift import DEFAULT_DAYS as DRIFT_DAYS
from serving.insights.responses import (
    Backtest,
    Breakdown,
    Drift,
    Funnel,
    Period,
    Routed,
    SpeedToLead,
    Workload,
)
from serving.insights.score_backtest import DEFAULT_HORIZON_DAYS
from serving.live_drift import live_references

router = APIRouter(prefix="/v1/insights", tags=["insights"], dependencies=[READ])

START = Query(description="Inclusive start (ISO 8601, UTC if no zone); default: end - 90 days.")
END = Query(description="Exclusive end (ISO 8601); default: now.")


async def get_period(
    start: Annotated[IsoTime | None, START] = None,
    end: Annotated[IsoTime | None, END] = None,
) -> Period:
    """[start, end), the last 90 days by default; an empty or inverted one is a 422 on start."""
    return _resolved(start, end, insights.DEFAULT_DAYS)


PeriodDep = Annotated[Period, Depends(get_period)]


async def get_drift_period(
    start: Annotated[
        IsoTime | None, Query(description="Inclusive start; default: end - 7 days.")
    ] = None,
    end: Annotated[IsoTime | None, END] = None,
) -> Period:
    """`get_period` with the drift's default window, the last 7 days."""
    return _resolved(start, end, DRIFT_DAYS)


def _resolved(start: datetime | None, end: datetime | None, days: int) -> Period:
    try:
        return insights.resolve_period(start, end, utc_now(), days=days)
    except insights.PeriodError as error:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", error.field),
                    "msg": str(error),
                    "input": None if start is None else start.isoformat(),
                }
            ]
        ) from error


async def _flushed(history: HistoryDep) -> None:
    """Scores just served are in the history before it is read."""
    if history is not None:
        await run_in_threadpool(history.flush)


@router.get("/funnel", summary="Leads per stage and the conversion between stages")
async def funnel(
    store: StoreDep,
    period: PeriodDep,
    history: HistoryDep,
    by: Annotated[
        Breakdown,
        Query(
            description="channel, source, segment and grade (of the first score) come "
            "from the lead; rep and role from who owned each stage transition."
        ),
    ] = "channel",
) -> Funnel:
    """The leads created in the period, with every stage they reached since."""
    await _flushed(history)
    return await run_in_threadpool(insights.funnel, store, period, by)


@router.get("/speed-to-lead", summary="Time to first touch and to qualification")
async def speed_to_lead(store: StoreDep, period: PeriodDep) -> SpeedToLead:
    return await run_in_threadpool(insights.speed_to_lead, store, period)


@router.get("/workload", summary="Each rep's open work against capacity, now")
async def workload(store: StoreDep, period: PeriodDep) -> Workload:
    """The load is the present one; the period is checked like everywhere, but not used."""
    del period
    return await run_in_threadpool(insights.workload, store)


@router.get("/backtest", summary="Predicted against realised conversion, per model version")
async def backtest(
    store: StoreDep,
    period: PeriodDep,
    history: HistoryDep,
    horizon_days: Annotated[
        int, Query(ge=1, le=3650, description="Days a lead has to convert after its score.")
    ] = DEFAULT_HORIZON_DAYS,
) -> Backtest:
    """Scores given in the period whose lead has had the horizon since (the last per lead
    and model version), by grade and by score decile."""
    await _flushed(history)
    return await run_in_threadpool(insights.backtest, store, period, utc_now(), horizon_days)


@router.get("/routed", summary="The latest routing decisions, newest first")
async def routed(
    store: StoreDep,
    period: PeriodDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many decisions.")] = 20,
) -> Routed:
    return await run_in_threadpool(insights.routed, store, period, limit)


@router.get("/drift", summary="Each live model's inputs and scores against its training rows")
async def drift(
    store: StoreDep,
    models: ModelStoreDep,
    history: HistoryDep,
    period: Annotated[Period, Depends(get_drift_period)],
    horizon_days: Annotated[
        int, Query(ge=1, le=3650, description="Days a lead has to convert, for the backtest.")
    ] = DEFAULT_HORIZON_DAYS,
) -> Drift:
    """For each model in use: the PSI of every input field and of the score over the leads
    it scored in the period (default: the last 7 days), worst first, with new categories,
    missing rates, grade shares and the backtest of its scores old enough to judge."""
    await _flushed(history)
    references = live_references(models.current)
    return await run_in_threadpool(
        insights.drift, store, period, utc_now(), references, horizon_days
    )
