"""The engine over in-memory tools: linking, three-way merge, policies, echo suppression."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from syncd.store.store import Store
from tests.factories import World, make_world, sqlite_copy


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(sqlite_copy(tmp_path), migrate=False)


def _seed(world: World) -> None:
    for source in ("a", "b", "c"):
        world.put(
            source,
            1,
            title="Rig hero",
            status="open",
            milestone="M1",
            labels=["x"],
            who=f"{source}-u1",
        )
    world.engine.sync()
    world.engine.sync()


def _record_count(store: Store) -> int:
    with store.transaction() as tx:
        return int(tx.conn.exec_driver_sql("select count(*) from records").scalar_one())


def test_linked_items_become_one_record_without_writes(world: World) -> None:
    _seed(world)
    assert _record_count(world.store) == 1
    assert all(not tool.writes for tool in world.tools.values())  # they already agreed


def test_a_change_in_one_tool_reaches_the_others_once(world: World) -> None:
    _seed(world)
    world.put("b", 1, status="doing")
    report = world.engine.sync()
    assert report.changed_fields == 1 and report.pushed == 2
    assert world.tools["a"].get("item", "a1")["status"] == "doing"
    assert world.tools["c"].get("item", "c1")["status"] == "doing"
    # The pushes come back as changed records: echoes, which change nothing and write nothing.
    again = world.engine.sync()
    assert again.changed_fields == 0 and again.pushed == 0
    assert [len(t.writes) for t in world.tools.values()] == [1, 0, 1]


def test_both_sides_change_a_manual_field_opens_a_conflict(world: World) -> None:
    _seed(world)
    world.put("a", 1, status="done")
    world.put("b", 1, status="doing")
    report = world.engine.sync()  # either order: the same conflict
    assert report.conflicts_opened == 1
    with world.store.transaction() as tx:
        [conflict] = tx.conflicts.find()
    assert conflict.field == "status"
    assert conflict.candidates == {"a": "done", "b": "in_progress"}
    assert conflict.base == "todo"
    # Nothing was overwritten while it is open.
    assert world.tools["a"].get("item", "a1")["status"] == "done"
    assert world.tools["b"].get("item", "b1")["status"] == "doing"
    # A person resolves it: every tool gets the decision.
    world.engine.resolve_conflict(conflict.record_id, "status", "done", by="mia@studio.example")
    world.engine.sync()
    assert {world.tools[s].get("item", f"{s}1")["status"] for s in "abc"} == {"done"}
    with world.store.transaction() as tx:
        assert tx.conflicts.find() == []
        [resolved] = tx.conflicts.find(status="resolved")
    assert resolved.resolved_by == "mia@studio.example" and resolved.resolution == "done"


def _pull_in_order(world: World) -> None:
    """Tools one after the other (a sync reads them in parallel, in no fixed order)."""
    for name in ("a", "b", "c"):
        world.engine.sync(only=[name], push=False)


def test_resolving_with_a_new_value_is_audited(world: World) -> None:
    _seed(world)
    world.put("a", 1, status="done")
    world.put("b", 1, status="doing")
    _pull_in_order(world)
    with world.store.transaction() as tx:
        [conflict] = tx.conflicts.find()
    world.engine.resolve_conflict(conflict.record_id, "status", "in_progress", by="mia")
    world.engine.sync()
    assert {world.tools[s].get("item", f"{s}1")["status"] for s in "abc"} == {"doing"}
    with world.store.transaction() as tx:
        history = tx.audit.history(conflict.record_id)
    assert history[-1]["reason"] == "resolved" and history[-1]["origin"] == "mia"
    assert (history[-1]["old"], history[-1]["new"]) == ("done", "in_progress")


def test_owner_wins_keeps_the_owner_value_and_corrects_the_other(world: World) -> None:
    _seed(world)
    world.put("a", 1, milestone="M2")
    world.put("c", 1, milestone="M3")
    world.engine.sync()
    world.engine.sync()
    assert {world.tools[s].get("item", f"{s}1")["milestone"] for s in "abc"} == {"M2"}


def test_latest_wins_takes_the_later_edit(world: World) -> None:
    _seed(world)
    world.put("c", 1, title="Rig hero v2")  # earlier by the tools' (ticking) clocks
    world.put("a", 1, title="Rig hero final")
    world.engine.sync()
    world.engine.sync()
    titles = {world.tools[s].get("item", f"{s}1")["title"] for s in "abc"}
    assert titles == {"Rig hero final"}


def test_unknown_value_is_flagged_not_fatal(world: World) -> None:
    _seed(world)
    world.put("b", 1, status="QA Hold", title="Rig hero (hold)")
    report = world.engine.sync()
    assert not report.errors
    with world.store.transaction() as tx:
        [record] = tx.records.load(
            [r for (r,) in tx.conn.exec_driver_sql("select id from records")]
        ).values()
    assert record.flags["b:status"]["unknown"] is True
    assert "QA Hold" in str(record.flags["b:status"]["reason"])
    assert record.fields["title"] == "Rig hero (hold)"  # the rest still synced
    assert record.fields["status"] == "todo"
    world.put("b", 1, status="done")
    world.engine.sync()
    with world.store.transaction() as tx:
        [record] = tx.records.load(
            [r for (r,) in tx.conn.exec_driver_sql("select id from records")]
        ).values()
    assert "b:status" not in record.flags and record.fields["status"] == "done"


def test_crash_before_commit_replays_the_page(world: World) -> None:
    """A failure while storing a page leaves the cursor behind it; the next sync redoes it."""
    for i in range(1, 8):
        world.put("a", i, title=f"t{i}", status="open")
    original = world.engine._ingest.store_page
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return original(*args, **kwargs)

    world.engine._ingest.store_page = failing  # type: ignore[method-assign]
    report = world.engine.sync(only=["a"])
    assert report.errors and "power cut" in report.errors[0]
    world.engine._ingest.store_page = original  # type: ignore[method-assign]
    world.engine.sync(only=["a"])
    assert _record_count(world.store) == 7
    with world.store.transaction() as tx:
        assert tx.cursors.get("a", "item") == "7"


def test_a_write_never_overwrites_an_edit_made_since_the_last_read(world: World) -> None:
    """Read-compare-write: the tools have no conditional writes, so syncd re-reads first."""
    _seed(world)
    world.put("a", 1, status="done")
    world.engine.sync(only=["a"], push=False)  # a's change is waiting to go to b and c
    world.put("b", 1, status="doing")  # meanwhile, someone edits b (syncd has not read it)
    world.engine.push_pending("b")
    assert world.tools["b"].get("item", "b1")["status"] == "doing"  # not overwritten
    with world.store.transaction() as tx:
        [conflict] = tx.conflicts.find()
    assert conflict.candidates == {"a": "done", "b": "in_progress"}
    world.engine.push_pending("c")  # c was not edited: it gets nothing while in conflict
    assert world.tools["c"].get("item", "c1")["status"] == "open"


def test_pushing_never_queues_behind_another_threads_writes_for_nothing(world: World) -> None:
    """A lane with nothing due answers at once, and opportunistic backlog work gives way
    while another thread writes to the tool (it would otherwise wait out that write)."""
    _seed(world)
    world.put("a", 1, status="done")
    world.engine.sync(only=["a"], push=False)  # a's change is waiting to go to b and c
    lock = world.engine._push.locks["b"]
    with lock:  # another thread is writing to b
        assert world.engine.push_pending("b", wait=False).pushed == 0
        # Nothing due for c's other records: no need to take c's lock to say so.
        with world.engine._push.locks["c"]:
            assert world.engine.push_pending("c", records={"no-such-record"}).pushed == 0
    assert world.engine.push_pending("b").pushed == 1  # the write was only put off
    assert world.tools["b"].get("item", "b1")["status"] == "done"


def test_records_that_turn_out_to_be_one_work_are_merged_with_their_links(world: World) -> None:
    world.put("a", 1, title="Rig hero", status="open", milestone="M1", labels=["x"], who="a-u1")
    world.tools["b"].put("item", {"id": "b1", "title": "Rig hero", "status": "open"})
    world.engine.sync()
    assert _record_count(world.store) == 2  # b1 names no a item yet
    world.put("b", 1, title="Rig hero", status="open")  # now it says it is a1
    world.engine.sync()
    assert _record_count(world.store) == 1
    with world.store.transaction() as tx:
        links = tx.conn.exec_driver_sql("select connector, record_id from links").all()
        owners: dict[str, str] = {str(row[0]): str(row[1]) for row in links}
        (only,) = tx.conn.exec_driver_sql("select id from records").scalars()
    assert owners == {"a": only, "b": only}


def test_the_tools_are_read_side_by_side_and_their_pages_stored_one_at_a_time(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for item in range(1, 8):  # three pages per tool
        for source in ("a", "b", "c"):
            world.put(source, item, title=f"Shot {item}", status="open", milestone="M1")
    inside, most, stored = 0, 0, 0
    lock = threading.Lock()
    ingest = world.engine._ingest.store_page

    def counting_ingest(*args: Any, **kwargs: Any) -> Any:
        nonlocal inside, most, stored
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.002)  # long enough for another reader's page to be waiting
        try:
            return ingest(*args, **kwargs)
        finally:
            with lock:
                inside -= 1
                stored += 1

    monkeypatch.setattr(world.engine._ingest, "store_page", counting_ingest)
    report = world.engine.sync(push=False)
    assert report.pulled == 21 and not report.errors
    assert stored == 9 and most == 1
    assert _record_count(world.store) == 7
