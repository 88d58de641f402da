"""Alembic environment: the database comes from the `Config` passed in.

`data.store.migrate` builds that `Config` in code: either a live connection in
`config.attributes["connection"]` or the URL as the `sqlalchemy.url` option.
Nothing is read from an ini file or a global, so an installed package migrates
whatever database it is told to.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from data.store.engine import make_engine
from data.store.schema import VERSION_TABLE, metadata


def _configure(**options: Any) -> None:
    context.configure(
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=True,
        compare_type=True,
        **options,
    )


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade --sql`)."""
    _configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set the sqlalchemy.url option or pass a connection")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
