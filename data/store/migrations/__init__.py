"""Alembic migrations of the operational store; `data.store.migrate` runs them."""
