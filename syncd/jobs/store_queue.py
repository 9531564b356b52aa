"""The embedded job queue: the `JobQueue` port over the store's `jobs` table.

Each call that is not given a transaction opens its own; the queries are the store's
(`syncd/store/jobs.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from syncd.jobs.port import Job
from syncd.store.store import Store, Tx


class StoreJobQueue:
    """`JobQueue` over the store's `jobs` table."""

    def __init__(self, store: Store, *, max_attempts: int = 10) -> None:
        self.store, self.max_attempts = store, max_attempts

    def enqueue(
        self,
        tx: Tx,
        kind: str,
        payload: Mapping[str, Any],
        *,
        dedupe_key: str | None = None,
        lock_key: str | None = None,
        delay: timedelta = timedelta(0),
    ) -> int:
        """Add a job in `tx`, or fold it into a waiting job with the same dedupe key."""
        return tx.jobs.enqueue(
            kind,
            payload,
            dedupe_key=dedupe_key,
            lock_key=lock_key,
            delay=delay,
            max_attempts=self.max_attempts,
        )

    def enqueue_many(
        self, tx: Tx, kind: str, jobs: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """Add many keyed jobs in `tx` with three statements, whatever their number."""
        tx.jobs.enqueue_many(kind, jobs, max_attempts=self.max_attempts)

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
        with self.store.transaction() as tx:
            return tx.jobs.claim(
                worker, lease=lease, kinds=kinds, connectors=connectors, limit=limit
            )

    def heartbeat(self, jobs: Sequence[Job], worker: str, lease: timedelta) -> int:
        """Extend leases this worker still holds."""
        if not jobs:
            return 0
        with self.store.transaction() as tx:
            return tx.jobs.heartbeat(jobs, worker, lease)

    def complete(self, tx: Tx, jobs: Sequence[Job]) -> None:
        """Mark jobs done in the transaction of their effects."""
        tx.jobs.complete(jobs)

    def retry(self, job: Job, error: str, delay: timedelta) -> None:
        """Back to the queue after `delay`, or failed for good when out of attempts."""
        with self.store.transaction() as tx:
            tx.jobs.retry(job, error, delay)

    def requeue_expired(self) -> int:
        """Jobs of dead workers (lease not renewed) go back to the queue."""
        with self.store.transaction() as tx:
            return tx.jobs.requeue_expired()

    def depth(self) -> dict[str, int]:
        """Waiting jobs per kind."""
        with self.store.transaction() as tx:
            return tx.jobs.depth()

    def purge_done(self, older_than: timedelta) -> int:
        """Delete finished jobs older than `older_than` (keep the table small)."""
        with self.store.transaction() as tx:
            return tx.jobs.purge_done(older_than)
