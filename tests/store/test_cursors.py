"""Cursors and sync runs, run on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncd.store.store import Store

T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def test_a_cursor_moves_and_starts_unset(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.cursors.get("jira", "issue") is None
        tx.cursors.set("jira", "issue", "2026-03-14T09:00")
        tx.cursors.set("jira", "issue", "2026-03-14T10:00")
    with store.transaction() as tx:
        assert tx.cursors.get("jira", "issue") == "2026-03-14T10:00"
        assert tx.cursors.get("jira", "epic") is None


def test_runs_report_latest_failure_and_last_success(store_url: str) -> None:
    times = iter([T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), T0 + timedelta(3)])
    store = Store(store_url, clock=lambda: next(times))
    try:
        with store.transaction() as tx:
            tx.runs.start("a", "jira")
        with store.transaction() as tx:
            tx.runs.finish("a", status="ok", pulled=3, changed=2, errors=0, message=None)
        with store.transaction() as tx:
            tx.runs.start("b", "jira")
        with store.transaction() as tx:
            tx.runs.finish("b", status="failed", pulled=0, changed=0, errors=1, message="boom")
            assert [r.id for r in tx.runs.recent("jira", limit=5)] == ["b", "a"]
            failure = tx.runs.latest("jira", status="failed")
            assert failure is not None and failure.message == "boom" and failure.errors == 1
            assert tx.runs.latest("jira", status="ok") == tx.runs.recent("jira", limit=5)[1]
            assert tx.runs.last_success("jira") == T0 + timedelta(minutes=1)
            assert tx.runs.count_by_status("jira", T0) == {"ok": 1, "failed": 1}
            assert [r.id for r in tx.runs.latest_per_connector()] == ["b"]
            assert tx.runs.last_success_per_connector() == {"jira": T0 + timedelta(minutes=1)}
            assert tx.runs.latest("sheets") is None
    finally:
        store.close()
