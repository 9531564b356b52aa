"""The outbox, run on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from syncd.store import tables as t
from syncd.store.store import Store

KEY = ("jira", "issue", "HRB-1")


def test_outbox_coalesces_per_source_record(store: Store) -> None:
    with store.transaction() as tx:
        tx.outbox.enqueue(KEY, "r1", {"status": "done"})
        tx.outbox.enqueue(KEY, "r1", {"title": "New", "status": "review"})
        [row] = tx.outbox.due("jira")
        assert row.fields == {"status": "review", "title": "New"}
        tx.outbox.cancel(KEY, ["title"])
        [row] = tx.outbox.due("jira")
        assert row.fields == {"status": "review"}
    # A value changed while the push was in flight stays pending; the written one is done.
    with store.transaction() as tx:
        tx.outbox.enqueue(KEY, "r1", {"status": "blocked", "title": "Newer"})
        tx.outbox.complete(row.id, {"status": "review", "title": "Newer"})
        [left] = tx.outbox.due("jira")
        assert left.fields == {"status": "blocked"}
        tx.outbox.complete(left.id, {"status": "blocked"})
        assert tx.outbox.due("jira") == []


def test_one_pending_outbox_row_per_source_record(store: Store) -> None:
    now = datetime.now(UTC)
    row = {
        "connector": "jira",
        "entity": "issue",
        "external_id": "HRB-1",
        "record_id": "r",
        "fields": {},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    with store.transaction() as tx:
        tx.conn.execute(t.outbox.insert().values(**row))
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.conn.execute(t.outbox.insert().values(**row))
    with store.transaction() as tx:  # a done row does not block a new pending one
        tx.conn.execute(t.outbox.insert().values(**{**row, "status": "done"}))


def test_failed_push_is_retried_later_or_given_up(store: Store) -> None:
    with store.transaction() as tx:
        tx.outbox.enqueue(KEY, "r1", {"status": "done"})
        [row] = tx.outbox.due("jira")
        tx.outbox.fail(row.id, "503 from Jira", retry_in=timedelta(minutes=5))
        assert tx.outbox.due("jira") == []  # not due yet
    with store.transaction() as tx:
        tx.outbox.fail(row.id, "400: field cannot be set", retry_in=None)
        status = tx.conn.execute(sa.select(t.outbox.c.status, t.outbox.c.attempts)).one()
    assert tuple(status) == ("failed", 2)
