"""Outcomes: the `contacted` event type and who did it (`rep_id`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

The check constraint on `outcomes.type` gains `contacted` (an inbound
specialist's or prospector's first touch), and `outcomes.rep_id` (nullable,
a rep of the roster) says who did it. On SQLite, batch mode rebuilds the
table with its rows; on PostgreSQL the constraint is replaced in place.
Downgrading deletes the `contacted` events: revision 0001 cannot hold them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TYPES = "type IN ('qualified', 'won', 'lost', 'renewed', 'churned')"
NEW_TYPES = "type IN ('contacted', 'qualified', 'won', 'lost', 'renewed', 'churned')"


def upgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_constraint(op.f("ck_outcomes_type"), type_="check")
        batch.create_check_constraint(op.f("ck_outcomes_type"), sa.text(NEW_TYPES))
        batch.add_column(sa.Column("rep_id", sa.String(128), nullable=True))
        batch.create_foreign_key(op.f("fk_outcomes_rep_id_reps"), "reps", ["rep_id"], ["rep_id"])
        batch.create_index(op.f("ix_outcomes_rep_id"), ["rep_id"])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM outcomes WHERE type = 'contacted'"))
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_index(op.f("ix_outcomes_rep_id"))
        batch.drop_constraint(op.f("fk_outcomes_rep_id_reps"), type_="foreignkey")
        batch.drop_column("rep_id")
        batch.drop_constraint(op.f("ck_outcomes_type"), type_="check")
        batch.create_check_constraint(op.f("ck_outcomes_type"), sa.text(OLD_TYPES))
