"""The migrations build exactly the schema `tables.py` declares, and the hot outbox
lookups use the indexes meant for them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from syncd.model import RecordKind
from syncd.store import tables as t
from syncd.store.store import Store, Tx


def test_migrations_match_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        drift = [
            d
            for d in compare_metadata(context, t.metadata)
            if not (
                isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version"
            )
        ]
    assert drift == []


def _plan(store: Store, sql: str, params: tuple[object, ...]) -> str:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
    return " | ".join(str(r[-1]) for r in rows)


def test_outbox_lookups_use_their_indexes_at_scale(tmp_path: object) -> None:
    """With 20,000 pending writes (a first sync leaves ~100k), the per-page lookup goes by
    the unique pending index and the due scan reads in index order (no sort)."""
    store = Store(f"sqlite:///{tmp_path}/plan.sqlite3")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    rows = [
        {
            "connector": "jira",
            "entity": "issue",
            "external_id": f"HRB-{i}",
            "record_id": "r",
            "fields": {},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(20_000)
    ]
    with store.transaction() as tx:
        tx.conn.execute(t.outbox.insert(), rows)
        keys = [("jira", "issue", f"HRB-{i}") for i in range(0, 10_000, 50)]
        assert len(tx.outbox.pending(keys)) == len(keys)
        assert len(tx.outbox.due("jira", limit=10)) == 10
    ids = ",".join("?" * 200)
    lookup = _plan(
        store,
        "SELECT * FROM outbox WHERE connector = ? AND entity = ? AND status = 'pending'"
        f" AND external_id IN ({ids})",
        ("jira", "issue", *(f"HRB-{i}" for i in range(200))),
    )
    assert "uq_outbox_pending" in lookup
    due = _plan(
        store,
        "SELECT * FROM outbox WHERE connector = ? AND status = 'pending'"
        " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 10",
        ("jira", "2026-11-24 00:00:00.000000"),
    )
    assert "ix_outbox_due" in due and "TEMP B-TREE" not in due
    store.close()


def test_a_snapshot_neither_waits_for_writers_nor_sees_their_later_commits(store: Store) -> None:
    with store.transaction() as tx:
        first = tx.records.insert(RecordKind.TASK)
    with store.snapshot() as snap:
        assert _record_ids(snap) == {first}
        done = threading.Event()

        def write() -> None:
            with store.transaction() as tx:
                tx.records.insert(RecordKind.TASK)
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        # The writer commits while the snapshot is open (it is not held up)...
        assert done.wait(10), "a writer waited for a snapshot"
        writer.join()
        # ...and the snapshot still shows the store as it was when it began reading.
        assert _record_ids(snap) == {first}
    with store.snapshot() as snap:
        assert len(_record_ids(snap)) == 2


def _record_ids(tx: Tx) -> set[str]:
    return set(tx.conn.execute(sa.select(t.records.c.id)).scalars())


def test_audit_rows_from_before_change_sets_are_read_and_a_downgrade_splits_sets(
    store_url: str,
) -> None:
    from alembic import command

    from syncd.reconcile import Change
    from syncd.store.migrate import alembic_config, upgrade

    store = Store(store_url, migrate=False)
    upgrade(store.engine, "0005")
    now = datetime(2026, 12, 6, tzinfo=UTC)
    legacy = {"record_id": "r1", "origin": "jira", "reason": "pulled", "recorded_at": now}
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO audit (record_id, field, old, new, origin, reason, recorded_at)"
                " VALUES (:record_id, 'status', 'null', '\"todo\"', :origin, :reason, :recorded_at)"
            ),
            legacy,
        )
    upgrade(store.engine)
    with store.transaction() as tx:
        tx.audit.add(
            "r1",
            [
                Change("title", "Rig", "Rig v2", "shotgrid", now, "pulled"),
                Change("status", "todo", "done", "shotgrid", now, "pulled"),
            ],
            mapping_version="v2",
            run_id=None,
        )
        before = [(h["field"], h["old"], h["new"], h["origin"]) for h in tx.audit.history("r1")]
    assert before == [
        ("status", None, "todo", "jira"),
        ("title", "Rig", "Rig v2", "shotgrid"),
        ("status", "todo", "done", "shotgrid"),
    ]
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
        rows = conn.execute(
            sa.text("SELECT field, origin, mapping_version FROM audit ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("status", "jira", None),
        ("title", "shotgrid", "v2"),
        ("status", "shotgrid", "v2"),
    ]
    store.close()
