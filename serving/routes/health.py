"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from serving.deps import ModelStoreDep
from serving.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    summary="Every channel has a model loaded",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness}},
)
async def readyz(store: ModelStoreDep, response: Response) -> Readiness:
    body = Readiness.of(store.current)
    if body.status != "ready":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return body
