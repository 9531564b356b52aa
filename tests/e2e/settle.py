"""When a stack has nothing left to do: no job waiting or running, no write pending, no
rollup waiting (read from the store's tables, not through syncd's own status code)."""

from __future__ import annotations

import sqlalchemy as sa

from syncd.store import tables as t
from syncd_sandbox.stack import Stack


def settled(stack: Stack) -> bool:
    """True when the service has caught up with everything it has been told."""
    with stack.service.store.snapshot() as tx:
        busy = tx.conn.execute(
            sa.select(sa.func.count())
            .select_from(t.jobs)
            .where(t.jobs.c.status.in_(("todo", "doing")))
        ).scalar_one()
        outbox = tx.conn.execute(
            sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.status == "pending")
        ).scalar_one()
    runner = stack.service.rollups
    waiting = runner is not None and runner.publisher.pending is not None
    return busy == 0 and outbox == 0 and not waiting
