"""API keys: created with a random secret shown once, stored as its SHA-256, revoked not deleted.

A key reads `lsk_<key_id>_<secret>`: the id finds the row (and names the key
in lists and logs), the secret proves possession. The secret has 256 random
bits, so a plain SHA-256 is enough: there is no password to guess.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Row, func, select, update

from data.store.errors import NotFoundError
from data.store.schema import SCOPES, api_keys

PREFIX = "lsk"


class ApiKeyRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    key_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None = None

    def allows(self, scope: str) -> bool:
        """`admin` holds every scope."""
        return self.revoked_at is None and (scope in self.scopes or "admin" in self.scopes)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(token: str) -> tuple[str, str] | None:
    """(key_id, whole token) of a well-formed key, else None."""
    parts = token.split("_")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], token


def check_scopes(scopes: list[str]) -> list[str]:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(
            f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(scopes) or 'none'}"
        )
    return sorted(set(scopes))


def _record(row: Row[Any]) -> ApiKeyRecord:
    values = dict(row._mapping)
    values.pop("secret_hash", None)
    return ApiKeyRecord.model_validate(values)


def create_key(
    connection: Connection, name: str, scopes: list[str], now: datetime
) -> tuple[ApiKeyRecord, str]:
    """A new key and its token; the token is never stored and cannot be shown again."""
    if not name.strip():
        raise ValueError("a key needs a name (who or what uses it)")
    key_id = secrets.token_hex(6)
    token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32).replace('_', '-')}"
    values = {
        "key_id": key_id,
        "name": name.strip(),
        "secret_hash": digest(token),
        "scopes": check_scopes(scopes),
        "created_at": now,
    }
    connection.execute(api_keys.insert().values(**values))
    return _record(
        connection.execute(select(api_keys).where(api_keys.c.key_id == key_id)).one()
    ), token


def list_keys(connection: Connection) -> list[ApiKeyRecord]:
    rows = connection.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id))
    return [_record(row) for row in rows]


def revoke_key(connection: Connection, key_id: str, now: datetime) -> ApiKeyRecord:
    statement = (
        update(api_keys)
        .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    connection.execute(statement)
    row = connection.execute(select(api_keys).where(api_keys.c.key_id == key_id)).one_or_none()
    if row is None:
        raise NotFoundError("key_id", key_id, "API key")
    return _record(row)


def verify(connection: Connection, token: str) -> ApiKeyRecord | None:
    """The active key `token` is, or None (unknown, malformed or revoked)."""
    parsed = parse(token)
    if parsed is None:
        return None
    row = connection.execute(
        select(api_keys).where(api_keys.c.key_id == parsed[0], api_keys.c.revoked_at.is_(None))
    ).one_or_none()
    if row is None or not hmac.compare_digest(row.secret_hash, digest(token)):
        return None
    return _record(row)


def active_count(connection: Connection) -> int:
    active = select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
    return int(connection.execute(active).scalar_one())
