"""Counting and timing every HTTP request, as a pure ASGI middleware.

Not `BaseHTTPMiddleware`: that one wraps each request in a task and a
stream, which costs more than scoring a lead. The route label is the
template the router matched (`/v1/leads/{lead_id}/timeline`), never the raw
path, whose values are unbounded; it is read from the route object the
router leaves in the scope, once per route, method and status.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.prometheus import Metrics

UNMATCHED = "unmatched"
"""The route label of a request no route matched (a 404, or a redirect to add a slash)."""

METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
"""Any other method is counted as OTHER: clients choose it, so its values are unbounded."""


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._children: dict[tuple[str, int, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500  # what ServerErrorMiddleware answers if the app raises before responding

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = perf_counter() - started
            method = scope["method"]
            if method not in METHODS:
                method = "OTHER"
            # The router leaves the route it matched in the scope (same dict, updated in place).
            route = scope.get("route")
            key = (method, id(route), status)
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = self._labelled(method, route, status)
            children[0].inc()
            children[1].observe(elapsed)

    def _labelled(self, method: str, route: object, status: int) -> tuple[Any, Any]:
        template = getattr(route, "path_format", None) or UNMATCHED
        return (
            self.metrics.requests.labels(method, template, str(status)),
            self.metrics.duration.labels(template),
        )
