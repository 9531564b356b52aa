"""Conflicts, run on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from syncd.model import RecordKind
from syncd.reconcile import Conflict
from syncd.store.store import Store


def test_one_open_conflict_per_field(store: Store) -> None:
    with store.transaction() as tx:
        rid = tx.records.insert(RecordKind.TASK)
        tx.conflicts.open(rid, "status", Conflict("todo", {"jira": "done", "shotgrid": "review"}))
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.conflicts.open(rid, "status", Conflict("todo", {"jira": "x"}))
    with store.transaction() as tx:
        tx.conflicts.close(rid, "status", "done", "mia")
        tx.conflicts.open(rid, "status", Conflict("done", {"jira": "todo", "shotgrid": "done"}))
        assert len(tx.conflicts.find()) == 1
        assert len(tx.conflicts.find(status=None)) == 2
