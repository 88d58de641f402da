"""Opening the operational store for the API."""

from __future__ import annotations

from data.store import Store, current_revision, head_revision, upgrade


class SchemaOutdatedError(RuntimeError):
    """The database has an older schema than this version of leadscore needs."""


def open_store(url: str) -> Store:
    """The store at `url`; an empty database gets the schema, an outdated one is refused.

    Upgrading a database that already holds data is a deliberate step
    (`leadscore db upgrade`), never a side effect of starting the API.
    """
    revision = current_revision(url)
    if revision is None:
        upgrade(url)
    elif revision != head_revision():
        raise SchemaOutdatedError(
            f"the database is at schema revision {revision}, this leadscore needs "
            f"{head_revision()}: run `leadscore db upgrade` first"
        )
    return Store(url)
