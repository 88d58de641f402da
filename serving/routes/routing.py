"""Routing: a qualified lead to a closer, a won customer to an account manager."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from starlette.concurrency import run_in_threadpool

from data.contract import Lead
from data.store import Store
from models.assignment.types import PolicyConfig
from serving.auth import ROUTE
from serving.deps import ConfigDep, FitModelsDep, HistoryDep, MetricsDep, StoreDep
from serving.model_store import FitModelSet
from serving.prometheus import Metrics
from serving.routing.bodies import Assignment, CustomerToAssign
from serving.routing.online import (
    AlreadyAssignedError,
    NoEligibleRepError,
    Routed,
    assign_customer,
    route_lead,
)

RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_409_CONFLICT: {
        "description": "No eligible rep has room, or the subject is already assigned."
    }
}

router = APIRouter(tags=["routing"], dependencies=[ROUTE], responses=RESPONSES)


@dataclass(frozen=True)
class RoutingContext:
    """What every routing endpoint decides with: the store, the fit models, the policy."""

    store: Store
    fit_models: FitModelSet | None
    policy: PolicyConfig
    metrics: Metrics


async def get_routing(
    store: StoreDep, fit_models: FitModelsDep, config: ConfigDep, metrics: MetricsDep
) -> RoutingContext:
    return RoutingContext(store, fit_models, config.policy(), metrics)


RoutingDep = Annotated[RoutingContext, Depends(get_routing)]


async def _answer(routing: RoutingContext, call: Any, *args: Any) -> Assignment:
    try:
        routed: Routed = await run_in_threadpool(
            call, routing.store, routing.fit_models, routing.policy, *args
        )
    except AlreadyAssignedError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except NoEligibleRepError as error:
        detail = {
            "message": f"no rep can take it: {error}",
            "ineligible": [i.__dict__ for i in error.decision.ineligible],
        }
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from error
    routing.metrics.routed(routed.assignment.kind, routed.decision.policy, routed.decision.explored)
    return Assignment.of(routed)


@router.post(
    "/v1/leads/route", summary="Choose the closer for a qualified lead (reserves capacity)"
)
async def route(
    lead: Annotated[Lead, Body()],
    routing: RoutingDep,
    history: HistoryDep,
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
    return await _answer(routing, route_lead, lead, deal_value)


@router.post(
    "/v1/customers/assign",
    summary="Choose the account manager for a won customer (reserves room in the book)",
)
async def assign(customer: Annotated[CustomerToAssign, Body()], routing: RoutingDep) -> Assignment:
    """The body has the customers table's columns; `account_manager_id` is ignored."""
    return await _answer(routing, assign_customer, customer)
