"""Scoring leads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from data.store import ScoreRecord
from serving import insights
from serving.auth import READ, SCORE
from serving.deps import HistoryDep, StoreDep, current_models, get_lead_batch
from serving.direct_route import DirectRoute
from serving.history_writer import ScoreHistory
from serving.insights.responses import Timeline
from serving.journal import JournalError
from serving.online_scoring import CustomFieldError, ModelUnavailableError, score_leads
from serving.openapi import LEADS_BODY
from serving.prometheus import Metrics
from serving.schemas import LeadScore

router = APIRouter(prefix="/v1/leads", tags=["leads"])
scoring_router = APIRouter(prefix="/v1/leads", tags=["leads"], route_class=DirectRoute)
"""The scoring route, on the hot path: see `serving.direct_route`."""

INLINE_WORK = 32
"""Requests up to this much work (leads, x4 with reasons) are scored on the event loop.

One lead takes a fraction of a millisecond (with reasons about 0.3 ms), so
a hop to the thread pool would cost more than it saves; bigger requests go
to the pool so they never hold the loop (health checks, other clients) for
more than a couple of milliseconds.
"""

_ONE = TypeAdapter(LeadScore)
_MANY = TypeAdapter(list[LeadScore])


@scoring_router.post(
    "/score",
    dependencies=[SCORE],
    summary="Score one lead or a list of leads",
    response_model=LeadScore | list[LeadScore],
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "description": "A channel has no model (and the rule score is off)."
        }
    },
    openapi_extra=LEADS_BODY,
)
async def score(
    request: Request,
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
    state = request.app.state
    batch = await get_lead_batch(request)
    models = current_models(state.model_store)
    metrics: Metrics = state.metrics
    history: ScoreHistory | None = state.history
    try:
        if len(batch.leads) * (4 if reasons else 1) <= INLINE_WORK:
            scores = score_leads(models, batch.leads, reasons, state.rule_score)
        else:
            scores = await run_in_threadpool(
                score_leads, models, batch.leads, reasons, state.rule_score
            )
    except ModelUnavailableError as exc:
        metrics.scoring_error("model_unavailable")
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except CustomFieldError as exc:
        metrics.scoring_error("custom_field")
        where = () if batch.single else (exc.row,)
        loc = ("body", *where, "custom_fields", exc.name)
        raise RequestValidationError(
            [{"type": "custom_field", "loc": loc, "msg": str(exc)}]
        ) from exc
    metrics.scored(scores)
    if history is not None:
        try:
            history.add(batch.leads, scores)
        except JournalError as exc:  # a score we cannot promise to record is not served
            metrics.scoring_error("history_unavailable")
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"the score could not be recorded ({exc.strerror or exc}); try again",
                headers={"Retry-After": "5"},
            ) from exc
    # Built by our own code from typed values: serialise directly, no second validation.
    body = _ONE.dump_json(scores[0]) if batch.single else _MANY.dump_json(scores)
    return Response(body, media_type="application/json")


@router.get(
    "/{lead_id}/scores",
    dependencies=[SCORE],
    summary="Score history of a lead, newest first",
    response_model=list[ScoreRecord],
    responses={status.HTTP_404_NOT_FOUND: {"description": "The lead was never scored."}},
)
async def score_history(
    lead_id: Annotated[str, Path(min_length=1, max_length=128)],
    store: StoreDep,
    history: HistoryDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ScoreRecord]:
    if history is not None:
        await run_in_threadpool(history.flush)  # read your own writes
    rows = await run_in_threadpool(store.score_history, lead_id, limit)
    if not rows and await run_in_threadpool(store.get_lead, lead_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"lead_id '{lead_id}' was never scored")
    return rows


@router.get(
    "/{lead_id}/timeline",
    dependencies=[READ],
    summary="The lead's lifecycle in order, with its hand-offs",
    response_model=Timeline,
    responses={status.HTTP_404_NOT_FOUND: {"description": "The lead is unknown."}},
)
async def timeline(
    lead_id: Annotated[str, Path(min_length=1, max_length=128)],
    store: StoreDep,
    history: HistoryDep,
) -> Timeline:
    """created, scored, contacted, qualified, routed, won or lost, handed_over, renewed or
    churned; each hand-off names both reps and the time between them."""
    if history is not None:
        await run_in_threadpool(history.flush)
    found = await run_in_threadpool(insights.lead_timeline, store, lead_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"lead '{lead_id}' not found")
    return found
