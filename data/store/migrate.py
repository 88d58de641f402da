"""Apply the store's Alembic migrations from code: `upgrade(url)`, `current_revision(url)`.

The Alembic `Config` is built here rather than read from an `alembic.ini`, and
the revision scripts ship inside the package, so `leadscore db upgrade` works
from an installed wheel as well as from a checkout.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from data.store.engine import make_engine
from data.store.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` with the packaged scripts (no ini file)."""
    config = Config()
    # ConfigParser interpolates `%`; URL-encoded passwords contain it.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creating the tables on an empty one)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Step the database at `url` back to `revision` ("base" drops every table)."""
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at; None if never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()
