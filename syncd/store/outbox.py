"""The outbox: values waiting to be written to source records, one pending write per record."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.model import JsonValue
from syncd.reconcile import LinkKey
from syncd.store import tables as t
from syncd.store.batches import by_source
from syncd.store.bulk import execute_many

# Written into the SQL, not bound: only then may PostgreSQL's generic plans use the outbox's
# partial indexes (`... WHERE status = 'pending'`).
PENDING: sa.ColumnElement[str] = sa.literal_column("'pending'")

# Page-sized writes (`execute_many`): every value a parameter, so each compiles once.
_INSERT_OUTBOX = t.outbox.insert()
_SAVE_OUTBOX = (
    t.outbox.update()
    .where(t.outbox.c.id == sa.bindparam("oid"))
    .values(
        fields=sa.bindparam("fields"),
        status=sa.bindparam("status"),
        updated_at=sa.bindparam("now"),
    )
)


@dataclass(slots=True)
class OutboxRow:
    """Values waiting to be written to one source record."""

    id: int
    connector: str
    entity: str
    external_id: str
    record_id: str
    fields: dict[str, JsonValue]
    attempts: int


def _outbox(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row.id,
        connector=row.connector,
        entity=row.entity,
        external_id=row.external_id,
        record_id=row.record_id,
        fields=dict(row.fields),
        attempts=row.attempts,
    )


class Outbox:
    """Queries on the `outbox` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def enqueue(self, key: LinkKey, record_id: str, fields: Mapping[str, JsonValue]) -> None:
        """Add values to the pending write for a source record (coalesced per record)."""
        connector, entity, external_id = key
        pending = self._pending(key)
        if pending is None:
            self.conn.execute(
                t.outbox.insert().values(
                    connector=connector,
                    entity=entity,
                    external_id=external_id,
                    record_id=record_id,
                    fields=dict(fields),
                    status="pending",
                    attempts=0,
                    next_attempt_at=self.now,
                    created_at=self.now,
                    updated_at=self.now,
                )
            )
        else:
            self.conn.execute(
                t.outbox.update()
                .where(t.outbox.c.id == pending.id)
                .values(fields={**pending.fields, **fields}, updated_at=self.now)
            )

    def cancel(self, key: LinkKey, names: Iterable[str]) -> None:
        """Drop fields from the pending write for a source record."""
        pending = self._pending(key)
        if pending is None:
            return
        remaining = {k: v for k, v in pending.fields.items() if k not in set(names)}
        self._set_pending_fields(pending.id, remaining)

    def _set_pending_fields(self, outbox_id: int, fields: dict[str, JsonValue]) -> None:
        values: dict[str, Any] = {"fields": fields, "updated_at": self.now}
        if not fields:
            values["status"] = "done"
        self.conn.execute(t.outbox.update().where(t.outbox.c.id == outbox_id).values(**values))

    def pending(self, keys: Iterable[LinkKey]) -> dict[LinkKey, OutboxRow]:
        """The pending writes for these source records (one query per source)."""
        found: dict[LinkKey, OutboxRow] = {}
        for connector, entity, chunk in by_source(keys):
            query = sa.select(t.outbox).where(
                t.outbox.c.connector == connector,
                t.outbox.c.entity == entity,
                t.outbox.c.status == PENDING,
                t.outbox.c.external_id.in_(chunk),
            )
            for row in self.conn.execute(query):
                found[(row.connector, row.entity, row.external_id)] = _outbox(row)
        return found

    def _pending(self, key: LinkKey) -> OutboxRow | None:
        connector, entity, external_id = key
        row = self.conn.execute(
            sa.select(t.outbox).where(
                t.outbox.c.connector == connector,
                t.outbox.c.entity == entity,
                t.outbox.c.external_id == external_id,
                t.outbox.c.status == PENDING,
            )
        ).first()
        return _outbox(row) if row else None

    def due(
        self, connector: str, limit: int = 500, *, records: Collection[str] | None = None
    ) -> list[OutboxRow]:
        """Pending writes for a connector whose time has come, oldest first (only for
        `records` when given)."""
        query = (
            sa.select(t.outbox)
            .where(
                t.outbox.c.connector == connector,
                t.outbox.c.status == PENDING,
                t.outbox.c.next_attempt_at <= self.now,
            )
            # Due order, then age: the order of the due index, so no sort and an early stop.
            .order_by(t.outbox.c.next_attempt_at, t.outbox.c.id)
            .limit(limit)
        )
        if records is not None:
            if not records:
                return []
            query = query.where(t.outbox.c.record_id.in_(sorted(records)[:1000]))
        return [_outbox(row) for row in self.conn.execute(query)]

    def complete(self, outbox_id: int, written: Mapping[str, JsonValue]) -> None:
        """Mark values written; values changed meanwhile stay pending."""
        row = self.conn.execute(sa.select(t.outbox).where(t.outbox.c.id == outbox_id)).first()
        if row is None or row.status != "pending":
            return
        remaining = {k: v for k, v in row.fields.items() if k not in written or written[k] != v}
        self._set_pending_fields(outbox_id, remaining)

    def fail(self, outbox_id: int, error: str, *, retry_in: timedelta | None) -> None:
        """Record a failed write: retried after `retry_in`, or failed for good when None."""
        values: dict[str, Any] = {
            "attempts": t.outbox.c.attempts + 1,
            "last_error": error,
            "updated_at": self.now,
        }
        if retry_in is None:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = self.now + retry_in
        self.conn.execute(t.outbox.update().where(t.outbox.c.id == outbox_id).values(**values))

    def depth(self) -> dict[str, int]:
        """Pending writes per connector."""
        return self._count_by_connector(t.outbox.c.status == PENDING)

    def failed_by_connector(self) -> dict[str, int]:
        """Writes failed for good, per connector."""
        return self._count_by_connector(t.outbox.c.status == "failed")

    def _count_by_connector(self, where: sa.ColumnElement[bool]) -> dict[str, int]:
        query = (
            sa.select(t.outbox.c.connector, sa.func.count())
            .where(where)
            .group_by(t.outbox.c.connector)
        )
        return {str(row[0]): int(row[1]) for row in self.conn.execute(query)}

    def connectors_pending_for(self, record_id: str) -> list[str]:
        """The connectors a record has pending writes to, sorted."""
        query = (
            sa.select(t.outbox.c.connector)
            .where(t.outbox.c.record_id == record_id, t.outbox.c.status == PENDING)
            .distinct()
        )
        return sorted(self.conn.execute(query).scalars())

    def stage(self, pending: dict[LinkKey, OutboxRow]) -> OutboxStage:
        """Stage this transaction's changes to pending writes, from the rows `pending` read."""
        return OutboxStage(self.conn, self.now, pending)


