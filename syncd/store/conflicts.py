"""Conflicts: fields two tools changed apart, open until a policy or a person settles them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.model import JsonValue
from syncd.reconcile import Conflict
from syncd.store import tables as t
from syncd.store.bulk import execute_many

# A precompiled statement: a first sync opens hundreds, one at a time.
_INSERT_CONFLICT = t.conflicts.insert()


@dataclass(slots=True)
class ConflictRow:
    """A conflict as listed for people."""

    id: int
    record_id: str
    kind: str
    field: str
    base: JsonValue
    candidates: dict[str, JsonValue]
    status: str
    opened_at: datetime
    resolution: JsonValue
    resolved_by: str | None


def _with_kind() -> sa.Select[tuple[object, ...]]:
    return sa.select(t.conflicts, t.records.c.kind).join(
        t.records, t.records.c.id == t.conflicts.c.record_id
    )


def _row(row: sa.Row[tuple[object, ...]]) -> ConflictRow:
    return ConflictRow(
        id=row.id,
        record_id=row.record_id,
        kind=row.kind,
        field=row.field,
        base=row.base,
        candidates=dict(row.candidates),
        status=row.status,
        opened_at=row.opened_at,
        resolution=row.resolution,
        resolved_by=row.resolved_by,
    )


class Conflicts:
    """Queries on the `conflicts` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def open(self, record_id: str, field: str, conflict: Conflict) -> None:
        """Record a new conflict on a field."""
        row = {
            "record_id": record_id,
            "field": field,
            "base": conflict.base,
            "candidates": conflict.candidates,
            "status": "open",
            "opened_at": self.now,
        }
        execute_many(self.conn, _INSERT_CONFLICT, [row])

    def update(self, record_id: str, field: str, conflict: Conflict) -> None:
        """Change what each side holds in an open conflict."""
        self.conn.execute(
            t.conflicts.update()
            .where(
                t.conflicts.c.record_id == record_id,
                t.conflicts.c.field == field,
                t.conflicts.c.status == "open",
            )
            .values(candidates=conflict.candidates)
        )

    def close(self, record_id: str, field: str, value: JsonValue, by: str) -> None:
        """Mark a field's open conflict resolved with `value`."""
        self.conn.execute(
            t.conflicts.update()
            .where(
                t.conflicts.c.record_id == record_id,
                t.conflicts.c.field == field,
                t.conflicts.c.status == "open",
            )
            .values(status="resolved", resolved_at=self.now, resolution=value, resolved_by=by)
        )

    def delete_of(self, record_id: str) -> None:
        """Drop every conflict of a record (merged into another, which is compared afresh)."""
        self.conn.execute(t.conflicts.delete().where(t.conflicts.c.record_id == record_id))

    def find(self, *, status: str | None = "open", limit: int = 500) -> list[ConflictRow]:
        """Conflicts, newest first."""
        query = _with_kind().order_by(t.conflicts.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(t.conflicts.c.status == status)
        return [_row(row) for row in self.conn.execute(query)]

    def get(self, conflict_id: int) -> ConflictRow | None:
        """One conflict, or None."""
        row = self.conn.execute(_with_kind().where(t.conflicts.c.id == conflict_id)).first()
        return None if row is None else _row(row)

    def open_of(self, record_id: str) -> list[ConflictRow]:
        """A record's open conflicts, oldest first."""
        query = (
            _with_kind()
            .where(t.conflicts.c.record_id == record_id, t.conflicts.c.status == "open")
            .order_by(t.conflicts.c.id)
        )
        return [_row(row) for row in self.conn.execute(query)]
