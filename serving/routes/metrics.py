"""Prometheus metrics for the operator's scraper."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from serving.auth import READ
from serving.deps import MetricsDep
from serving.prometheus import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (text format 0.0.4), of every worker",
    dependencies=[READ],
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "The exposition page."}},
)
async def prometheus_metrics(metrics: MetricsDep) -> Response:
    # Reading every worker's files (multiprocess mode) is file I/O: off the event loop.
    body = await run_in_threadpool(metrics.render)
    return Response(body, media_type=CONTENT_TYPE)
