"""Migrations build exactly the schema `data.store.schema` declares, from an installed package."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from importlib.resources import files

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from data.store import OutcomeIn, RepIn, Store, current_revision, head_revision, upgrade
from data.store.engine import make_engine
from data.store.migrate import downgrade
from data.store.schema import VERSION_TABLE, metadata

TABLES = {
    "reps",
    "leads",
    "customers",
    "scores",
    "assignments",
    "outcomes",
    "api_keys",
    "journal_progress",
}


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


def test_0002_upgrades_a_0001_database_that_holds_outcomes(empty_url: str) -> None:
    """A store created by 0001 keeps its events, then takes `contacted` and `rep_id`."""
    upgrade(empty_url, "0001")
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO leads (lead_id, channel, created_at, payload, first_seen_at) "
                    "VALUES ('L1', 'inbound', :t, '{}', :t)"
                ),
                {"t": "2026-01-01 09:00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO outcomes (event_id, type, lead_id, occurred_at, received_at, "
                    "payload) VALUES ('E1', 'qualified', 'L1', :t, :t, '{}')"
                ),
                {"t": "2026-01-02 09:00:00"},
            )
    finally:
        engine.dispose()
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    with Store(empty_url) as store:
        store.put_rep(RepIn(rep_id="IS1", role="inbound_specialist", capacity=100))
        touched = OutcomeIn(
            event_id="E2",
            type="contacted",
            lead_id="L1",
            rep_id="IS1",
            occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC),
        )
        assert store.record_outcome(touched).stored
        with store.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT event_id, type, rep_id FROM outcomes ORDER BY event_id")
            ).all()
    assert [tuple(r) for r in rows] == [("E1", "qualified", None), ("E2", "contacted", "IS1")]
    engine = make_engine(empty_url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO outcomes (event_id, type, lead_id, occurred_at, received_at, "
                    "payload) VALUES ('E3', 'visited', 'L1', :t, :t, '{}')"
                ),
                {"t": "2026-01-02 09:00:00"},
            )
    finally:
        engine.dispose()
    downgrade(empty_url, "0001")  # the contacted event goes, the qualified one stays
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            left = connection.execute(text("SELECT event_id FROM outcomes")).scalars().all()
            columns = {c["name"] for c in inspect(connection).get_columns("outcomes")}
    finally:
        engine.dispose()
    assert left == ["E1"]
    assert "rep_id" not in columns


def test_0005_backfills_first_payload_from_the_current_payload(empty_url: str) -> None:
    """A lead recorded before 0005 can only get its current payload as its first one;
    after it, re-scoring leaves the first payload alone."""
    upgrade(empty_url, "0004")
    payload = '{"lead_id": "L1", "channel": "inbound", "created_at": "2026-01-01T09:00:00", '
    payload += '"web_visits": 4}'
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO leads (lead_id, channel, created_at, payload, first_seen_at) "
                    "VALUES ('L1', 'inbound', :t, :payload, :t)"
                ),
                {"t": "2026-01-01 09:00:00", "payload": payload},
            )
    finally:
        engine.dispose()
    upgrade(empty_url)
    with Store(empty_url) as store:
        record = store.get_lead("L1")
        assert record is not None
        assert record.first_lead.web_visits == 4
        changed = record.lead.model_copy(update={"web_visits": 30})
        store.put_lead(changed)
        again = store.get_lead("L1")
    assert again is not None
    assert (again.lead.web_visits, again.first_lead.web_visits) == (30, 4)
    downgrade(empty_url, "0004")
    assert "first_payload" not in {
        column["name"] for column in inspect(make_engine(empty_url)).get_columns("leads")
    }
