"""The job queue's table: durable jobs with coalescing, per-key locks, leases and retries.

Claims are serialized (SQLite's write lock; a transaction-scoped advisory lock on
PostgreSQL) so that two workers never take jobs with the same lock key at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.store import tables as t

_CLAIM_LOCK = 0x5E7C_D001  # advisory lock id serializing claims on PostgreSQL


def _inserted_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if not key:
        raise RuntimeError("the database returned no id for a new job")
    return int(key[0])


def merge_payloads(kept: Mapping[str, Any], added: Mapping[str, Any]) -> dict[str, Any]:
    """Coalesce two payloads of one dedupe key: lists are unioned, other values kept."""
    merged = dict(kept)
    for key, value in added.items():
        if isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + [v for v in value if v not in merged[key]]
        else:
            merged.setdefault(key, value)
    return merged


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job."""

    id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str | None
    lock_key: str | None
    attempts: int
    max_attempts: int


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        payload=dict(row.payload),
        dedupe_key=row.dedupe_key,
        lock_key=row.lock_key,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
    )


class Jobs:
    """Queries on the `jobs` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        dedupe_key: str | None = None,
        lock_key: str | None = None,
        delay: timedelta = timedelta(0),
        max_attempts: int,
    ) -> int:
        """Add a job, or fold it into a waiting job with the same dedupe key."""
        if dedupe_key is not None:
            existing = self._waiting(dedupe_key)
            if existing is not None:
                return self._absorb(existing, dict(payload))
        values = {
            "kind": kind,
            "payload": dict(payload),
            "dedupe_key": dedupe_key,
            "lock_key": lock_key,
            "status": "todo",
            "run_at": self.now + delay,
            "attempts": 0,
            "max_attempts": max_attempts,
            "created_at": self.now,
            "updated_at": self.now,
        }
        if dedupe_key is None:
            return _inserted_id(self.conn.execute(t.jobs.insert().values(**values)))
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(t.jobs.insert().values(**values))
            return _inserted_id(result)
        except sa.exc.IntegrityError:
            # Another writer added the same key a moment ago: fold into theirs.
            existing = self._waiting(dedupe_key)
            if existing is None:
                raise
            return self._absorb(existing, dict(payload))

    def enqueue_many(
        self, kind: str, jobs: Sequence[tuple[str, Mapping[str, Any]]], *, max_attempts: int
    ) -> None:
        """Add many keyed jobs with three statements, whatever their number."""
        if not jobs:
            return
        merged: dict[str, dict[str, Any]] = {}
        for key, payload in jobs:
            merged[key] = merge_payloads(merged[key], payload) if key in merged else dict(payload)
        waiting: dict[str, Any] = {}
        keys = sorted(merged)
        for start in range(0, len(keys), 500):
            rows = self.conn.execute(
                sa.select(t.jobs.c.id, t.jobs.c.dedupe_key, t.jobs.c.payload).where(
                    t.jobs.c.status == "todo", t.jobs.c.dedupe_key.in_(keys[start : start + 500])
                )
            )
            waiting.update({row.dedupe_key: row for row in rows})
        updates = []
        for key, row in waiting.items():
            payload = merge_payloads(row.payload, merged.pop(key))
            if payload != row.payload:
                updates.append({"jid": row.id, "payload": payload})
        if updates:
            self.conn.execute(
                t.jobs.update()
                .where(t.jobs.c.id == sa.bindparam("jid"))
                .values(payload=sa.bindparam("payload"), updated_at=self.now),
                updates,
            )
        if not merged:
            return
        rows_ = [
            {
                "kind": kind,
                "payload": payload,
                "dedupe_key": key,
                "lock_key": key,
                "status": "todo",
                "run_at": self.now,
                "attempts": 0,
                "max_attempts": max_attempts,
                "created_at": self.now,
                "updated_at": self.now,
            }
            for key, payload in merged.items()
        ]
        try:
            with self.conn.begin_nested():
                self.conn.execute(t.jobs.insert(), rows_)
        except sa.exc.IntegrityError:
            # Another replica queued one of these keys meanwhile: go one by one.
            for key, payload in merged.items():
                self.enqueue(kind, payload, dedupe_key=key, lock_key=key, max_attempts=max_attempts)

    def _waiting(self, dedupe_key: str) -> Any:
        return self.conn.execute(
            sa.select(t.jobs.c.id, t.jobs.c.payload).where(
                t.jobs.c.dedupe_key == dedupe_key, t.jobs.c.status == "todo"
            )
        ).first()

    def _absorb(self, existing: Any, payload: dict[str, Any]) -> int:
        merged = merge_payloads(existing.payload, payload)
        if merged != existing.payload:
            self.conn.execute(
                t.jobs.update()
                .where(t.jobs.c.id == existing.id)
                .values(payload=merged, updated_at=self.now)
            )
        return int(existing.id)

    def claim(
        self,
        worker: str,
        *,
        lease: timedelta,
        kinds: Sequence[str] | None = None,
        connectors: Sequence[str] | None = None,
        limit: int = 1,
    ) -> list[Job]:
        """Take due jobs whose lock is free, at most one per lock key."""
        if self.conn.dialect.name != "sqlite":
            self.conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK})
        running = (
            sa.select(t.jobs.c.lock_key)
            .where(t.jobs.c.status == "doing", t.jobs.c.lock_key.is_not(None))
            .scalar_subquery()
        )
        query = (
            sa.select(t.jobs)
            .where(
                t.jobs.c.status == "todo",
                t.jobs.c.run_at <= self.now,
                sa.or_(t.jobs.c.lock_key.is_(None), t.jobs.c.lock_key.not_in(running)),
            )
            .order_by(t.jobs.c.run_at, t.jobs.c.id)
            .limit(limit * 4)
        )
        if kinds:
            query = query.where(t.jobs.c.kind.in_(list(kinds)))
        if connectors:
            connector = t.jobs.c.payload["connector"].as_string()
            query = query.where(connector.in_(list(connectors)))
        claimed: list[Job] = []
        locks: set[str] = set()
        for row in self.conn.execute(query):
            if row.lock_key is not None and row.lock_key in locks:
                continue
            claimed.append(_job(row))
            if row.lock_key is not None:
                locks.add(row.lock_key)
            if len(claimed) == limit:
                break
        if claimed:
            self.conn.execute(
                t.jobs.update()
                .where(t.jobs.c.id.in_([j.id for j in claimed]))
                .values(
                    status="doing",
                    worker=worker,
                    lease_until=self.now + lease,
                    attempts=t.jobs.c.attempts + 1,
                    updated_at=self.now,
                )
            )
        return [
            Job(
                j.id,
                j.kind,
                j.payload,
                j.dedupe_key,
                j.lock_key,
                j.attempts + 1,
                j.max_attempts,
            )
            for j in claimed
        ]

    def heartbeat(self, jobs: Sequence[Job], worker: str, lease: timedelta) -> int:
        """Extend leases this worker still holds."""
        if not jobs:
            return 0
        result = self.conn.execute(
            t.jobs.update()
            .where(
                t.jobs.c.id.in_([j.id for j in jobs]),
                t.jobs.c.status == "doing",
                t.jobs.c.worker == worker,
            )
            .values(lease_until=self.now + lease, updated_at=self.now)
        )
        return int(result.rowcount)

    def complete(self, jobs: Sequence[Job]) -> None:
        """Mark jobs done in the transaction of their effects."""
        if jobs:
            self.conn.execute(
                t.jobs.update()
                .where(t.jobs.c.id.in_([j.id for j in jobs]))
                .values(status="done", lease_until=None, updated_at=self.now)
            )

    def retry(self, job: Job, error: str, delay: timedelta) -> None:
        """Back to the queue after `delay`, or failed for good when out of attempts."""
        give_up = job.attempts >= job.max_attempts
        self.conn.execute(
            t.jobs.update()
            .where(t.jobs.c.id == job.id)
            .values(
                status="failed" if give_up else "todo",
                run_at=self.now + delay,
                lease_until=None,
                worker=None,
                last_error=error[:2000],
                updated_at=self.now,
            )
        )

    def requeue_expired(self) -> int:
        """Jobs of dead workers (lease not renewed) go back to the queue."""
        # A job waiting under the same dedupe key would collide with the returning one:
        # fold it into the returning job (payloads merged), so no delivery is dropped.
        expired = self.conn.execute(
            sa.select(t.jobs.c.id, t.jobs.c.dedupe_key, t.jobs.c.payload).where(
                t.jobs.c.status == "doing", t.jobs.c.lease_until < self.now
            )
        ).all()
        for row in expired:
            payload = dict(row.payload)
            if row.dedupe_key is not None:
                waiting = self._waiting(row.dedupe_key)
                if waiting is not None:
                    payload = merge_payloads(payload, waiting.payload)
                    self.conn.execute(
                        t.jobs.update()
                        .where(t.jobs.c.id == waiting.id)
                        .values(
                            status="done",
                            last_error=f"merged into job {row.id}",
                            updated_at=self.now,
                        )
                    )
            self.conn.execute(
                t.jobs.update()
                .where(t.jobs.c.id == row.id)
                .values(
                    status="todo",
                    worker=None,
                    lease_until=None,
                    run_at=self.now,
                    payload=payload,
                    updated_at=self.now,
                )
            )
        return len(expired)

    def depth(self) -> dict[str, int]:
        """Waiting jobs per kind."""
        rows = self.conn.execute(
            sa.select(t.jobs.c.kind, sa.func.count())
            .where(t.jobs.c.status == "todo")
            .group_by(t.jobs.c.kind)
        )
        return {row[0]: int(row[1]) for row in rows}

    def purge_done(self, older_than: timedelta) -> int:
        """Delete finished jobs older than `older_than` (keep the table small)."""
        result = self.conn.execute(
            t.jobs.delete().where(
                t.jobs.c.status == "done", t.jobs.c.updated_at < self.now - older_than
            )
        )
        return int(result.rowcount)
