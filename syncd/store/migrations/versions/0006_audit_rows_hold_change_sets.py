"""audit: a row holds a change set

A first sync recorded one audit row per field of every record (at 10,000 issues: 198,000
rows, a quarter of the sync's CPU in inserting them and their index entries). A row now
holds the changes of one record that share origin, reason and time (`changes`:
`[[field, old, new], ...]`); rows written before keep `field`, `old` and `new`, and are read
as a change set of one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.alter_column("field", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(
            sa.Column(
                "changes",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    # Change sets become one row per field again, then the column goes.
    audit = sa.table(
        "audit",
        sa.column("id", sa.BigInteger()),
        sa.column("record_id", sa.String()),
        sa.column("field", sa.String()),
        sa.column("old", sa.JSON()),
        sa.column("new", sa.JSON()),
        sa.column("origin", sa.String()),
        sa.column("reason", sa.String()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("recorded_at", sa.DateTime(timezone=True)),
        sa.column("mapping_version", sa.String()),
        sa.column("run_id", sa.String()),
        sa.column("changes", sa.JSON()),
    )
    conn = op.get_bind()
    sets = conn.execute(sa.select(audit).where(audit.c.changes.is_not(None))).mappings().all()
    for row in sets:
        common = {k: v for k, v in row.items() if k not in ("id", "changes", "field", "old", "new")}
        conn.execute(
            audit.insert(),
            [{**common, "field": f, "old": old, "new": new} for f, old, new in row["changes"]],
        )
    conn.execute(audit.delete().where(audit.c.changes.is_not(None)))
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_column("changes")
        batch_op.alter_column("field", existing_type=sa.String(length=64), nullable=False)
