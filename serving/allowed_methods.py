"""A 405 that lists every method the path allows.

The router answers a wrong method with the methods of the first route whose
path matched: `DELETE /v1/reps/R1` said `Allow: GET`, though `PUT` works too.
HTTP asks for all of them; they are read here from the documented routes
(the OpenAPI paths), whose templates are matched against the request's path.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _templates(app: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "allowed_methods", None
    )
    if table is None:
        table = [
            (compile_path(path)[0], frozenset(method.upper() for method in operations))
            for path, operations in app.openapi().get("paths", {}).items()
        ]
        app.state.allowed_methods = table
    return table


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method a documented route takes on `path`, in the usual order."""
    found: set[str] = set()
    for pattern, methods in _templates(app):
        if pattern.match(path):
            found |= methods
    return [method for method in ORDER if method in found] + sorted(found - set(ORDER))


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 naming the method and every one the path allows (`Allow`, and in words)."""
    assert isinstance(exc, HTTPException)
    path, root = request.url.path, request.scope.get("root_path", "")
    if root and path.startswith(root):  # the routes' templates do not include it
        path = path[len(root) :]
    allowed = allowed_methods(request.app, path)
    if not allowed:  # not a documented path: the router's own answer
        header = (exc.headers or {}).get("Allow", "")
        allowed = [method.strip() for method in header.split(",") if method.strip()]
    return JSONResponse(
        {
            "detail": f"{request.method} is not allowed on {path}; "
            f"it takes {', '.join(allowed) or 'no method'}"
        },
        status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
        headers={"Allow": ", ".join(allowed)},
    )
