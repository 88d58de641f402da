"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

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
async def readyz(store: ModelStoreDep, rule_score: RuleScoreDep, response: Response) -> Readiness:
    body = Readiness.of(store.current, rule_score)
    if body.status != "ready":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return body
