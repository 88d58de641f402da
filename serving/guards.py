"""Checks every request passes before any route reads it: size, content type, and
NUL characters in the path or the query.

An ASGI middleware rather than route code, so a 46 MB body is refused (413)
before it is parsed, and no route can forget a check (the hot path calls the
same `screen`). Bodies without a length (chunked) are read up to the limit,
then replayed to the app.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.error_bodies import short_echo

WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
JSON_ROUTES = "/v1/"
"""Routes under here read JSON bodies only."""


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class RequestGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        checked = await screen(scope, receive, send, self.max_body_bytes)
        if checked is not None:
            await self.app(scope, checked, send)


async def screen(scope: Scope, receive: Receive, send: Send, max_body_bytes: int) -> Receive | None:
    """The checks on one HTTP request: None once a refusal is sent, else the `receive` the
    app reads the body from (the client's, or a replay of a chunked body read here)."""
    if (problem := _nul_problem(scope)) is not None:
        await _reply(send, 422, {"detail": [problem]})
        return None
    if scope["method"] not in WITH_BODY:
        return receive
    length_text, transfer, content_type = first_headers(
        scope, (b"content-length", b"transfer-encoding", b"content-type")
    )
    chunked = "chunked" in (transfer or "").lower()
    try:
        length = int(length_text) if length_text is not None else None
    except ValueError:
        await _reply(
            send, 400, {"detail": f"Content-Length {short_echo(length_text)!r} is not a number"}
        )
        return None
    if length is not None and length > max_body_bytes:
        await _reply(send, 413, _too_large(length, max_body_bytes), close=True)
        return None
    has_body = bool(length) or chunked
    path: str = scope["path"]
    if has_body and path.startswith(JSON_ROUTES) and not _is_json(content_type):
        shown = short_echo(content_type or "none")
        await _reply(
            send,
            415,
            {"detail": f"the body must be JSON (Content-Type: application/json), not {shown}"},
            close=True,
        )
        return None
    if length is None and chunked:
        body = await _read_capped(receive, max_body_bytes)
        if body is None:
            await _reply(send, 413, _too_large(None, max_body_bytes), close=True)
            return None
        return _replay(body, receive)
    return receive


def first_headers(scope: Scope, names: tuple[bytes, ...]) -> list[str | None]:
    """The first value of each of `names` (lower-case, as ASGI gives them), as
    Starlette's `Headers.get` reads it, in one pass over the raw headers."""
    found: list[str | None] = [None] * len(names)
    for name, value in scope["headers"]:
        if name in names:
            at = names.index(name)
            if found[at] is None:
                found[at] = value.decode("latin-1")
    return found


def _too_large(length: int | None, limit: int) -> dict[str, Any]:
    size = f"{length:,} bytes" if length is not None else "more"
    return {
        "detail": f"the request body is too large: {size}, at most {limit:,} bytes "
        "(setting LEADSCORE_API__MAX_BODY_BYTES); split it"
    }


def _nul_problem(scope: Scope) -> dict[str, Any] | None:
    if "\x00" in scope["path"]:
        return {
            "type": "value_error",
            "loc": ["path"],
            "msg": "must not contain NUL characters (\\u0000)",
            "input": short_echo(scope["path"]),
        }
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in key or "\x00" in value:
                return {
                    "type": "value_error",
                    "loc": ["query", short_echo(key)],
                    "msg": "must not contain NUL characters (\\u0000)",
                    "input": short_echo(value),
                }
    return None


async def _read_capped(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, then: Receive) -> Receive:
    """The body already read, then the client's own messages (a disconnect, say)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _reply(send: Send, status: int, body: dict[str, Any], *, close: bool = False) -> None:
    """A JSON answer; `close` when the unread body makes the connection unusable."""
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
