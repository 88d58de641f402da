"""OpenAPI pieces FastAPI cannot derive: the lead request body, read by `deps.get_lead_batch`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter

from data.contract import Lead

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
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
