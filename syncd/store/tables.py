"""The store's schema (SQLAlchemy Core), one for SQLite and PostgreSQL. Migrations: alembic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSON: Any = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId: Any = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

records = sa.Table(
    "records",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False, index=True),
    sa.Column("fields", JSON, nullable=False),
    sa.Column("meta", JSON, nullable=False),  # field -> {"origin", "at"}
    sa.Column("flags", JSON, nullable=False),  # "connector:field" -> issue
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

links = sa.Table(
    "links",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("connector", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("external_id", sa.String(255), nullable=False),
    sa.Column(
        "record_id", sa.String(36), sa.ForeignKey("records.id", ondelete="CASCADE"), index=True
    ),
    sa.Column("bases", JSON, nullable=False),  # field -> value as the source last held it
    sa.Column("placeholder", sa.Boolean, nullable=False, default=False),  # named, not yet seen
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Column("content_hash", sa.String(64)),
    # The source record as last read: every figure traces back to it, and a changed
    # mapping can be previewed (dry run) without reading the tools again.
    sa.Column("data", JSON),
    sa.Column("source_updated_at", UTCDateTime),
    sa.Column("seen_at", UTCDateTime),
    sa.UniqueConstraint("connector", "entity", "external_id"),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("connector", sa.String(64), primary_key=True),
    sa.Column("entity", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

conflicts = sa.Table(
    "conflicts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "record_id", sa.String(36), sa.ForeignKey("records.id", ondelete="CASCADE"), index=True
    ),
    sa.Column("field", sa.String(64), nullable=False),
    sa.Column("base", JSON),
    sa.Column("candidates", JSON, nullable=False),  # connector -> value
    sa.Column("status", sa.String(16), nullable=False),  # open | resolved
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("resolved_at", UTCDateTime),
    sa.Column("resolution", JSON),
    sa.Column("resolved_by", sa.String(128)),
    sa.Index(
        "uq_conflicts_open_field",
        "record_id",
        "field",
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    ),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(36), nullable=False, index=True),
    sa.Column("field", sa.String(64)),  # rows before 0006: one change (field, old, new)
    sa.Column("old", JSON),
    sa.Column("new", JSON),
    sa.Column("origin", sa.String(128), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("at", UTCDateTime),  # the tool's time of the change, when it says
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("mapping_version", sa.String(32)),
    sa.Column("run_id", sa.String(36)),
    # A change set: [[field, old, new], ...], the changes of one record that share origin,
    # reason and time. Rows written before migration 0006 hold one change in field/old/new.
    sa.Column("changes", JSON),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("connector", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("external_id", sa.String(255), nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("fields", JSON, nullable=False),  # record field -> value to write
    sa.Column("status", sa.String(16), nullable=False),  # pending | done | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    # Set just before a write is sent: if the process dies before the result is stored,
    # the next attempt reads the tool first instead of writing blindly again.
    sa.Column("sent_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(
        "uq_outbox_pending",
        "connector",
        "entity",
        "external_id",
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    # Pending only: see migration 0005 (it must not compete with the index above).
    sa.Index(
        "ix_outbox_due",
        "connector",
        "next_attempt_at",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("connector", sa.String(64), nullable=False),
    sa.Column("delivery_id", sa.String(255), nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("headers", JSON, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # new | done | echo | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text),
    sa.Column("processed_at", UTCDateTime),
    sa.Column("events", JSON),  # what the verified delivery says changed
    sa.UniqueConstraint("connector", "delivery_id"),
    sa.Index("ix_inbox_status", "status", "id"),
)

identities = sa.Table(
    "identities",
    metadata,
    sa.Column("connector", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("email", sa.String(320)),
    sa.Column("display_name", sa.String(255)),
    sa.Column("seen_at", UTCDateTime, nullable=False),
)

source_errors = sa.Table(
    "source_errors",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("connector", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("external_id", sa.String(255)),
    sa.Column("location", sa.String(255)),  # e.g. "row 17" in a sheet
    sa.Column("field", sa.String(64)),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    sa.Column("resolved", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_source_errors_open", "connector", "resolved"),
)

mapping_versions = sa.Table(
    "mapping_versions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("files", JSON, nullable=False),  # file name -> TOML text
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, default=False),
)

sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("connector", sa.String(64), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("status", sa.String(16), nullable=False),  # running | ok | failed
    sa.Column("pulled", sa.Integer, nullable=False, default=0),
    sa.Column("changed", sa.Integer, nullable=False, default=0),
    sa.Column("pushed", sa.Integer, nullable=False, default=0),
    sa.Column("errors", sa.Integer, nullable=False, default=0),
    sa.Column("message", sa.Text),
    sa.Index("ix_sync_runs_connector", "connector", "started_at"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("dedupe_key", sa.String(255)),  # a burst for one key coalesces into one job
    sa.Column("lock_key", sa.String(255)),  # two jobs with one lock never run at once
    sa.Column("status", sa.String(16), nullable=False),  # todo | doing | done | failed
    sa.Column("run_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer, nullable=False, default=10),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("worker", sa.String(128)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(
        "uq_jobs_todo_dedupe",
        "dedupe_key",
        unique=True,
        sqlite_where=sa.text("status = 'todo'"),
        postgresql_where=sa.text("status = 'todo'"),
    ),
    sa.Index("ix_jobs_due", "status", "run_at"),
    sa.Index("ix_jobs_lock", "lock_key", "status"),
)

rollup_tabs = sa.Table(
    "rollup_tabs",
    metadata,
    sa.Column("spreadsheet_id", sa.String(255), primary_key=True),
    sa.Column("tab", sa.String(64), primary_key=True),  # the rollup tab's key, e.g. "budget"
    sa.Column("title", sa.String(255), nullable=False),  # the sheet title it was written to
    sa.Column("content_hash", sa.String(64), nullable=False),  # of what was last written
    sa.Column("written_at", UTCDateTime, nullable=False),
)
