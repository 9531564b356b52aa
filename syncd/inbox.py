"""The inbox: verify a webhook delivery, store it, and queue its work, in one transaction.

Nothing here calls a tool: a delivery is answered as soon as it is durably stored, and the
worker does the rest. Duplicates (a tool's retry, or a replay of a captured delivery) are
recognized by the dedupe key the connector read from what the tool signs, and change nothing.
A delivery the store cannot hold is refused alone; the others of its group are stored.
Deliveries made by syncd's own account are stored (for the record) but queue no work: they
are echoes of its own writes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncd.connector import Connector, WebhookEvent
from syncd.jobs.port import JobQueue
from syncd.outage import OutageLog
from syncd.store.inbox import MAX_DELIVERY_ID, MAX_JOB_KEY, row_fault
from syncd.store.store import Store, Tx

log = logging.getLogger(__name__)

# Headers worth keeping with a delivery (ids, retries, event types); never credentials.
KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "x-atlassian-",
    "x-sg-",
    "webhook-id",
    "webhook-timestamp",
)


@dataclass(frozen=True, slots=True)
class Accepted:
    """What became of one HTTP delivery."""

    stored: int  # new deliveries stored
    duplicates: int  # already had them
    echoes: int  # made by syncd itself: stored, no work queued
    jobs: int  # jobs queued (or coalesced into waiting ones)


def refresh_key(connector: str, entity: str, external_id: str | None) -> str:
    """The dedupe and lock key of a record's refresh (`*`: the whole entity)."""
    return f"{connector}:{entity}:{external_id if external_id is not None else '*'}"


def _kept(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith(KEPT_HEADERS)}


@dataclass
class Delivery:
    """One verified HTTP delivery waiting to be stored."""

    connector: Connector
    headers: Mapping[str, str]
    body: bytes
    events: Sequence[WebhookEvent]


class RefusedDelivery(ValueError):
    """A verified delivery the inbox cannot keep as it is (answered 400; nothing of it stored)."""


Outcome = Accepted | RefusedDelivery


def refusal(delivery: Delivery) -> RefusedDelivery | None:
    """What makes this delivery impossible to store, checked before it joins a group commit
    (one such row would otherwise fail the whole group's insert)."""
    name = delivery.connector.name
    for event in delivery.events:
        ident = event.delivery_id
        if not ident or len(ident) > MAX_DELIVERY_ID or "\x00" in ident:
            what = "empty" if not ident else f"{len(ident)} characters long"
            if ident and "\x00" in ident:
                what = "holding a NUL character"
            return RefusedDelivery(
                f"the {name} delivery id is {what}; an id of 1 to {MAX_DELIVERY_ID} "
                "characters (no NUL) is kept"
            )
        key = refresh_key(name, event.entity, event.external_id)
        if len(key) > MAX_JOB_KEY or "\x00" in key:
            return RefusedDelivery(
                f"the {name} delivery names a record ({event.entity!r}, "
                f"{(event.external_id or '')[:40]!r}...) whose key is over {MAX_JOB_KEY} "
                "characters or holds a NUL character"
            )
    return None


def accept(
    store: Store,
    queue: JobQueue,
    connector: Connector,
    headers: Mapping[str, str],
    body: bytes,
    events: Sequence[WebhookEvent],
) -> Accepted:
    """Store one verified delivery and queue its refreshes (one transaction).

    Raises RefusedDelivery when the delivery cannot be stored as it is.
    """
    [outcome] = accept_many(store, queue, [Delivery(connector, headers, body, events)])
    if isinstance(outcome, RefusedDelivery):
        raise outcome
    return outcome


