"""The inbox: verified webhook deliveries, one row per tool delivery id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from syncd.store import tables as t

# The longest texts the inbox and the job queue keep (a longer one fails the insert on
# PostgreSQL): checked before a delivery joins a group commit.


def _length(column: sa.Column[Any]) -> int:
    kind = column.type
    if not isinstance(kind, sa.String) or kind.length is None:
        raise TypeError(f"{column} is not a text column of bounded length")
    return kind.length


MAX_DELIVERY_ID = _length(t.inbox.c.delivery_id)
MAX_JOB_KEY = _length(t.jobs.c.dedupe_key)


def row_fault(exc: BaseException) -> str | None:
    """Why the database refused the rows of a statement, or None when the error is not about
    the rows (the store is unreachable, a lock timed out, a serialization failure): those
    deserve a retry, not a refusal. The reason is the driver's first line, without the
    statement or the values."""
    if not isinstance(exc, sa.exc.DataError | sa.exc.IntegrityError):
        return None
    first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


class Inbox:
    """Queries on the `inbox` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def insert_new(self, rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
        """Insert deliveries, skipping ones already stored; returns the new rows' ids by
        (connector, delivery id)."""
        if not rows:
            return {}
        dialect = sqlite if self.conn.dialect.name == "sqlite" else postgresql
        statement = (
            dialect.insert(t.inbox)
            .on_conflict_do_nothing(index_elements=["connector", "delivery_id"])
            .returning(t.inbox.c.id, t.inbox.c.connector, t.inbox.c.delivery_id)
        )
        result = self.conn.execute(statement, list(rows))
        return {(r.connector, r.delivery_id): int(r.id) for r in result}

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """One delivery's rows (its inbox row and jobs) kept or undone together, apart from
        the rest of the transaction."""
        with self.conn.begin_nested():
            yield

    def mark_done(self, inbox_ids: Sequence[int]) -> None:
        """Mark deliveries processed (in the transaction that stored their effects)."""
        if inbox_ids:
            self.conn.execute(
                t.inbox.update()
                .where(t.inbox.c.id.in_(list(inbox_ids)), t.inbox.c.status == "new")
                .values(status="done", processed_at=self.now)
            )

    def bodies(self, inbox_ids: Sequence[int]) -> list[bytes]:
        """The stored (verified) bodies of these deliveries."""
        if not inbox_ids:
            return []
        query = sa.select(t.inbox.c.body).where(t.inbox.c.id.in_(sorted(set(inbox_ids))))
        return [bytes(body) for body in self.conn.execute(query).scalars() if body]

    def authors(self, inbox_ids: Sequence[int]) -> dict[str | None, str]:
        """Who these deliveries say made the change: the tool's user id by the external id
        an event names (an event saying "deleted" first), and under None the one author of
        the events that name no record (left out when they name several people)."""
        if not inbox_ids:
            return {}
        query = (
            sa.select(t.inbox.c.events)
            .where(t.inbox.c.id.in_(sorted(set(inbox_ids))))
            .order_by(t.inbox.c.id)
        )
        named: dict[str | None, str] = {}
        unnamed: set[str | None] = set()
        for events in self.conn.execute(query).scalars():
            for event in events or []:
                author, external_id = event.get("author"), event.get("external_id")
                if external_id is None:
                    unnamed.add(author)
                elif author and (event.get("deleted") or external_id not in named):
                    named[str(external_id)] = str(author)
        if len(unnamed) == 1 and None not in unnamed:
            named[None] = str(next(iter(unnamed)))
        return named

    def depth(self) -> int:
        """Deliveries stored and not yet processed."""
        query = sa.select(sa.func.count()).select_from(t.inbox).where(t.inbox.c.status == "new")
        return int(self.conn.execute(query).scalar_one())

    def received_at(self, inbox_ids: Sequence[int]) -> list[datetime]:
        """When these deliveries arrived."""
        query = sa.select(t.inbox.c.received_at).where(t.inbox.c.id.in_(list(inbox_ids)))
        return [row.received_at for row in self.conn.execute(query)]
