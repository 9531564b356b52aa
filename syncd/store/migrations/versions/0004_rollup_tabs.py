"""rollup tabs: what was last written to each tab of the consolidated sheet

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import syncd.store.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_tabs",
        sa.Column("spreadsheet_id", sa.String(length=255), nullable=False),
        sa.Column("tab", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("written_at", syncd.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("spreadsheet_id", "tab", name=op.f("pk_rollup_tabs")),
    )


def downgrade() -> None:
    op.drop_table("rollup_tabs")
