"""Audit: every change of every field, as change sets (a record's history)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.reconcile import Change
from syncd.store import tables as t
from syncd.store.bulk import execute_many

_INSERT_AUDIT = t.audit.insert()


def audit_entries(row: Any) -> list[dict[str, Any]]:
    """An audit row as one entry per field change: field, old, new and the row's other
    columns (a row from before migration 0006 holds a single change itself)."""
    entry = dict(row._mapping)
    changes = entry.pop("changes")
    if changes is None:
        return [entry]
    return [{**entry, "field": f, "old": old, "new": new} for f, old, new in changes]


def _change_set_key(change: Change) -> tuple[str, str, datetime | None]:
    return change.origin, change.reason, change.at


class Audit:
    """Queries on the `audit` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def rows(
        self,
        record_id: str,
        changes: Sequence[Change],
        *,
        mapping_version: str | None,
        run_id: str | None,
    ) -> list[dict[str, Any]]:
        """Audit rows for changes, to insert later with `insert`: one per run of changes
        that share origin, reason and time (a record read for the first time is one row,
        not one per field)."""
        rows = []
        for (origin, reason, at), group in groupby(changes, key=_change_set_key):
            rows.append(
                {
                    "record_id": record_id,
                    "changes": [[c.field, c.old, c.new] for c in group],
                    "field": None,
                    "old": None,
                    "new": None,
                    "origin": origin,
                    "reason": reason,
                    "at": at,
                    "recorded_at": self.now,
                    "mapping_version": mapping_version,
                    "run_id": run_id,
                }
            )
        return rows

    def insert(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append audit rows (one statement)."""
        execute_many(self.conn, _INSERT_AUDIT, rows)

    def add(
        self,
        record_id: str,
        changes: Sequence[Change],
        *,
        mapping_version: str | None,
        run_id: str | None,
    ) -> None:
        """Append changes to the record's history."""
        self.insert(self.rows(record_id, changes, mapping_version=mapping_version, run_id=run_id))

    def history(self, record_id: str) -> list[dict[str, Any]]:
        """A record's audit trail, oldest first, one entry per field change (the changes of
        one change set share its row's `id`)."""
        query = sa.select(t.audit).where(t.audit.c.record_id == record_id).order_by(t.audit.c.id)
        return [entry for row in self.conn.execute(query) for entry in audit_entries(row)]

    def entries_by_source_since(self, since: datetime) -> list[tuple[dict[str, Any], str, str]]:
        """Audit entries recorded since `since`, each with the (connector, external id) of
        every source record linked to its record."""
        a, links = t.audit, t.links
        query = (
            sa.select(a, links.c.connector, links.c.external_id)
            .join(links, links.c.record_id == a.c.record_id)
            .where(a.c.recorded_at >= since)
        )
        return [
            (entry, row.connector, row.external_id)
            for row in self.conn.execute(query).all()
            for entry in audit_entries(row)
        ]
