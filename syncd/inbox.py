"""The inbox: verify a webhook delivery, store it, and queue its work, in one transaction.

Nothing here calls a tool: a delivery is answered as soon as it is durably stored, and the
worker does the rest. Duplicates (a tool's retry of the same delivery) are recognized by the
tool's delivery id and change nothing. Deliveries made by syncd's own account are stored
(for the record) but queue no work: they are echoes of its own writes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from syncd.connector import Connector, WebhookEvent
from syncd.jobs.port import JobQueue
from syncd.store import tables as t
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


def _insert(tx: Tx, store: Store, row: dict[str, Any]) -> int | None:
    """Insert a delivery; None when the (connector, delivery id) is already stored."""
    insert = (sqlite.insert if store.is_sqlite else postgresql.insert)(t.inbox)
    statement = (
        insert.values(**row)
        .on_conflict_do_nothing(index_elements=["connector", "delivery_id"])
        .returning(t.inbox.c.id)
    )
    inserted = tx.conn.execute(statement).scalar_one_or_none()
    return None if inserted is None else int(inserted)


def accept(
    store: Store,
    queue: JobQueue,
    connector: Connector,
    headers: Mapping[str, str],
    body: bytes,
    events: Sequence[WebhookEvent],
) -> Accepted:
    """Store verified events (one inbox row per tool delivery id) and queue their refreshes."""
    by_delivery: dict[str, list[WebhookEvent]] = {}
    for event in events:
        by_delivery.setdefault(event.delivery_id, []).append(event)
    stored = duplicates = echoes = jobs = 0
    kept = _kept(headers)
    with store.transaction() as tx:
        for delivery_id, delivery_events in by_delivery.items():
            echo = all(
                e.author is not None and e.author == connector.integration_user
                for e in delivery_events
            )
            row = {
                "connector": connector.name,
                "delivery_id": delivery_id,
                "received_at": tx.now,
                "headers": kept,
                "body": body,
                "status": "echo" if echo else "new",
                "attempts": 0,
                "events": [e.model_dump(mode="json") for e in delivery_events],
            }
            inbox_id = _insert(tx, store, row)
            if inbox_id is None:
                duplicates += 1
                continue
            stored += 1
            if echo:
                echoes += 1
                continue
            for event in delivery_events:
                key = refresh_key(connector.name, event.entity, event.external_id)
                queue.enqueue(
                    tx,
                    "refresh",
                    {
                        "connector": connector.name,
                        "entity": event.entity,
                        "external_id": event.external_id,
                        "inbox": [inbox_id],
                    },
                    dedupe_key=key,
                    lock_key=key,
                )
                jobs += 1
    return Accepted(stored=stored, duplicates=duplicates, echoes=echoes, jobs=jobs)


def mark_done(tx: Tx, inbox_ids: Sequence[int]) -> None:
    """Mark deliveries processed (in the transaction that stored their effects)."""
    if inbox_ids:
        tx.conn.execute(
            t.inbox.update()
            .where(t.inbox.c.id.in_(list(inbox_ids)), t.inbox.c.status == "new")
            .values(status="done", processed_at=tx.now)
        )


def depth(tx: Tx) -> int:
    """Deliveries stored and not yet processed."""
    query = sa.select(sa.func.count()).select_from(t.inbox).where(t.inbox.c.status == "new")
    return int(tx.conn.execute(query).scalar_one())
