"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from data.store import Store
from data.store.errors import database_away
from serving.deps import ModelStoreDep, RuleScoreDep
from serving.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    summary="Every channel has a model loaded (or the rule score stands in)",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness}},
)
async def readyz(
    store: ModelStoreDep, rule_score: RuleScoreDep, request: Request, response: Response
) -> Readiness:
    body = Readiness.of(store.current, rule_score, await _database_problem(request))
    if body.status != "ready":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return body


async def _database_problem(request: Request) -> str | None:
    """None if there is no database or it answers; else what is wrong, in a few words."""
    database: Store | None = request.app.state.store
    if database is None:
        return None
    try:
        await run_in_threadpool(database.ping)
    except Exception as error:
        if not database_away(error):
            raise
        return "the database does not answer"
    return None
