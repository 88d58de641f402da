"""Reading a request's leads: the one-pass read of a single lead takes exactly what the
two-step read (parse, then validate) takes, and refuses exactly what it refuses."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json
from starlette.requests import Request

from data.contract import Lead
from serving.deps import LeadBatch, get_lead_batch

LEAD: dict[str, Any] = {
    "lead_id": "L0001",
    "channel": "inbound",
    "source": "webinar",
    "created_at": "2026-10-26T11:50:55",
    "company_name": "Blueline GmbH",
    "company_industry": "software",
    "company_size": 328,
    "company_revenue": 49311000.0,
    "company_region": "north_america",
    "contact_title": "Sales Manager",
    "contact_seniority": "manager",
    "web_visits": 1,
    "time_on_site_sec": 168.6,
    "webinar_attended": False,
    "demo_requested": True,
}


def _with(text: str) -> bytes:
    """The lead with `text` (JSON members) added at its end."""
    return (json.dumps(LEAD)[:-1] + ", " + text + "}").encode()


BODIES = {
    "plain": json.dumps(LEAD).encode(),
    "spaced": json.dumps(LEAD, indent=2).encode() + b"\n",
    "integral float": _with('"pages_viewed": 3.0'),
    "fractional float for an int": _with('"pages_viewed": 3.5'),
    "numeric text": _with('"form_fills": "12"'),
    "flag as text": _with('"webinar_attended": "true"'),
    "flag as number": _with('"webinar_attended": 1'),
    "time with a zone": _with('"created_at": "2026-10-26T11:50:55+02:00"'),
    "time as a number": _with('"created_at": 1767225600'),
    "year 9999": _with('"created_at": "9999-12-31T23:59:59"'),
    "year 10000": _with('"created_at": "10000-01-01T00:00:00"'),
    "escapes": _with('"company_name": "Caf\\u00e9 \\"Zur\\" \\u2028 \\\\ \\ud83d\\ude00"'),
    "lone surrogate": _with('"company_name": "\\ud800"'),
    "NUL": _with('"company_name": "a\\u0000b"'),
    "repeated member": _with('"lead_id": "L0002"'),
    "NaN": _with('"time_on_site_sec": NaN'),
    "Infinity": _with('"company_revenue": Infinity'),
    "-Infinity in custom fields": _with('"custom_fields": {"x": -Infinity}'),
    "NaN in custom fields": _with('"custom_fields": {"x": NaN}'),
    "1e400": _with('"company_revenue": 1e400'),
    "1e400 in custom fields": _with('"custom_fields": {"x": 1e400}'),
    "huge integer": _with('"company_size": 1' + "0" * 400),
    "custom fields": _with('"custom_fields": {"plan": "pro", "seats": 12, "trial": true}'),
    "nested custom field": _with('"custom_fields": {"x": {"y": [1, 2]}}'),
    "unknown member": _with('"favourite_colour": "blue"'),
    "unknown channel": _with('"channel": "carrier_pigeon"'),
    "negative size": _with('"company_size": -1'),
    "null id": _with('"lead_id": null'),
    "empty object": b"{}",
    "trailing text": json.dumps(LEAD).encode() + b" x",
    "two objects": json.dumps(LEAD).encode() * 2,
    "cut short": json.dumps(LEAD).encode()[:-5],
    "byte order mark": b"\xef\xbb\xbf" + json.dumps(LEAD).encode(),
    "invalid UTF-8": _with('"company_name": "\xff"').replace(b"\xc3\xbf", b"\xff"),
}

_LEAD = TypeAdapter(Lead)


def _comparable(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors with the exception in a context as its text (two raises are never equal)."""
    return [
        {**e, "ctx": {k: str(v) for k, v in e["ctx"].items()}} if "ctx" in e else e for e in errors
    ]


def _two_step(raw: bytes) -> Lead | list[dict[str, Any]]:
    """The lead, or the errors, the way a single lead was always read."""
    try:
        return _LEAD.validate_python(from_json(raw, allow_inf_nan=False))
    except ValidationError as error:
        return [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
    except ValueError as error:
        return [
            {
                "type": "json_invalid",
                "loc": ("body",),
                "msg": f"the body is not valid JSON: {error}",
            }
        ]


def _read(raw: bytes) -> LeadBatch | list[dict[str, Any]]:
    app = SimpleNamespace(state=SimpleNamespace(config=SimpleNamespace(max_batch=10)))

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": [], "app": app}, receive)
    try:
        return asyncio.run(get_lead_batch(request))
    except RequestValidationError as error:
        return list(error.errors())


@pytest.mark.parametrize("raw", BODIES.values(), ids=BODIES.keys())
def test_a_single_lead_is_read_as_the_two_step_read_reads_it(raw: bytes) -> None:
    expected = _two_step(raw)
    read = _read(raw)

    if isinstance(expected, Lead):
        assert isinstance(read, LeadBatch) and read.single
        (lead,) = read.leads
        assert lead == expected
        assert lead.model_dump_json() == expected.model_dump_json()
    else:
        assert not isinstance(read, LeadBatch), read
        assert _comparable(read) == _comparable(expected)


def test_the_bodies_cover_both_answers() -> None:
    """The cases above hold leads taken and leads refused, NaN among the refused."""
    outcomes = {name: isinstance(_two_step(raw), Lead) for name, raw in BODIES.items()}
    assert outcomes["plain"] and outcomes["escapes"] and outcomes["repeated member"]
    assert not outcomes["NaN"] and not outcomes["NaN in custom fields"]
    assert not outcomes["1e400"] and not outcomes["trailing text"]
