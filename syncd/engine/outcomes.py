"""Storing a reconcile outcome's conflicts and pending writes."""

from __future__ import annotations

from syncd.reconcile import Outcome
from syncd.store.outbox import OutboxStage
from syncd.store.store import Tx


def store_outcome(tx: Tx, record_id: str, outcome: Outcome, outbox: OutboxStage) -> None:
    """Conflicts and pending writes of an outcome (the audit rows are the caller's)."""
    for name, conflict in outcome.opened.items():
        tx.conflicts.open(record_id, name, conflict)
    for name, conflict in outcome.updated.items():
        tx.conflicts.update(record_id, name, conflict)
    for name, value in outcome.closed.items():
        by = outcome.resolved_by or next(
            (c.origin for c in outcome.changes if c.field == name), "agreement"
        )
        tx.conflicts.close(record_id, name, value, by)
    outbox.apply(record_id, outcome.pushes, outcome.cancels)
