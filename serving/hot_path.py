"""The scoring route without the generic middleware stack: the same checks and answers,
a fraction of the work.

Under load, FastAPI's stack (telemetry and body-limit layers, exit stacks,
the router, two exception wrappers, one `send` wrapper per layer) cost more
per request than the route's own work. A `HotPathAPI` answers its hot routes
with one flat call that does, for them, what the stack does: the request
guard (`serving.guards.screen`), the request metrics, the app's exception
handlers, and a plain 500 for anything unhandled, re-raised for the server's
log. Every other request, and a hot route under a `root_path`, takes the
full stack. The tests send the same requests both ways and compare the
answers byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from inspect import isawaitable
from time import perf_counter
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope, Send

from serving.direct_route import DirectRoute
from serving.guards import RequestGuard, screen
from serving.http_metrics import MetricsMiddleware, RequestMetrics


class HotPathAPI(FastAPI):
    """A FastAPI app that answers its hot routes directly (see the module)."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._hot: dict[tuple[str, str], HotRoute] = {}

    def serve_directly(
        self, route: BaseRoute, metrics: RequestMetrics, max_body_bytes: int
    ) -> None:
        """Answer `route` without the stack; it must be included as declared (no prefix or
        dependencies added by `include_router`), since its own path is what is matched."""
        if not isinstance(route, DirectRoute):
            raise TypeError(f"{route}: only a DirectRoute can be served directly")
        for middleware in self.user_middleware:
            _check_handled(middleware.cls)
        for method in route.methods or ():
            self._hot[(method, route.path)] = HotRoute(self, route, metrics, max_body_bytes)

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "_hot", None):  # none yet while FastAPI sets itself up
            _check_handled(middleware_class)
        super().add_middleware(middleware_class, *args, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot_path = self._hot and not self.debug  # debug pages come from the stack
        if hot_path and scope["type"] == "http" and not scope.get("root_path"):
            hot = self._hot.get((scope["method"], scope["path"]))
            if hot is not None:
                scope["app"] = self
                await hot(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class HotRoute:
    """One route's flat path: guard, route, exception handlers, metrics."""

    def __init__(
        self, app: FastAPI, route: DirectRoute, metrics: RequestMetrics, max_body_bytes: int
    ) -> None:
        self._app = app
        self._route = route
        self._plain = route.plain_app()
        self._metrics = metrics
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = perf_counter()
        status = 500
        responded = False
        matched: DirectRoute | None = None  # as in the stack, the guard answers before routing

        async def sent(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
            await send(message)

        try:
            checked = await screen(scope, receive, sent, self._max_body_bytes)
            if checked is None:
                return
            matched = self._route
            try:
                await self._plain(scope, checked, sent)
            except Exception as exc:
                handler = _handler_for(self._app.exception_handlers, exc)
                if handler is None:
                    raise
                if responded:
                    raise RuntimeError("a handled exception after the response started") from exc
                response = handler(Request(scope, checked), exc)
                if isawaitable(response):
                    response = await response
                await response(scope, checked, sent)
                exc.__traceback__ = None  # a reused exception would pile up tracebacks
        except Exception:
            if not responded:  # ServerErrorMiddleware's answer; counted as the stack counts it
                await PlainTextResponse("Internal Server Error", status_code=500)(
                    scope, receive, send
                )
            raise
        finally:
            self._metrics.observe(scope["method"], matched, status, perf_counter() - started)


HANDLED = (MetricsMiddleware, RequestGuard)
"""The middlewares a hot route does itself; any other would be skipped, so it is refused."""


def _check_handled(middleware: Any) -> None:
    if middleware not in HANDLED:
        raise TypeError(
            f"{middleware}: a hot route would skip this middleware; serve it through the stack "
            "or teach `serving.hot_path` what it does"
        )


def _handler_for(handlers: Mapping[Any, Any], exc: Exception) -> Any:
    """The app's handler for `exc`, found as Starlette finds it: by status code for an
    HTTP exception, then by class along the exception's MRO. 500 and `Exception` belong
    to the server-error layer, as in the stack."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None
