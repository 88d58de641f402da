"""Score journal progress: exactly-once replay of scores acknowledged before a crash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Each API process appends the scores it serves to a local journal before it
answers; the history writer moves this row in the same transaction as the
scores, so a process killed mid-way is replayed from where the database stands.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_progress",
        sa.Column("journal", sa.String(128), nullable=False),
        sa.Column("committed_offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("journal", name=op.f("pk_journal_progress")),
    )


def downgrade() -> None:
    op.drop_table("journal_progress")
