"""The tables of the operational store (SQLAlchemy Core), the single definition.

The Alembic revisions in `migrations/versions` create exactly this schema; a
test compares the migrated database with this metadata on SQLite and
PostgreSQL, so the two cannot drift apart.

| table | one row per | notes |
|---|---|---|
| `reps` | rep | roster plus `load`, the open items the rep holds now |
| `leads` | lead scored or routed | the `Lead` as last posted; as first, `first_payload` |
| `customers` | won customer | assign and outcome target for account managers |
| `scores` | scoring of a lead | append-only history, newest first by `scored_at` |
| `assignments` | routing decision | open while `released_at` is null; one open per subject |
| `outcomes` | CRM event | `event_id` from the CRM, the idempotency key; `rep_id` who did it |
| `api_keys` | API key | the SHA-256 of its secret and its `scopes`; revoked, never deleted |

There is deliberately no `load <= capacity` check: capacity may be lowered
below the current load; `Store.reserve` enforces it for new work.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

# Alembic's bookkeeping table; not `alembic_version`, so the store can share a
# database with MLflow's backend store, which has its own.
VERSION_TABLE = "leadscore_schema_version"

# Named constraints, so later migrations can alter them by name on both backends.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python on both backends (SQLite keeps no zone: store UTC naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        zone = value.tzinfo
        if zone is not UTC:  # the usual value is already UTC: no conversion
            value = value.replace(tzinfo=UTC) if zone is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (compact, comparable); JSON text elsewhere.
Json = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY, so BIGINT is PostgreSQL's alone.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ROLES = ("inbound_specialist", "prospector", "closer", "account_manager")
KINDS = ("lead", "customer")
OUTCOME_TYPES = ("contacted", "qualified", "won", "lost", "renewed", "churned")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


reps = Table(
    "reps",
    metadata,
    Column("rep_id", String(128), primary_key=True),
    Column("name", String(256)),
    Column("role", String(32), nullable=False),
    Column("region", String(32)),
    Column("segment", String(32)),
    Column("industries", Json, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("active", Boolean(create_constraint=False), nullable=False),
    Column("available", Boolean(create_constraint=False), nullable=False),
    Column("load", Integer, nullable=False, server_default=text("0")),
    Column("weight", Float, nullable=False, server_default=text("1")),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(_one_of("role", ROLES), name="role"),
    CheckConstraint("capacity >= 0", name="capacity"),
    CheckConstraint("load >= 0", name="load"),
    CheckConstraint("weight > 0", name="weight"),
    Index(None, "role"),
)

leads = Table(
    "leads",
    metadata,
    Column("lead_id", String(128), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("payload", Json, nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_scored_at", UtcDateTime),
    # The lead as first recorded, never updated: `payload` is overwritten by every
    # later scoring, so training on it would let fields filled in later leak in.
    Column("first_payload", Json, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(128), primary_key=True),
    Column("lead_id", String(128)),
    Column("payload", Json, nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
)

scores = Table(
    "scores",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("lead_id", String(128), ForeignKey("leads.lead_id"), nullable=False),
    Column("scored_at", UtcDateTime, nullable=False),
    Column("model_name", String(256), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("probability", Float, nullable=False),
    Column("score", Integer, nullable=False),
    Column("grade", String(1), nullable=False),
    Column("reasons", Json, nullable=False),
    CheckConstraint("probability >= 0 AND probability <= 1", name="probability"),
    CheckConstraint("score >= 1 AND score <= 99", name="score"),
    Index(None, "lead_id", "scored_at"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("subject_id", String(128), nullable=False),
    Column("rep_id", String(128), ForeignKey("reps.rep_id"), nullable=False),
    Column("policy", String(64), nullable=False),
    Column("propensity", Float, nullable=False),
    Column("objective", Float, nullable=False),
    Column("runners_up", Json, nullable=False),
    Column("explored", Boolean(create_constraint=False), nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime),
    CheckConstraint(_one_of("kind", KINDS), name="kind"),
    CheckConstraint("propensity >= 0 AND propensity <= 1", name="propensity"),
    Index(None, "subject_id", "kind"),
    Index(None, "rep_id"),
    Index(None, "assigned_at"),
    # At most one open assignment per subject: routing a lead twice cannot
    # reserve two closers, even from concurrent requests.
    Index(
        "ux_assignments_open",
        "kind",
        "subject_id",
        unique=True,
        sqlite_where=text("released_at IS NULL"),
        postgresql_where=text("released_at IS NULL"),
    ),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("lead_id", String(128), ForeignKey("leads.lead_id")),
    Column("customer_id", String(128), ForeignKey("customers.customer_id")),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("value", Float),
    Column("received_at", UtcDateTime, nullable=False),
    Column("payload", Json, nullable=False),
    Column("rep_id", String(128), ForeignKey("reps.rep_id")),
    CheckConstraint(_one_of("type", OUTCOME_TYPES), name="type"),
    CheckConstraint("(lead_id IS NULL) <> (customer_id IS NULL)", name="one_subject"),
    Index(None, "lead_id"),
    Index(None, "customer_id"),
    Index(None, "rep_id"),
)

SCOPES = ("score", "route", "outcomes", "read", "admin")

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("scopes", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

journal_progress = Table(
    "journal_progress",
    metadata,
    Column("journal", String(128), primary_key=True),
    Column("committed_offset", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
"""How far each API process's score journal is in the history: moved in the same
transaction as the scores it covers, so a replay after a crash writes each score once."""
