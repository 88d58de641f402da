"""A route for the hot path: FastAPI's documentation, none of its per-request machinery.

FastAPI solves an endpoint's dependencies on every request; on the scoring
route that bookkeeping cost more than the model. A `DirectRoute` endpoint is
`async def endpoint(request, **query)`: the route checks the API key scope its
`require` dependency names, validates the declared query parameters with
FastAPI's own validator (so a bad one gets the usual 422, naming it), and
calls the endpoint, which reads everything else from the request and app
state. The OpenAPI document is FastAPI's, from the same declaration.

Query parameters are checked by `QueryParameter`: the declared type and
constraints as one pydantic adapter, with FastAPI's error shape (loc
["query", name]); a repeated parameter's last value counts, as in FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from serving.auth import authorize, scope_of

QUERIES_KEPT = 256
"""Distinct query strings a route remembers the reading of (then it starts afresh)."""


class DirectRoute(APIRoute):
    """An `APIRoute` whose endpoint gets the request and its validated query parameters."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        dependant = self.dependant
        scopes = [scope_of(d.call) for d in dependant.dependencies if d.call is not None]
        if None in scopes or len(scopes) > 1 or dependant.body_params or dependant.header_params:
            raise TypeError(
                f"{self.path}: a direct route takes one `require` scope, query parameters and "
                "the request; it reads its body itself"
            )
        scope = scopes[0] if scopes else None
        query = [QueryParameter(field) for field in dependant.query_params]
        endpoint = self.endpoint
        request_name = dependant.request_param_name or "request"

        # Clients send the same few query strings again and again: each is read once.
        read: dict[bytes, tuple[dict[str, Any], list[dict[str, Any]]]] = {}

        def parameters(query_string: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            values: dict[str, Any] = {}
            errors: list[dict[str, Any]] = []
            given = QueryParams(query_string) if query_string else None
            for parameter in query:
                parameter.read(given, values, errors)
            if len(read) >= QUERIES_KEPT:
                read.clear()
            read[query_string] = values, errors
            return values, errors

        async def handler(request: Request) -> Response:
            if scope is not None:
                await authorize(request, scope)
            query_string: bytes = request.scope["query_string"]
            values, errors = read.get(query_string) or parameters(query_string)
            if errors:
                raise RequestValidationError(errors)
            response: Response = await endpoint(**{request_name: request}, **values)
            return response

        return handler

    def plain_app(self) -> ASGIApp:
        """The route as a bare ASGI app: the handler and its response, nothing around them
        (no exit stacks, no exception wrapper: the caller maps exceptions to answers)."""
        handler = self.get_route_handler()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(Request(scope, receive, send))
            await response(scope, receive, send)

        return app


class QueryParameter:
    """One declared query parameter: its name, default and validator."""

    def __init__(self, field: Any) -> None:
        info = field.field_info
        self.name: str = field.name
        self.alias: str = field.alias
        self.required = info.default is PydanticUndefined and info.default_factory is None
        self.default = None if self.required else info.get_default(call_default_factory=True)
        annotated: Any = Annotated[info.annotation, info]  # the type with its constraints
        self._adapter: TypeAdapter[Any] = TypeAdapter(annotated)

    def read(
        self, given: QueryParams | None, values: dict[str, Any], errors: list[dict[str, Any]]
    ) -> None:
        """Put the parameter's value in `values`, or its errors in `errors`."""
        found = given.getlist(self.alias) if given is not None else []
        if not found:
            if self.required:
                errors.append(
                    {
                        "type": "missing",
                        "loc": ("query", self.alias),
                        "msg": "Field required",
                        "input": None,
                    }
                )
            else:
                values[self.name] = self.default
            return
        try:
            values[self.name] = self._adapter.validate_python(found[-1])
        except ValidationError as error:
            errors.extend(
                {**e, "loc": ("query", self.alias, *e["loc"])}
                for e in error.errors(include_url=False)
            )
