"""Tests of the operational store, on SQLite and on a real PostgreSQL."""
