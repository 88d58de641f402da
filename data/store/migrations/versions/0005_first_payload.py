"""Leads: `first_payload`, the lead as it was when the store first saw it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

`payload` is overwritten by every later scoring of the lead, so fields the CRM
filled in after first contact would leak into a model trained on the store
(`leadscore train --from-store`). `first_payload` is written once, when the
lead is first recorded, and never updated.

Existing rows are backfilled from `payload`: the store never kept the earlier
versions, so a lead recorded before this revision can only get its current
payload, which may hold fields updated after it was first scored.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    # A plain ADD COLUMN, not batch mode: rebuilding `leads` on SQLite would drop a
    # table the outcomes and scores point at. NOT NULL needs a default to add the
    # column; every row then gets its real value, and PostgreSQL drops the default
    # (SQLite cannot without that rebuild; the store always writes the column).
    op.add_column(
        "leads",
        sa.Column("first_payload", json, nullable=False, server_default=sa.text("'{}'")),
    )
    op.execute(sa.text("UPDATE leads SET first_payload = payload"))
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("leads", "first_payload", server_default=None)


def downgrade() -> None:
    op.drop_column("leads", "first_payload")
