"""The insights tests run on SQLite and on a real PostgreSQL, like the store's."""

from tests.data.store.conftest import postgres_store_url, store, store_url

__all__ = ["postgres_store_url", "store", "store_url"]