def accept_many(store: Store, queue: JobQueue, deliveries: Sequence[Delivery]) -> list[Outcome]:
    """Store verified deliveries and queue their refreshes, all in one transaction.

    One inbox row per tool delivery id (a tool's retry is a duplicate and changes nothing),
    and one refresh job per source record, coalesced with a waiting one. A delivery that
    cannot be stored is refused on its own: one checked beforehand (`refusal`) never joins
    the group, and when the database still refuses the group's rows, the group is stored
    again one delivery per savepoint, so only the deliveries it refuses fail. An error that
    is not about the rows (the store is down) is raised: every delivery of the group gets it.
    """
    outcomes: list[Outcome | None] = [refusal(d) for d in deliveries]
    valid = [i for i, outcome in enumerate(outcomes) if outcome is None]
    try:
        with store.transaction() as tx:
            stored: list[Outcome] = list(_store(tx, queue, [deliveries[i] for i in valid]))
    except Exception as exc:
        if row_fault(exc) is None:
            raise
        log.warning(
            "the store refused a group of %d deliveries (%s): storing them one by one",
            len(valid),
            row_fault(exc),
        )
        stored = _store_one_by_one(store, queue, [deliveries[i] for i in valid])
    for index, outcome in zip(valid, stored, strict=True):
        outcomes[index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _store_one_by_one(
    store: Store, queue: JobQueue, deliveries: Sequence[Delivery]
) -> list[Outcome]:
    """Each delivery in a savepoint of one transaction: the ones the database refuses are
    undone and refused, the others committed together."""
    outcomes: list[Outcome] = []
    with store.transaction() as tx:
        for delivery in deliveries:
            try:
                with tx.inbox.savepoint():
                    outcomes.extend(_store(tx, queue, [delivery]))
            except Exception as exc:
                reason = row_fault(exc)
                if reason is None:
                    raise
                log.warning("refused a %s delivery: %s", delivery.connector.name, reason)
                outcomes.append(RefusedDelivery(f"the store refused this delivery ({reason})"))
    return outcomes


def _store(tx: Tx, queue: JobQueue, deliveries: Sequence[Delivery]) -> list[Accepted]:
    """Insert the deliveries' new inbox rows and queue their refreshes in `tx`."""
    rows: list[dict[str, Any]] = []
    plans: list[list[tuple[int, list[WebhookEvent], bool]]] = []
    seen: set[tuple[str, str]] = set()
    for delivery in deliveries:
        kept = _kept(delivery.headers)
        by_id: dict[str, list[WebhookEvent]] = {}
        for event in delivery.events:
            by_id.setdefault(event.delivery_id, []).append(event)
        plan = []
        for delivery_id, events in by_id.items():
            echo = all(
                e.author is not None and e.author == delivery.connector.integration_user
                for e in events
            )
            ident = (delivery.connector.name, delivery_id)
            plan.append((len(rows) if ident not in seen else -1, events, echo))
            if ident not in seen:
                seen.add(ident)
                rows.append(
                    {
                        "connector": delivery.connector.name,
                        "delivery_id": delivery_id,
                        "received_at": tx.now,
                        "headers": kept,
                        "body": delivery.body,
                        "status": "echo" if echo else "new",
                        "attempts": 0,
                        "events": [e.model_dump(mode="json") for e in events],
                    }
                )
        plans.append(plan)
    inserted = tx.inbox.insert_new(rows)
    jobs: list[tuple[str, dict[str, Any]]] = []
    results = []
    for delivery, plan in zip(deliveries, plans, strict=True):
        stored = duplicates = echoes = queued = 0
        for index, events, echo in plan:
            row = rows[index] if index >= 0 else None
            inbox_id = inserted.get((row["connector"], row["delivery_id"])) if row else None
            if inbox_id is None:
                duplicates += 1
                continue
            stored += 1
            if echo:
                echoes += 1
                continue
            for event in events:
                key = refresh_key(delivery.connector.name, event.entity, event.external_id)
                jobs.append(
                    (
                        key,
                        {
                            "connector": delivery.connector.name,
                            "entity": event.entity,
                            "external_id": event.external_id,
                            "inbox": [inbox_id],
                        },
                    )
                )
                queued += 1
        results.append(Accepted(stored, duplicates, echoes, queued))
    queue.enqueue_many(tx, "refresh", jobs)
    return results


class InboxWriter:
    """Group commit: one thread stores whatever deliveries are waiting, in one transaction.

    Each request waits only for the commit that holds its delivery, so many concurrent
    deliveries cost one transaction instead of one each, and SQLite's single writer never
    has to be fought over.
    """

    def __init__(
        self,
        store: Store,
        queue: JobQueue,
        *,
        max_batch: int = 256,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        self.store, self.queue, self.max_batch = store, queue, max_batch
        self._on_stored = on_stored
        self._waiting: list[tuple[Delivery, Callable[[Accepted | BaseException], None]]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._outage = OutageLog(log, "storing webhook deliveries")

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
            self._thread.start()

    async def submit(self, delivery: Delivery) -> Accepted:
        """Store one delivery; returns once it is committed (raises RefusedDelivery for one
        that cannot be stored, anything else when the store failed)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Accepted] = loop.create_future()

        def done(outcome: Accepted | BaseException) -> None:
            def settle() -> None:
                if future.done():
                    return
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

            loop.call_soon_threadsafe(settle)

        with self._cond:
            if self._closed:
                raise RuntimeError("the inbox is closed")
            self._waiting.append((delivery, done))
            self._ensure_thread()
            self._cond.notify()
        return await future

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if not self._waiting and self._closed:
                    return
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
            try:
                results = accept_many(self.store, self.queue, [d for d, _ in batch])
            except Exception as exc:  # the store failed: every waiter gets the error (a 503)
                self._outage.failed(exc)  # once per outage, not once per batch
                for _, done in batch:
                    done(exc)
                continue
            self._outage.ok()
            for (_, done), result in zip(batch, results, strict=True):
                done(result)
            if self._on_stored is not None and any(
                isinstance(r, Accepted) and r.jobs for r in results
            ):
                self._on_stored()

    def close(self) -> None:
        """Store what is waiting, then stop."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)
