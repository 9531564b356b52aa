"""Cursors and runs: how far each connector has read each entity, and each sync's outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.store import tables as t


class Cursors:
    """Queries on the `cursors` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def get(self, connector: str, entity: str) -> str | None:
        """How far a connector has read an entity (None: from the start)."""
        query = sa.select(t.cursors.c.value).where(
            t.cursors.c.connector == connector, t.cursors.c.entity == entity
        )
        value: str | None = self.conn.execute(query).scalar_one_or_none()
        return value

    def set(self, connector: str, entity: str, value: str | None) -> None:
        """Move a cursor (in the same transaction as what was read up to it)."""
        updated = self.conn.execute(
            t.cursors.update()
            .where(t.cursors.c.connector == connector, t.cursors.c.entity == entity)
            .values(value=value, updated_at=self.now)
        )
        if updated.rowcount == 0:
            self.conn.execute(
                t.cursors.insert().values(
                    connector=connector, entity=entity, value=value, updated_at=self.now
                )
            )


@dataclass(frozen=True, slots=True)
class RunRow:
    """One sync run of a connector."""

    id: str
    connector: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # running | ok | failed
    pulled: int
    changed: int
    pushed: int
    errors: int
    message: str | None


def _run(row: Any) -> RunRow:
    return RunRow(
        id=row.id,
        connector=row.connector,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        pulled=row.pulled,
        changed=row.changed,
        pushed=row.pushed,
        errors=row.errors,
        message=row.message,
    )


class Runs:
    """Queries on the `sync_runs` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def start(self, run_id: str, connector: str) -> None:
        """Record a run that starts now."""
        self.conn.execute(
            t.sync_runs.insert().values(
                id=run_id,
                connector=connector,
                started_at=self.now,
                status="running",
                pulled=0,
                changed=0,
                pushed=0,
                errors=0,
            )
        )

    def finish(
        self,
        run_id: str,
        *,
        status: str,
        pulled: int,
        changed: int,
        errors: int,
        message: str | None,
    ) -> None:
        """Record how a run ended, now."""
        self.conn.execute(
            t.sync_runs.update()
            .where(t.sync_runs.c.id == run_id)
            .values(
                finished_at=self.now,
                status=status,
                pulled=pulled,
                changed=changed,
                errors=errors,
                message=message,
            )
        )

    def recent(self, connector: str, *, limit: int, status: str | None = None) -> list[RunRow]:
        """A connector's latest runs (with this status, when given), newest first."""
        c = t.sync_runs.c
        query = sa.select(t.sync_runs).where(c.connector == connector)
        if status is not None:
            query = query.where(c.status == status)
        query = query.order_by(c.started_at.desc()).limit(limit)
        return [_run(row) for row in self.conn.execute(query)]

    def latest(self, connector: str, *, status: str | None = None) -> RunRow | None:
        """A connector's latest run (with this status, when given), or None."""
        runs = self.recent(connector, limit=1, status=status)
        return runs[0] if runs else None

    def last_success(self, connector: str) -> datetime | None:
        """When a connector's latest successful run finished."""
        c = t.sync_runs.c
        query = sa.select(sa.func.max(c.finished_at)).where(
            c.connector == connector, c.status == "ok"
        )
        value: datetime | None = self.conn.execute(query).scalar_one_or_none()
        return value

    def count_by_status(self, connector: str, since: datetime) -> dict[str, int]:
        """A connector's runs started since `since`, counted by status."""
        c = t.sync_runs.c
        query = (
            sa.select(c.status, sa.func.count())
            .where(c.connector == connector, c.started_at >= since)
            .group_by(c.status)
        )
        return {str(row[0]): int(row[1]) for row in self.conn.execute(query).all()}

    def latest_per_connector(self) -> list[RunRow]:
        """Each connector's latest run."""
        c = t.sync_runs.c
        latest = (
            sa.select(c.connector, sa.func.max(c.started_at).label("started"))
            .group_by(c.connector)
            .subquery()
        )
        query = sa.select(t.sync_runs).join(
            latest, sa.and_(c.connector == latest.c.connector, c.started_at == latest.c.started)
        )
        return [_run(row) for row in self.conn.execute(query).all()]

    def last_success_per_connector(self) -> dict[str, datetime | None]:
        """When each connector's latest successful run finished."""
        c = t.sync_runs.c
        query = (
            sa.select(c.connector, sa.func.max(c.finished_at))
            .where(c.status == "ok")
            .group_by(c.connector)
        )
        processed = t.UTCDateTime().process_result_value
        return {
            connector: processed(finished, self.conn.dialect)
            for connector, finished in self.conn.execute(query).all()
        }
