"""The job-queue port: what the service needs from a work queue, and nothing more.

The embedded default (`StoreJobQueue`) keeps jobs in the store itself, so a job is enqueued
in the same transaction as the inbox row or state change that causes it, and completed in
the same transaction as its effects. The same semantics map onto procrastinate for several
replicas on PostgreSQL: `dedupe_key` is its queueing lock, `lock_key` its lock, the lease and
heartbeat its stalled-job recovery, and `enqueue(tx, ...)` its deferral inside the caller's
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from syncd.store.jobs import Job, merge_payloads
from syncd.store.store import Tx  # jobs are enqueued inside the store's transactions

__all__ = ["Job", "JobQueue", "merge_payloads"]


class JobQueue(Protocol):
    """Durable jobs with coalescing, per-key serialization, leases and retries."""

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
        """Add a job inside `tx`. A job with the same `dedupe_key` still waiting absorbs it
        (payloads merged by `merge_payloads`) and its id is returned."""
        ...

    def enqueue_many(
        self, tx: Tx, kind: str, jobs: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """Add many jobs inside `tx`, each `(key, payload)` with the key as dedupe and lock
        key; jobs of one key (here or already waiting) coalesce."""
        ...

    def claim(
        self,
        worker: str,
        *,
        lease: timedelta,
        kinds: Sequence[str] | None = None,
        connectors: Sequence[str] | None = None,
        limit: int = 1,
    ) -> list[Job]:
        """Take up to `limit` due jobs whose lock no running job holds (and distinct locks).

        `kinds` and `connectors` (the payload's `connector`) narrow what is taken: a lane of
        work per tool (procrastinate: a queue per tool).
        """
        ...

    def heartbeat(self, jobs: Sequence[Job], worker: str, lease: timedelta) -> int:
        """Extend the lease of jobs this worker still holds; returns how many it holds."""
        ...

    def complete(self, tx: Tx, jobs: Sequence[Job]) -> None:
        """Mark jobs done inside the transaction that stores their effects."""
        ...

    def retry(self, job: Job, error: str, delay: timedelta) -> None:
        """Put a failed job back for later, or fail it for good past its max attempts."""
        ...

    def requeue_expired(self) -> int:
        """Return jobs whose worker stopped renewing its lease (it died) to the queue."""
        ...

    def depth(self) -> dict[str, int]:
        """Jobs waiting, per kind."""
        ...
