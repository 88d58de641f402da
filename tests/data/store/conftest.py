"""Store fixtures: every store test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from `LEADSCORE_TEST_POSTGRES_URL` if set, else a cluster
this session starts and stops (`tests.postgres`). Without PostgreSQL the
PostgreSQL half is skipped, except in CI (`CI` set), where it fails: CI must
prove the store works on the production database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from data.store import Store, upgrade
from tests.postgres import fresh_schema

BACKENDS = ["sqlite", "postgresql"]
TABLES = "reps, leads, customers, scores, assignments, outcomes"


@pytest.fixture(scope="module")
def postgres_store_url(postgres_url: str, request: pytest.FixtureRequest) -> str:
    """A migrated schema of its own for each test module."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    url = fresh_schema(postgres_url, f"t_{name}")
    upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (never migrated) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    postgres_url: str = request.getfixturevalue("postgres_url")
    return fresh_schema(postgres_url, f"empty_{os.getpid()}")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database with no rows, fresh for each test."""
    if request.param == "sqlite":
        sqlite_url = f"sqlite:///{tmp_path / 'store.db'}"
        upgrade(sqlite_url)
        return sqlite_url
    postgres_url: str = request.getfixturevalue("postgres_store_url")
    with Store(postgres_url) as store, store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    return postgres_url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as opened:
        yield opened
