"""OpenAPI pieces FastAPI cannot derive: the lead request body (read by
`deps.get_lead_batch`), the key schemes and scopes, and the error answers every
route may give (the request guard's 413 and 415, the database's 503, 409)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from data.contract import Lead
from serving.auth import scope_of

_REF = "#/components/schemas/{model}"

LEADS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One lead (answered with one score) or a list of leads (answered "
        "with a list in the same order). A row of leads.parquet can be posted as it is.",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": _REF.format(model="Lead")},
                        {
                            "type": "array",
                            "items": {"$ref": _REF.format(model="Lead")},
                            "minItems": 1,
                        },
                    ]
                }
            }
        },
    }
}
"""`openapi_extra` of the scoring route."""


def add_lead_schemas(app: FastAPI) -> None:
    """Make `app.openapi()` also list `Lead` and the enums it uses under components."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = default()  # FastAPI caches it in app.openapi_schema; extended in place
        lead = TypeAdapter(Lead).json_schema(ref_template=_REF)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(lead.pop("$defs", {}))
        components["Lead"] = lead
        components["Error"] = ERROR_SCHEMA
        schema["components"]["securitySchemes"] = SECURITY_SCHEMES
        _document_routes(app, schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


SECURITY_SCHEMES: dict[str, Any] = {
    "bearerKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer <key>`",
    },
    "headerKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The same API key in its own header.",
    },
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {"description": "What is wrong, in words, or a list of field errors."},
        "cause": {"type": "string", "description": "database, when the database is away."},
    },
    "required": ["detail"],
}
_ERROR = {"content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}}}
COMMON_ERRORS: dict[str, str] = {
    "409": "Conflicts with a record stored meanwhile (another request for the same id).",
    "413": "The body is over the size limit (LEADSCORE_API__MAX_BODY_BYTES).",
    "415": "The body is not JSON.",
    "503": "The database is away (Retry-After says when to try again), or no model is loaded.",
}
SECURED_ERRORS: dict[str, str] = {
    "401": "No API key, or an unknown or revoked one.",
    "403": "The key lacks the route's scope.",
}


def _api_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every API route with its full path: FastAPI 0.165 keeps included routers as
    groups (`effective_route_contexts`), earlier versions flatten them into `APIRoute`s."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()


def _scope_of(route: Any) -> str | None:
    for dependency in route.dependant.dependencies:
        if dependency.call is not None and (scope := scope_of(dependency.call)) is not None:
            return scope
    return None


def _document_routes(app: FastAPI, schema: dict[str, Any]) -> None:
    """Each API operation: its key schemes and scope, and the errors it may answer."""
    for route in _api_routes(app.routes):
        if not route.path.startswith("/v1/"):
            continue
        scope = _scope_of(route)
        for method in route.methods or ():
            operation = schema["paths"].get(route.path, {}).get(method.lower())
            if operation is None:
                continue
            errors = dict(COMMON_ERRORS)
            if scope is not None:
                operation["security"] = [{"bearerKey": []}, {"headerKey": []}]
                operation["description"] = (
                    f"{operation.get('description', '')}\n\nNeeds an API key with scope "
                    f"`{scope}` (or `admin`)."
                ).strip()
                errors |= SECURED_ERRORS
            responses = operation.setdefault("responses", {})
            for code, text in errors.items():
                responses.setdefault(code, {"description": text, **_ERROR})
