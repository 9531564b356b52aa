"""The worker: takes jobs from the queue and does them, one record at a time per record.

Kinds of job:
- `refresh` {connector, entity, external_id, inbox}: a webhook said a record changed. Jobs
  of one connector entity claimed together are refreshed with one fetch; their deliveries
  are marked done in the transaction that stores the result.
- `poll` {connector, full}: an incremental (or full) pull of a connector; catches whatever
  a webhook missed.
- `push` {connector}: write what the outbox holds (also done after every refresh and poll).
- `rollup` {}: recompute the consolidated sheet and write what changed; queued after work
  that changed records, coalesced, and delayed by the flush interval.

Rollups recompute the whole consolidated sheet (seconds of CPU at 5,000 issues): a service
gives them a worker of their own (`kinds=ROLLUP_KINDS`) so that webhooks never wait behind
one. Within a round, the tools are refreshed, then written to, at the same time (their
network waits overlap; their stores serialize on the store's write lock).

A crash anywhere leaves the job `doing` with a lease that runs out; another worker (or this
one, restarted) takes it again. Every step is idempotent, so a replay changes nothing twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

from syncd.connector import Capability
from syncd.engine import Engine, SyncReport
from syncd.errors import AuthError, ConnectorError
from syncd.jobs.port import Job, JobQueue
from syncd.metrics import Metrics
from syncd.outage import OutageLog
from syncd.rollups.runner import RollupRunner
from syncd.store.store import Tx

log = logging.getLogger(__name__)

# Writes per tool per round: what the round changed first, then a slice of the backlog. For
# a tool that takes one record per call (Jira) about a second of its write quota (10 calls
# at Jira's 600 a minute), during which the lane's next webhooks wait (2.5 s of it made
# stored p99 21 s at 100 edits/s, 3.0 s with 1 s); a site granted 3,000 a minute gets 50 a
# round (10 would leave 40 retitles a second behind whatever the quota). For a tool that
# batches, one call's worth (100 ShotGrid updates, a sheet's rows). What does not fit is
# written by the target tool's own lane, oldest first.
WRITE_SECONDS_PER_ROUND = 1.0
WRITE_CALLS_PER_ROUND = 10  # for a tool that names no quota
# Jobs claimed per round. Refreshes of one entity share one fetch (a ShotGrid `_search`
# takes 500 ids, a Jira search 100 keys), so a lane that fell behind during a slow round
# catches up in one more round instead of a claim at a time.
CLAIM_BATCH = 500

JobObserver = Callable[[str, float, SyncReport | None], None]  # kind, seconds, report

SYNC_KINDS = ("refresh", "poll", "push")
ROLLUP_KINDS = ("rollup",)


class Worker:
    """Drains the job queue."""

    def __init__(
        self,
        engine: Engine,
        queue: JobQueue,
        *,
        name: str = "worker-1",
        lease: timedelta = timedelta(seconds=60),
        batch: int = CLAIM_BATCH,
        observe: JobObserver | None = None,
        wake: threading.Event | None = None,
        rollups: RollupRunner | None = None,
        metrics: Metrics | None = None,
        kinds: Sequence[str] | None = None,
        connectors: Sequence[str] | None = None,
    ) -> None:
        self.engine, self.queue, self.name = engine, queue, name
        self.rollups, self.metrics = rollups, metrics
        # What this worker takes: job kinds and tools (None: all). A worker per tool (a
        # lane) keeps one tool's slow moments (a quota wait, a burst of one-by-one writes)
        # from holding up the others' webhooks. Only a worker that takes writes drains a
        # backlog when idle: its own tools'.
        self.kinds = tuple(kinds) if kinds is not None else None
        self.connectors = tuple(connectors) if connectors is not None else None
        self._pushes = self.kinds is None or "push" in self.kinds
        self._changed = False
        self._touched: set[str] = set()
        self._lock = threading.Lock()  # _changed and _touched, set from the round's threads
        self._pool: ThreadPoolExecutor | None = None
        self.lease, self.batch, self._observe = lease, batch, observe
        # Set by the webhook API after it stores a delivery, so work starts at once.
        self.wake = wake or threading.Event()
        # A store or tool outage is logged when it starts and ends, not once per round.
        self._outages: dict[str, OutageLog] = {}

    def run_once(self) -> int:
        """Claim and do one round of jobs; returns how many were taken."""
        jobs = self.queue.claim(
            self.name,
            lease=self.lease,
            kinds=self.kinds,
            connectors=self.connectors,
            limit=self.batch,
        )
        if not jobs:
            return 0
        with _Heartbeat(self.queue, jobs, self.name, self.lease):
            refresh: dict[tuple[str, str], list[Job]] = defaultdict(list)
            for job in jobs:
                if job.kind == "refresh":
                    refresh[(job.payload["connector"], job.payload["entity"])].append(job)
                else:
                    self._run(job.kind, [job], partial(self._other, job))
            by_tool: dict[str, list[Callable[[], None]]] = defaultdict(list)
            for (c, e), group in refresh.items():
                by_tool[c].append(
                    partial(self._run, "refresh", group, partial(self._refresh, c, e, group))
                )
            # One tool's entities in turn (as its pulls go), the tools at the same time.
            self._each(partial(_in_turn, tasks) for tasks in by_tool.values())
            if any(job.kind != "rollup" for job in jobs):
                # A change from one tool is written to the others now: first the records
                # this round changed (ahead of any backlog), then a slice of the backlog.
                touched = frozenset(self._touched)
                self._each(partial(self._push, name, touched) for name in self.engine.connectors)
            self._observe_delivery_latency(jobs)
        self._touched = set()
        if self._changed and self.rollups is not None:
            # One recompute per interval however many changes: coalesced and delayed.
            with self.engine.store.transaction() as tx:
                self.queue.enqueue(
                    tx,
                    "rollup",
                    {},
                    dedupe_key="rollup",
                    lock_key="rollup",
                    delay=self.rollups.interval,
                )
        self._changed = False
        return len(jobs)

    def _each(self, tasks: Iterable[Callable[[], None]]) -> None:
        """Run independent tasks (one per tool) at the same time; re-raise a failure."""
        todo = list(tasks)
        if len(todo) <= 1:
            for task in todo:
                task()
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"{self.name}-tool")
        for future in [self._pool.submit(task) for task in todo]:
            future.result()

    def _own(self, connector: str) -> bool:
        return self.connectors is None or connector in self.connectors

    def _round_writes(self, connector: str) -> int:
        """How many records a round may write to this tool (see WRITE_SECONDS_PER_ROUND)."""
        tool = self.engine.connectors[connector]
        per_call = max(1, tool.records_per_write)
        if per_call > 1:
            return per_call
        rate = tool.write_calls_per_second
        return max(1, round(rate * WRITE_SECONDS_PER_ROUND)) if rate else WRITE_CALLS_PER_ROUND

    def _push(self, connector: str, touched: frozenset[str]) -> None:
        pushed = 0
        limit = self._round_writes(connector)
        if touched:
            pushed += self.engine.push_pending(connector, limit=limit, records=touched).pushed
        if self._own(connector):
            # Opportunistic: not while another lane writes to this tool (that would make
            # this round wait out its read-before-write); idle time drains the rest.
            pushed += self.engine.push_pending(connector, limit=limit, wait=False).pushed
        if pushed:
            with self._lock:
                self._changed = True
            if self.metrics is not None:
                self.metrics.pushed.labels(connector).inc(pushed)

    def _observe_delivery_latency(self, jobs: Sequence[Job]) -> None:
        """Webhook-to-push: from each delivery's arrival to the end of its round's writes."""
        if self.metrics is None:
            return
        inbox = [i for job in jobs if job.kind == "refresh" for i in job.payload.get("inbox", [])]
        if not inbox:
            return
        with self.engine.store.transaction() as tx:
            arrived = tx.inbox.received_at(inbox)
            now = tx.now
        for moment in arrived:
            self.metrics.webhook_to_push_seconds.observe((now - moment).total_seconds())

    def _run(self, kind: str, jobs: Sequence[Job], work: Callable[[], SyncReport]) -> None:
        started = time.perf_counter()
        try:
            report = work()
            with self._lock:
                self._changed |= report.changed_state
                self._touched |= report.touched
        except ConnectorError as exc:
            # Bad credentials will not heal by themselves: retry rarely; the rest soon.
            delay = timedelta(minutes=5) if isinstance(exc, AuthError) else _backoff(jobs[0])
            log.warning("%s job failed, retrying in %s: %s", kind, delay, exc)
            for job in jobs:
                self.queue.retry(job, str(exc), delay)
            report = None
        except Exception as exc:  # the job boundary: keep the worker alive
            log.exception("%s job failed unexpectedly", kind)
            for job in jobs:
                self.queue.retry(job, repr(exc), _backoff(job))
            report = None
        seconds = time.perf_counter() - started
        if self._observe is not None:
            self._observe(kind, seconds, report)
        if self.metrics is not None and report is not None:
            connector = str(jobs[0].payload.get("connector", ""))
            self.metrics.job_seconds.labels(kind).observe(seconds)
            if report.pulled:
                self.metrics.pulled.labels(connector).inc(report.pulled)
            if report.from_deliveries:
                self.metrics.from_deliveries.labels(connector).inc(report.from_deliveries)
            if kind == "poll":
                self.metrics.sync_seconds.labels(connector).observe(seconds)
            if report.conflicts_opened:
                self.metrics.conflicts_opened.inc(report.conflicts_opened)

    def _refresh(self, connector: str, entity: str, jobs: Sequence[Job]) -> SyncReport:
        inbox = [i for job in jobs for i in job.payload.get("inbox", [])]

        def finish(tx: Tx) -> None:
            self.queue.complete(tx, jobs)
            tx.inbox.mark_done(inbox)

        whole = any(job.payload.get("external_id") is None for job in jobs)
        ids = None if whole else sorted({job.payload["external_id"] for job in jobs})
        deliveries: list[bytes] = []
        capabilities = self.engine.connectors[connector].capabilities
        uses = Capability.WEBHOOK_VALUES if ids is not None else Capability.FETCH_DELIVERED
        if uses in capabilities and all(job.payload.get("inbox") for job in jobs):
            # What the deliveries say may spare re-reading the records (the engine decides).
            with self.engine.store.snapshot() as tx:
                deliveries = tx.inbox.bodies(inbox)
        return self.engine.refresh(
            connector, entity, ids, deliveries=deliveries, on_commit=finish, inbox=inbox
        )

    def _other(self, job: Job) -> SyncReport:
        if job.kind == "rollup":
            result = self.rollups.run() if self.rollups is not None else None
            with self.engine.store.transaction() as tx:
                self.queue.complete(tx, [job])
                if result is not None and result.waiting and self.rollups is not None:
                    # Written too recently: come back when the interval allows.
                    due = self.rollups.publisher.next_flush_at() or tx.now
                    self.queue.enqueue(
                        tx,
                        "rollup",
                        {},
                        dedupe_key="rollup",
                        lock_key="rollup",
                        delay=max(due - tx.now, timedelta(0)),
                    )
            return SyncReport()
        connector = job.payload["connector"]
        if job.kind == "poll":
            report = self.engine.pull_connector(
                self.engine.connectors[connector], full=bool(job.payload.get("full"))
            )
        elif job.kind == "push":
            report = self.engine.push_pending(connector)
        else:
            raise ValueError(f"unknown job kind {job.kind!r}")
        with self.engine.store.transaction() as tx:
            self.queue.complete(tx, [job])
        return report

    def _drain_slice(self) -> bool:
        """Push a slice of every connector's backlog; True if anything went out."""
        pushed = 0
        for name in filter(self._own, self.engine.connectors):
            outage = self._outage(f"worker {self.name}: pushing the backlog of {name}")
            try:
                pushed += self.engine.push_pending(name, limit=self._round_writes(name)).pushed
            except Exception as exc:  # the loop boundary: an outage waits for next time
                outage.failed(exc)
            else:
                outage.ok()
        return pushed > 0

    def run(self, stop: threading.Event, *, idle: float = 0.5) -> None:
        """Work until `stop` is set; sleeps (or waits to be woken) when there is nothing."""
        while not stop.is_set():
            outage = self._outage(f"worker {self.name}")
            try:
                taken = self.run_once()
            except Exception as exc:  # the loop boundary: a store outage must not kill the worker
                outage.failed(exc)
                taken = 0
            else:
                outage.ok()
            if not taken:
                # Nothing new: use the quiet time on the backlog (e.g. the first sync's
                # write-backs, or writes waiting for a retry).
                if self._pushes and self._drain_slice():
                    continue
                self.wake.wait(idle)
                self.wake.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _outage(self, what: str) -> OutageLog:
        """The outage state of one of this worker's loops."""
        outage = self._outages.get(what)
        if outage is None:
            outage = self._outages[what] = OutageLog(log, what)
        return outage


def _in_turn(tasks: Sequence[Callable[[], None]]) -> None:
    for task in tasks:
        task()


def _backoff(job: Job) -> timedelta:
    return timedelta(seconds=min(300, 2 ** min(job.attempts, 8)))


class _Heartbeat:
    """Renews the leases of running jobs so a long job is not taken for dead."""

    def __init__(self, queue: JobQueue, jobs: Sequence[Job], worker: str, lease: timedelta):
        self.queue, self.jobs, self.worker, self.lease = queue, jobs, worker, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="heartbeat")

    def _beat(self) -> None:
        while not self._stop.wait(self.lease.total_seconds() / 3):
            try:
                self.queue.heartbeat(self.jobs, self.worker, self.lease)
            except Exception:  # a missed beat only risks a duplicate (idempotent) run
                log.warning("heartbeat failed", exc_info=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