class OutboxStage:
    """A transaction's changes to pending writes, staged and stored together (`flush`).

    Starts from the pending rows already stored for the records at hand (`pending`, from
    `Outbox.pending`); later changes to the same source record coalesce in memory.
    """

    def __init__(self, conn: Connection, now: datetime, pending: dict[LinkKey, OutboxRow]) -> None:
        self.conn, self.now, self.pending = conn, now, pending
        self._new: dict[LinkKey, OutboxRow] = {}
        self._changed: dict[int, tuple[dict[str, JsonValue], str]] = {}

    def apply(
        self,
        record_id: str,
        pushes: Mapping[LinkKey, Mapping[str, JsonValue]],
        cancels: Mapping[LinkKey, Iterable[str]],
    ) -> None:
        """Cancel, then add, values to write to source records."""
        for key, names in cancels.items():
            row = self.pending.get(key)
            dropped = set(names)
            if row is None or not dropped & set(row.fields):
                continue
            row.fields = {k: v for k, v in row.fields.items() if k not in dropped}
            if not row.fields:
                del self.pending[key]
            if key in self._new and self._new[key] is row:
                if not row.fields:
                    del self._new[key]
                continue
            self._changed[row.id] = (row.fields, "pending" if row.fields else "done")
        for key, fields in pushes.items():
            row = self.pending.get(key)
            if row is not None:
                row.fields = {**row.fields, **fields}
                if self._new.get(key) is not row:
                    self._changed[row.id] = (row.fields, "pending")
                continue
            connector, entity, external_id = key
            row = OutboxRow(0, connector, entity, external_id, record_id, dict(fields), 0)
            self.pending[key] = self._new[key] = row

    def flush(self) -> None:
        """Store the staged changes: updates first (a row done frees its source record's
        place in the one-pending-write-per-record index), then the new rows."""
        now = self.now
        execute_many(
            self.conn,
            _SAVE_OUTBOX,
            [
                {"oid": oid, "fields": fields, "status": status, "now": now}
                for oid, (fields, status) in self._changed.items()
            ],
        )
        execute_many(
            self.conn,
            _INSERT_OUTBOX,
            [
                {
                    "connector": row.connector,
                    "entity": row.entity,
                    "external_id": row.external_id,
                    "record_id": row.record_id,
                    "fields": row.fields,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for row in self._new.values()
            ],
        )
        self._changed.clear()
        self._new.clear()
