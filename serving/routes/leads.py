"""Scoring leads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from serving.deps import LeadBatchDep, ModelsDep
from serving.openapi import LEADS_BODY
from serving.schemas import LeadScore
from serving.scoring import ModelUnavailableError, score_leads

router = APIRouter(prefix="/v1/leads", tags=["leads"])

INLINE_WORK = 32
"""Requests up to this much work (leads, x4 with reasons) are scored on the event loop.

One lead takes a fraction of a millisecond (with reasons about 0.3 ms), so
a hop to the thread pool would cost more than it saves; bigger requests go
to the pool so they never hold the loop (health checks, other clients) for
more than a couple of milliseconds.
"""

_ONE = TypeAdapter(LeadScore)
_MANY = TypeAdapter(list[LeadScore])


@router.post(
    "/score",
    summary="Score one lead or a list of leads",
    response_model=LeadScore | list[LeadScore],
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"description": "A channel has no model."}},
    openapi_extra=LEADS_BODY,
)
async def score(
    batch: LeadBatchDep,
    models: ModelsDep,
    reasons: Annotated[
        int,
        Query(
            ge=0,
            le=20,
            description="How many fields up and how many down to explain per lead; "
            "0 skips the reasons (faster).",
        ),
    ] = 3,
) -> Response:
    """One lead in, one score out; a list in, a list out in the same order."""
    try:
        if len(batch.leads) * (4 if reasons else 1) <= INLINE_WORK:
            scores = score_leads(models, batch.leads, reasons)
        else:
            scores = await run_in_threadpool(score_leads, models, batch.leads, reasons)
    except ModelUnavailableError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    # Built by our own code from typed values: serialise directly, no second validation.
    body = _ONE.dump_json(scores[0]) if batch.single else _MANY.dump_json(scores)
    return Response(body, media_type="application/json")
