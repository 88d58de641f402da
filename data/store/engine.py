"""Engines and transactions that behave the same on SQLite and PostgreSQL.

SQLite needs three things to be a safe concurrent store: foreign keys switched
on per connection, connections usable from the server's worker threads, and
write transactions that take the write lock up front (`BEGIN IMMEDIATE`).
Without the last, two transactions that read and then write can deadlock and
one fails at once with "database is locked" instead of waiting its turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

# Execution option marking a read-only transaction (SQLite then takes no write lock).
READ_ONLY = "leadscore_read_only"
# Seconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT = 30


class JsonText(str):
    """A JSON column's value already serialised (the API serialised the lead once, for its
    journal): stored as it is."""


def json_text(value: Any) -> str:
    """JSON columns as compact text from pydantic's serialiser, several times faster than the
    standard library's (the score history writes three JSON values per score); what is read
    back is the same."""
    if type(value) is JsonText:
        return value
    return to_json(value).decode()


def in_memory(url: str) -> bool:
    """A SQLite database that lives in its process's memory (no other process sees it)."""
    parsed = make_url(url)
    database = parsed.database or ""
    return parsed.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    )


def make_engine(url: str) -> Engine:
    """An engine for `url`; for a SQLite file, its folder is created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, json_serializer=json_text)
    database = parsed.database or ""
    memory = in_memory(url)
    if not memory and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT},
        json_serializer=json_text,
    )
    _sqlite_transactions(engine, wal=not memory)
    return engine


def _sqlite_transactions(engine: Engine, *, wal: bool) -> None:
    """Let SQLAlchemy, not the sqlite3 module, decide how transactions begin."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN of its own
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if wal:  # readers do not block the writer, nor the writer the readers
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed if the block ends, rolled back if it raises."""
    with engine.begin() as connection:
        yield connection


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """One read transaction, a consistent snapshot that takes no write lock."""
    with engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            yield connection


def insert_for(connection: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """The dialect's INSERT, which has `on_conflict_do_update` on both backends."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(
        f"the store runs on SQLite and PostgreSQL, not {connection.dialect.name}"
    )
