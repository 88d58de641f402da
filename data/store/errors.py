"""Errors the store raises; each names the field and the value at fault.

The API turns them into 4xx answers, so the message is written for the client:
it says which field and which value, never an SQL error.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


class StoreError(Exception):
    """A request the store refuses; `field` and `value` say what was wrong."""

    def __init__(self, field: str, value: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class NotFoundError(StoreError, LookupError):
    """The record named by `field` = `value` does not exist."""

    def __init__(self, field: str, value: str, what: str | None = None) -> None:
        noun = what or field.removesuffix("_id")
        super().__init__(field, value, f"unknown {noun}: {field} {value!r} is not in the store")


class ConflictError(StoreError):
    """The id is taken by a different record (idempotency keys must not be reused)."""


class ContradictionError(StoreError):
    """The event contradicts one recorded earlier; `earlier` is that event's id."""

    def __init__(self, field: str, value: str, earlier: str, message: str) -> None:
        super().__init__(field, value, message)
        self.earlier = earlier


def database_away(error: BaseException) -> bool:
    """The database could not be reached or dropped the connection (retry later), as
    opposed to refusing what was sent."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated
