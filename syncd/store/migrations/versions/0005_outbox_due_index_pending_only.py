"""outbox: the due-writes index covers pending rows only

A first sync leaves ~100,000 pending writes. With `(status, connector, next_attempt_at)`
SQLite's planner chose that index for the per-page "pending writes of these records"
lookup (a scan of every pending row of the connector, 60 ms a page at 100k) instead of the
unique `(connector, entity, external_id) WHERE status = 'pending'`. As a partial index on
`(connector, next_attempt_at)` it no longer competes, and "due writes, in due order"
reads it in order (no sort) and stops at the limit.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["connector", "next_attempt_at"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["status", "connector", "next_attempt_at"])
