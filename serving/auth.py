"""API keys with scopes: who may call what.

Every route but health, the docs and the dashboard page needs a key
(`Authorization: Bearer <key>` or `X-API-Key: <key>`) holding the route's
scope; `admin` holds them all. Keys live hashed in the store
(`leadscore keys create`); a verified key is cached for `CACHE_SECONDS`, so a
request costs a dict lookup, and a revoked key stops working within that time.
While the database is away, keys seen in the last `OUTAGE_SECONDS` keep working.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Depends, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from data.store import Store
from data.store.errors import database_away
from data.store.keys import ApiKeyRecord
from serving.guards import first_headers

CACHE_SECONDS = 5.0
OUTAGE_SECONDS = 300.0
"""While the database is away, a key verified this recently keeps working."""
MAX_CACHED = 10_000
"""Tokens remembered at most (unknown ones too, so guessing costs no database round trip)."""

SCOPE_HELP = {
    "score": "score leads and read their score history",
    "route": "route leads to closers and assign customers to account managers",
    "outcomes": "report CRM events (contacted, qualified, won, lost, renewed, churned)",
    "read": "read models, the roster, lead timelines, the insights (the dashboard) and /metrics",
    "admin": "everything, including changing the roster and reloading models",
}


class KeyRing:
    """The store's active keys as the API sees them, cached per token."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._cache: dict[str, tuple[ApiKeyRecord | None, float]] = {}

    def cached(self, token: str) -> tuple[bool, ApiKeyRecord | None]:
        """(fresh, key) from the cache; not fresh means ask the store."""
        entry = self._cache.get(token)
        if entry is None or self._clock() - entry[1] >= CACHE_SECONDS:
            return False, None
        return True, entry[0]

    def verify(self, token: str) -> ApiKeyRecord | None:
        """Ask the store (blocking) and remember the answer. While the database is away, a
        key verified in the last `OUTAGE_SECONDS` keeps its last answer (scoring goes on);
        others get the database error (a 503)."""
        try:
            record = self._store.verify_api_key(token)
        except Exception as error:
            entry = self._cache.get(token)
            recent = entry is not None and self._clock() - entry[1] < OUTAGE_SECONDS
            if database_away(error) and entry is not None and recent:
                return entry[0]
            raise
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[token] = (record, self._clock())
        return record


_KEY_HEADERS = (b"authorization", b"x-api-key")


def _token(request: Request) -> str | None:
    header, api_key = first_headers(request.scope, _KEY_HEADERS)
    if header is not None:
        kind, _, token = header.partition(" ")
        return token.strip() if kind.lower() == "bearer" and token.strip() else None
    return api_key


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"}
    )


async def authorize(request: Request, scope: str) -> None:
    """Raise 401 or 403 unless the request's key is active and holds `scope`."""
    ring: KeyRing | None = request.app.state.key_ring
    if ring is None:  # auth is off for this app
        return
    token = _token(request)
    if not token:
        raise _unauthorized(
            f"an API key with scope '{scope}' is needed: send 'Authorization: Bearer <key>' "
            f"(create one with `leadscore keys create --name NAME --scope {scope}`)"
        )
    fresh, key = ring.cached(token)
    if not fresh:
        key = await run_in_threadpool(ring.verify, token)
    if key is None:
        raise _unauthorized("the API key is unknown or revoked")
    if not key.allows(scope):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"the API key '{key.name}' ({key.key_id}) lacks the scope '{scope}' "
            f"({SCOPE_HELP[scope]}); it has: {', '.join(key.scopes)}",
        )


_SCOPE_PREFIX = "require_"


def require(scope: str) -> Any:
    """A route dependency: the request's key must be active and hold `scope`."""
    if scope not in SCOPE_HELP:
        raise ValueError(f"unknown scope {scope!r}")

    async def check(request: Request) -> None:
        await authorize(request, scope)

    check.__name__ = f"{_SCOPE_PREFIX}{scope}"
    return Depends(check)


def scope_of(dependency: Callable[..., Any]) -> str | None:
    """The scope a `require` dependency checks (None for any other dependency)."""
    name = getattr(dependency, "__name__", "")
    return name.removeprefix(_SCOPE_PREFIX) if name.startswith(_SCOPE_PREFIX) else None


SCORE = require("score")
ROUTE = require("route")
OUTCOMES = require("outcomes")
READ = require("read")
ADMIN = require("admin")
