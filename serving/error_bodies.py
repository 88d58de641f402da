"""Error bodies: short, JSON, and never an echo of what the client sent in full.

FastAPI's own 422 repeats each bad value whole: a 20 MB field came back as a
20 MB error, and an infinite number made the error itself unserialisable (a
500). Here a value is echoed as a short prefix, enough to recognise it.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from data.store.errors import database_away

logger = logging.getLogger(__name__)

ECHO_CHARS = 80
"""At most this much of a bad value is repeated in an error."""


def short_echo(value: Any) -> Any:
    """`value` as an error may repeat it: scalars as they are (text cut to `ECHO_CHARS`,
    non-finite numbers as text), containers as their kind and size."""
    if isinstance(value, str):
        return (
            value
            if len(value) <= ECHO_CHARS
            else f"{value[:ECHO_CHARS]}... ({len(value):,} characters)"
        )
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return f"an object of {len(value):,} fields"
    if isinstance(value, list | tuple):
        return f"a list of {len(value):,} items"
    return short_echo(str(value))


def _error(error: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "type": error.get("type", "value_error"),
        "loc": [part if isinstance(part, int) else short_echo(part) for part in error["loc"]],
        "msg": str(error.get("msg", "")).removeprefix("Value error, "),
    }
    if "input" in error:
        shown["input"] = short_echo(error["input"])
    context = error.get("ctx")
    if isinstance(context, dict):
        shown["ctx"] = {key: short_echo(value) for key, value in context.items()}
    return shown


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with every problem named by its location, values echoed short."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": [_error(dict(error)) for error in exc.errors()]},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


RETRY_AFTER_SECONDS = 5


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database error as an answer, never a dropped connection: 503 with Retry-After
    when the database is away (restarting, unreachable, pool full), 409 when a record
    stored meanwhile conflicts, else a JSON 500 that says no more than that."""
    if isinstance(exc, IntegrityError):
        return JSONResponse(
            {
                "detail": "this conflicts with a record stored meanwhile (another request for "
                "the same id?); read it back, or send again"
            },
            status_code=status.HTTP_409_CONFLICT,
        )
    if not database_away(exc):
        logger.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"detail": "internal error while storing or reading; it is logged"},
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {
            "detail": "the database is unavailable (restarting or unreachable); nothing of "
            "this request was stored, try again shortly",
            "cause": "database",
        },
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def conflict(request: Request, exc: Exception) -> JSONResponse:
    """409 for a store conflict no route caught (two requests racing for one record)."""
    field = getattr(exc, "field", None)
    return JSONResponse(
        {"detail": str(exc), **({"field": field} if field else {})},
        status_code=status.HTTP_409_CONFLICT,
    )
