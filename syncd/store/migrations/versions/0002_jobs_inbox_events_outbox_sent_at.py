"""jobs, inbox events, outbox sent_at

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:39:43.168562
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import syncd.store.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        sa.Column("lock_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_at", syncd.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", syncd.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", syncd.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", syncd.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_due", ["status", "run_at"], unique=False)
        batch_op.create_index("ix_jobs_lock", ["lock_key", "status"], unique=False)
        batch_op.create_index(
            "uq_jobs_todo_dedupe",
            ["dedupe_key"],
            unique=True,
            sqlite_where=sa.text("status = 'todo'"),
            postgresql_where=sa.text("status = 'todo'"),
        )

    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "events",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sent_at", syncd.store.tables.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("sent_at")

    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("events")

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_jobs_todo_dedupe",
            sqlite_where=sa.text("status = 'todo'"),
            postgresql_where=sa.text("status = 'todo'"),
        )
        batch_op.drop_index("ix_jobs_lock")
        batch_op.drop_index("ix_jobs_due")

    op.drop_table("jobs")
