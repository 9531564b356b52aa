"""The store itself (engine, transactions, migrations), run on both backends: SQLite (embedded
default) and the real PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from syncd.model import RecordKind
from syncd.store import tables as t
from syncd.store.migrate import upgrade
from syncd.store.store import Store
from tests.factories import make_world


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
