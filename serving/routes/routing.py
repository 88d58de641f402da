"""Routing: a qualified lead to a closer, a won customer to an account manager."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, status
from starlette.concurrency import run_in_threadpool

from data.contract import Lead
from serving.auth import ROUTE
from serving.deps import ConfigDep, FitModelsDep, HistoryDep, MetricsDep, StoreDep
from serving.prometheus import Metrics
from serving.routing import (
    AlreadyAssignedError,
    NoEligibleRepError,
    Routed,
    assign_customer,
    route_lead,
)
from serving.routing_schemas import Assignment, CustomerToAssign

router = APIRouter(tags=["routing"], dependencies=[ROUTE])

RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_409_CONFLICT: {
        "description": "No eligible rep has room, or the subject is already assigned."
    }
}


async def _answer(metrics: Metrics, call: Any, *args: Any) -> Assignment:
    try:
        routed: Routed = await run_in_threadpool(call, *args)
    except AlreadyAssignedError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except NoEligibleRepError as error:
        detail = {
            "message": f"no rep can take it: {error}",
            "ineligible": [i.__dict__ for i in error.decision.ineligible],
        }
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from error
    metrics.routed(routed.assignment.kind, routed.decision.policy, routed.decision.explored)
    return Assignment.of(routed)


@router.post(
    "/v1/leads/route",
    summary="Choose the closer for a qualified lead (reserves capacity)",
    responses=RESPONSES,
)
async def route(
    lead: Annotated[Lead, Body()],
    store: StoreDep,
    fit_models: FitModelsDep,
    config: ConfigDep,
    history: HistoryDep,
    metrics: MetricsDep,
    deal_value: Annotated[
        float | None,
        Query(
            gt=0,
            description="Expected deal amount if known; the objective is then "
            "P(win) x amount, else P(win).",
        ),
    ] = None,
) -> Assignment:
    """The body is a lead exactly as `POST /v1/leads/score` takes it."""
    if history is not None:
        await run_in_threadpool(history.flush)  # the lead row may be on its way
    return await _answer(metrics, route_lead, store, fit_models, config.policy(), lead, deal_value)


@router.post(
    "/v1/customers/assign",
    summary="Choose the account manager for a won customer (reserves room in the book)",
    responses=RESPONSES,
)
async def assign(
    customer: Annotated[CustomerToAssign, Body()],
    store: StoreDep,
    fit_models: FitModelsDep,
    config: ConfigDep,
    metrics: MetricsDep,
) -> Assignment:
    """The body has the customers table's columns; `account_manager_id` is ignored."""
    return await _answer(metrics, assign_customer, store, fit_models, config.policy(), customer)
