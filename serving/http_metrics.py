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


class RequestMetrics:
    """The request counter and duration histogram, with their labelled children cached
    per method, route and status."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._children: dict[tuple[str, int, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: object, status: int, elapsed: float) -> None:
        """One answered request; `route` is the route object the router matched, or None."""
        if method not in METHODS:
            method = "OTHER"
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


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

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
            # The router leaves the route it matched in the scope (same dict, updated in place).
            self.metrics.observe(
                scope["method"], scope.get("route"), status, perf_counter() - started
            )
