"""The audit trail, run on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from syncd.model import RecordKind
from syncd.reconcile import Change
from syncd.store import tables as t
from syncd.store.store import Store


def test_audit_is_append_only_history(store: Store) -> None:
    with store.transaction() as tx:
        rid = tx.records.insert(RecordKind.TASK)
        tx.audit.add(
            rid,
            [
                Change("status", None, "todo", "jira", None, "pulled"),
                Change("status", "todo", "done", "shotgrid", None, "pulled"),
            ],
            mapping_version="abc",
            run_id=None,
        )
    with store.transaction() as tx:
        history = tx.audit.history(rid)
    assert [(h["old"], h["new"], h["origin"]) for h in history] == [
        (None, "todo", "jira"),
        ("todo", "done", "shotgrid"),
    ]
    assert all(h["mapping_version"] == "abc" and h["recorded_at"].tzinfo for h in history)


def test_changes_sharing_origin_reason_and_time_are_one_audit_row(store: Store) -> None:
    at = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    first_read = [
        Change("title", None, "Rig", "jira", at, "pulled"),
        Change("status", None, "todo", "jira", at, "pulled"),
        Change("labels", None, ["rig", "hero"], "jira", at, "pulled"),
    ]
    with store.transaction() as tx:
        rid = tx.records.insert(RecordKind.TASK)
        tx.audit.add(rid, first_read, mapping_version="v1", run_id="run-1")
        tx.audit.add(
            rid,
            [
                Change("status", "todo", "done", "shotgrid", None, "owner_wins"),
                Change("title", "Rig", "Rig v2", "jira", at, "pulled"),
            ],
            mapping_version="v1",
            run_id=None,
        )
    with store.transaction() as tx:
        rows = tx.conn.execute(sa.select(t.audit).where(t.audit.c.record_id == rid)).all()
        history = tx.audit.history(rid)
    assert len(rows) == 3  # the first read, then two changes that differ in origin
    assert [(h["field"], h["old"], h["new"], h["origin"], h["reason"]) for h in history] == [
        ("title", None, "Rig", "jira", "pulled"),
        ("status", None, "todo", "jira", "pulled"),
        ("labels", None, ["rig", "hero"], "jira", "pulled"),
        ("status", "todo", "done", "shotgrid", "owner_wins"),
        ("title", "Rig", "Rig v2", "jira", "pulled"),
    ]
    assert len({h["id"] for h in history[:3]}) == 1
    assert all(h["at"] == at and h["run_id"] == "run-1" for h in history[:3])
