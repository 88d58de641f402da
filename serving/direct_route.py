"""A route for the hot path: FastAPI's documentation, none of its per-request machinery.

FastAPI solves an endpoint's dependencies on every request; on the scoring
route that bookkeeping cost more than the model. A `DirectRoute` endpoint is
`async def endpoint(request, **query)`: the route checks the API key scope its
`require` dependency names, validates the declared query parameters with
FastAPI's own validator (so a bad one gets the usual 422, naming it), and
calls the endpoint, which reads everything else from the request and app
state. The OpenAPI document is FastAPI's, from the same declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from serving.auth import authorize, scope_of


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
        query = dependant.query_params
        endpoint = self.endpoint
        request_name = dependant.request_param_name or "request"

        async def handler(request: Request) -> Response:
            if scope is not None:
                await authorize(request, scope)
            values, errors = request_params_to_args(query, request.query_params)
            if errors:
                raise RequestValidationError(errors)
            response: Response = await endpoint(**{request_name: request}, **values)
            return response

        return handler
