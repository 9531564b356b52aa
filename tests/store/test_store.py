"""The store, run on both backends: SQLite (embedded default) and the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from syncd.model import RecordKind
from syncd.reconcile import Change, Conflict, FieldMeta, RecordView
from syncd.store import tables as t
from syncd.store.migrate import upgrade
from syncd.store.store import Store
from tests.factories import make_world

KEY = ("jira", "issue", "HRB-1")


def test_migrations_are_idempotent(store: Store) -> None:
    upgrade(store.engine)  # second run: nothing to do, nothing broken
    names = set(sa.inspect(store.engine).get_table_names())
    assert {
        "records",
        "links",
        "cursors",
        "inbox",
        "outbox",
        "conflicts",
        "audit",
        "mapping_versions",
        "identities",
        "source_errors",
        "sync_runs",
    } <= names


def test_record_roundtrip_keeps_canonical_values(store: Store) -> None:
    at = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    with store.transaction() as tx:
        rid = tx.records.insert(RecordKind.INVOICE)
        view = RecordView(
            kind=RecordKind.INVOICE,
            fields={"amount": "1200.5", "currency": "EUR", "vendor": "Studio Łódź", "issued": None},
            meta={"amount": FieldMeta("sheets", at)},
            flags={"sheets:status": {"value": "On hold?", "reason": "unmapped", "unknown": True}},
        )
        tx.records.save({rid: view})
    with store.transaction() as tx:
        loaded = tx.records.load([rid])[rid]
    assert loaded.fields == view.fields
    assert loaded.meta["amount"].at == at and loaded.meta["amount"].origin == "sheets"
    assert loaded.flags == view.flags


def test_link_is_unique_per_source_record(store: Store) -> None:
    with store.transaction() as tx:
        rid = tx.records.insert(RecordKind.TASK)
        tx.links.insert(KEY, rid)
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.links.insert(KEY, rid)
    with store.transaction() as tx:
        assert list(tx.links.find([KEY])) == [KEY]


def test_failed_transaction_loses_nothing_already_stored(store: Store) -> None:
    with store.transaction() as tx:
        tx.cursors.set("jira", "issue", "c1")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.cursors.set("jira", "issue", "c2")
        tx.records.insert(RecordKind.TASK)
        raise RuntimeError("crash mid-batch")
    with store.transaction() as tx:
        assert tx.cursors.get("jira", "issue") == "c1"
        assert tx.conn.execute(sa.select(sa.func.count()).select_from(t.records)).scalar() == 0


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


def test_people_directory(store: Store) -> None:
    with store.transaction() as tx:
        tx.identities.save("jira", [("acc-1", "Zoe@Studio.example", "Zoë"), ("acc-2", None, "X")])
    with store.transaction() as tx:
        assert tx.identities.emails("jira") == {"acc-1": "zoe@studio.example"}


def test_engine_sync_on_this_backend(store_url: str) -> None:
    world = make_world(store_url)
    try:
        for source in ("a", "b", "c"):
            for item in (1, 2):
                world.put(source, item, title=f"t{item}", status="open")
        world.engine.sync()
        world.put("c", 2, status="done")
        report = world.engine.sync()
        assert report.changed_fields == 1 and report.pushed == 2 and not report.errors
        assert world.tools["a"].get("item", "a2")["status"] == "done"
    finally:
        world.store.close()


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


def test_sqlite_writes_share_one_connection_with_a_larger_page_cache(tmp_path: object) -> None:
    import threading

    from syncd.store.store import WRITER_CACHE_KIB

    store = Store(f"sqlite:///{tmp_path}/writer.sqlite3")
    seen: list[tuple[int, int]] = []

    def write(n: int) -> None:
        with store.transaction() as tx:
            tx.records.insert(RecordKind.TASK)
            cache = tx.conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
            seen.append((id(tx.conn.connection.dbapi_connection), cache))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({conn for conn, _ in seen}) == 1
    assert {cache for _, cache in seen} == {-WRITER_CACHE_KIB}
    with store.snapshot() as tx:  # readers keep SQLite's default cache
        assert tx.conn.exec_driver_sql("PRAGMA cache_size").scalar_one() != -WRITER_CACHE_KIB
    store.close()


def test_a_failed_write_leaves_nothing_and_the_next_one_works(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.records.insert(RecordKind.TASK)
        raise RuntimeError("the page could not be stored")
    with store.transaction() as tx:
        assert tx.conn.exec_driver_sql("select count(*) from records").scalar_one() == 0
        rid = tx.records.insert(RecordKind.TASK)
    with store.transaction() as tx:
        assert tx.records.load([rid])


def test_record_ids_sort_in_the_order_records_were_made() -> None:
    from syncd.store.records import new_record_id

    ids = [new_record_id() for _ in range(2_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
