"""The scheduler: puts periodic work on the queue (polls, full re-reads, housekeeping).

It only enqueues, with dedupe keys, so several replicas running a scheduler each still
queue one poll per connector per interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from syncd.jobs.port import JobQueue
from syncd.outage import OutageLog
from syncd.settings import SyncSettings
from syncd.store.store import Store

log = logging.getLogger(__name__)

Monotonic = Callable[[], float]


class Scheduler:
    """Enqueues a poll per connector every interval, a full re-read every so often, and
    returns jobs of dead workers to the queue."""

    def __init__(
        self,
        store: Store,
        queue: JobQueue,
        connectors: Sequence[str],
        settings: SyncSettings,
        *,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.store, self.queue, self.connectors = store, queue, list(connectors)
        self.settings, self._now = settings, monotonic
        self._next_poll: dict[str, float] = {}
        self._next_full: dict[str, float] = {}
        self._next_housekeeping = 0.0
        self._outage = OutageLog(log, "the scheduler")

    def tick(self) -> int:
        """Enqueue whatever is due now; returns how many jobs were queued."""
        now, queued = self._now(), 0
        poll_every = float(self.settings.poll_interval_seconds)
        full_hours = self.settings.full_resync_hours
        with self.store.transaction() as tx:
            for name in self.connectors:
                if now >= self._next_poll.get(name, 0.0):
                    self.queue.enqueue(
                        tx,
                        "poll",
                        {"connector": name, "full": False},
                        dedupe_key=f"poll:{name}",
                        lock_key=f"poll:{name}",
                    )
                    self._next_poll[name] = now + poll_every
                    queued += 1
                if full_hours and now >= self._next_full.get(name, now + full_hours * 3600):
                    self.queue.enqueue(
                        tx,
                        "poll",
                        {"connector": name, "full": True},
                        dedupe_key=f"full:{name}",
                        lock_key=f"poll:{name}",
                    )
                    queued += 1
                if full_hours and (name not in self._next_full or now >= self._next_full[name]):
                    self._next_full[name] = now + full_hours * 3600
        if now >= self._next_housekeeping:
            returned = self.queue.requeue_expired()
            if returned:
                log.warning("returned %d jobs of stopped workers to the queue", returned)
            self._next_housekeeping = now + 15
        return queued

    def trigger(self, connector: str, *, full: bool = False) -> None:
        """Queue a sync of one connector now (admin API, CLI)."""
        with self.store.transaction() as tx:
            key = f"{'full' if full else 'poll'}:{connector}"
            self.queue.enqueue(
                tx,
                "poll",
                {"connector": connector, "full": full},
                dedupe_key=key,
                lock_key=f"poll:{connector}",
            )

    def run(self, stop: threading.Event, *, every: float = 1.0) -> None:
        """Tick until `stop` is set."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # a store outage must not kill the scheduler
                self._outage.failed(exc)  # once per outage, not once a second
            else:
                self._outage.ok()
            stop.wait(every)
