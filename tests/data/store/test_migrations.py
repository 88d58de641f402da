"""Migrations build exactly the schema `data.store.schema` declares, from an installed package."""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from data.store import Store, current_revision, head_revision, upgrade
from data.store.engine import make_engine
from data.store.migrate import downgrade
from data.store.schema import VERSION_TABLE, metadata

TABLES = {"reps", "leads", "customers", "scores", "assignments", "outcomes"}


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_reaches_head(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    assert table_names(empty_url) == TABLES | {VERSION_TABLE}
    upgrade(empty_url)  # already at head: nothing to do
    assert current_revision(empty_url) == head_revision()


def test_migrated_schema_matches_the_declared_one(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(empty_url: str) -> None:
    upgrade(empty_url)
    downgrade(empty_url, "base")
    assert current_revision(empty_url) is None
    assert table_names(empty_url) == {VERSION_TABLE}
    upgrade(empty_url)
    with Store(empty_url) as store:
        assert store.ping()
        assert store.list_reps() == []


def test_revision_scripts_ship_inside_the_package() -> None:
    """Alembic finds them through the package, not through a checkout's ini file."""
    folder = files("data.store.migrations")
    assert folder.joinpath("env.py").is_file()
    assert folder.joinpath("script.py.mako").is_file()
    revisions = [p.name for p in folder.joinpath("versions").iterdir() if p.name.endswith(".py")]
    assert revisions, "no revision scripts in data/store/migrations/versions"


def test_importing_the_store_connects_to_nothing() -> None:
    """An engine (and a SQLite file) appears only when a Store is built."""
    code = (
        "import data.store, sqlalchemy.pool as p, gc;"
        "assert not any(isinstance(o, p.Pool) for o in gc.get_objects())"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
