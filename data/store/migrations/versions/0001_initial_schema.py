"""Initial schema: reps, leads, customers, scores, assignments, outcomes.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Self-contained on purpose: a revision must keep creating the schema it created
on the day it was written, whatever `data.store.schema` becomes later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reps",
        sa.Column("rep_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("region", sa.String(32), nullable=True),
        sa.Column("segment", sa.String(32), nullable=True),
        sa.Column("industries", _json(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("load", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("weight", sa.Float(), server_default=sa.text("1"), nullable=False),
        _time("updated_at"),
        sa.CheckConstraint(
            "role IN ('inbound_specialist', 'prospector', 'closer', 'account_manager')",
            name=op.f("ck_reps_role"),
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_reps_capacity")),
        sa.CheckConstraint("load >= 0", name=op.f("ck_reps_load")),
        sa.CheckConstraint("weight > 0", name=op.f("ck_reps_weight")),
        sa.PrimaryKeyConstraint("rep_id", name=op.f("pk_reps")),
    )
    op.create_index(op.f("ix_reps_role"), "reps", ["role"])

    op.create_table(
        "leads",
        sa.Column("lead_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        _time("created_at"),
        sa.Column("payload", _json(), nullable=False),
        _time("first_seen_at"),
        _time("last_scored_at", nullable=True),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_leads")),
    )

    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("lead_id", sa.String(128), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        _time("first_seen_at"),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customers")),
    )

    op.create_table(
        "scores",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.String(128), nullable=False),
        _time("scored_at"),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.Column("reasons", _json(), nullable=False),
        sa.CheckConstraint(
            "probability >= 0 AND probability <= 1", name=op.f("ck_scores_probability")
        ),
        sa.CheckConstraint("score >= 1 AND score <= 99", name=op.f("ck_scores_score")),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.lead_id"], name=op.f("fk_scores_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
    )
    op.create_index(op.f("ix_scores_lead_id_scored_at"), "scores", ["lead_id", "scored_at"])

    op.create_table(
        "assignments",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("rep_id", sa.String(128), nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("propensity", sa.Float(), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("runners_up", _json(), nullable=False),
        sa.Column("explored", sa.Boolean(), nullable=False),
        _time("assigned_at"),
        _time("released_at", nullable=True),
        sa.CheckConstraint("kind IN ('lead', 'customer')", name=op.f("ck_assignments_kind")),
        sa.CheckConstraint(
            "propensity >= 0 AND propensity <= 1", name=op.f("ck_assignments_propensity")
        ),
        sa.ForeignKeyConstraint(
            ["rep_id"], ["reps.rep_id"], name=op.f("fk_assignments_rep_id_reps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_assigned_at"), "assignments", ["assigned_at"])
    op.create_index(op.f("ix_assignments_rep_id"), "assignments", ["rep_id"])
    op.create_index(op.f("ix_assignments_subject_id_kind"), "assignments", ["subject_id", "kind"])
    op.create_index(
        "ux_assignments_open",
        "assignments",
        ["kind", "subject_id"],
        unique=True,
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )

    op.create_table(
        "outcomes",
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("lead_id", sa.String(128), nullable=True),
        sa.Column("customer_id", sa.String(128), nullable=True),
        _time("occurred_at"),
        sa.Column("value", sa.Float(), nullable=True),
        _time("received_at"),
        sa.Column("payload", _json(), nullable=False),
        sa.CheckConstraint(
            "type IN ('qualified', 'won', 'lost', 'renewed', 'churned')",
            name=op.f("ck_outcomes_type"),
        ),
        sa.CheckConstraint(
            "(lead_id IS NULL) <> (customer_id IS NULL)", name=op.f("ck_outcomes_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_outcomes_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.lead_id"], name=op.f("fk_outcomes_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_outcomes")),
    )
    op.create_index(op.f("ix_outcomes_customer_id"), "outcomes", ["customer_id"])
    op.create_index(op.f("ix_outcomes_lead_id"), "outcomes", ["lead_id"])


def downgrade() -> None:
    # Children first; dropping a table drops its indexes.
    for table in ("outcomes", "assignments", "scores", "customers", "leads", "reps"):
        op.drop_table(table)
