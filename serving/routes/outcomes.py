"""Outcome events from the CRM: what the next models learn from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Response, status
from starlette.concurrency import run_in_threadpool

from data.store import ConflictError, ContradictionError, NotFoundError, OutcomeIn, OutcomeResult
from serving.auth import OUTCOMES
from serving.deps import HistoryDep, MetricsDep, StoreDep

router = APIRouter(prefix="/v1/outcomes", tags=["outcomes"], dependencies=[OUTCOMES])


@router.post(
    "",
    summary="Report an outcome (idempotent by event_id)",
    response_model=OutcomeResult,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "The same event was already stored; answered as the first time."},
        404: {"description": "The lead or customer is unknown."},
        409: {"description": "The event_id was used for a different event."},
        422: {
            "description": "Invalid, names a rep_id the roster does not know, or "
            "contradicts an earlier outcome (won after lost)."
        },
    },
)
async def post_outcome(
    store: StoreDep,
    history: HistoryDep,
    metrics: MetricsDep,
    event: Annotated[OutcomeIn, Body()],
    response: Response,
) -> OutcomeResult:
    """contacted / qualified / won / lost for leads, renewed / churned for customers.

    Won or lost releases the closer's capacity; churned the account manager's.
    `rep_id` (optional) must be in the roster: an unknown one is a 422 naming
    ["body", "rep_id"], since the event itself is about a known lead or customer
    (a 404 is kept for those).
    """
    if history is not None:
        # A lead scored a moment ago must be known here, though its score is written async.
        await run_in_threadpool(history.flush)
    try:
        result = await run_in_threadpool(store.record_outcome, event)
    except NotFoundError as error:
        if error.field == "rep_id":
            detail = [{"type": "value_error", "loc": ["body", "rep_id"], "msg": str(error)}]
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from error
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    except ConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except ContradictionError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    metrics.outcome(event.type, result.duplicate)
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return result
