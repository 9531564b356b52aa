"""links keep the source data

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:43:36.927676
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "data",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:

    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_column("data")
