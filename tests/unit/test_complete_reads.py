"""A complete read (a first or --full sync, a tool without incremental reads) tells what is
gone by leaving it out; problems reported at rows are settled when the rows say otherwise.

On both backends: the store queries behind it (live links seen before a moment, located
problems settled) are plain SQL that SQLite and PostgreSQL must agree on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from syncd.connector import SourceRecord
from syncd.engine.snapshot import Snapshot
from syncd.store.links import LinkRow
from tests.factories import World, make_world


@pytest.fixture
def world(store_url: str) -> Iterator[World]:
    world = make_world(store_url)
    for item in (1, 2, 3):
        world.put("a", item, title=f"Item {item}", status="open", milestone="M1")
    report = world.engine.sync()
    assert not report.errors and report.created == 3
    yield world
    world.store.close()


def _vanish(world: World, external_id: str) -> None:
    """The tool loses a record without saying so (no deleted record in any read)."""
    del world.tools["a"]._records["item"][external_id]


def _link(world: World, external_id: str) -> LinkRow:
    with world.store.transaction() as tx:
        return tx.links.find([("a", "item", external_id)])[("a", "item", external_id)]


def _link_history(world: World, record_id: str) -> list[tuple[Any, ...]]:
    with world.store.transaction() as tx:
        entries = tx.audit.history(record_id)
    return [
        (e["field"], e["old"], e["new"], e["origin"], e["reason"])
        for e in entries
        if str(e["field"]).startswith("link:")
    ]


def test_a_full_read_marks_what_it_no_longer_finds_gone_and_a_return_restores_it(
    world: World,
) -> None:
    _vanish(world, "a2")
    incremental = world.engine.sync()
    assert incremental.deleted == 0 and not _link(world, "a2").deleted  # it cannot tell
    full = world.engine.sync(full=True)
    assert full.deleted == 1
    gone = _link(world, "a2")
    assert gone.deleted and not _link(world, "a1").deleted and not _link(world, "a3").deleted
    assert _link_history(world, gone.record_id) == [
        ("link:a:item:a2", "live", "deleted", "a", "deleted")
    ]
    assert world.engine.sync(full=True).deleted == 0  # already gone: said once

    world.put("a", 2, title="Item 2", status="open", milestone="M1")
    back = world.engine.sync()
    assert back.restored == 1
    assert not _link(world, "a2").deleted and _link(world, "a2").record_id == gone.record_id
    assert [h[4] for h in _link_history(world, gone.record_id)] == ["deleted", "restored"]


def test_links_seen_after_the_read_began_and_empty_reads_mark_nothing(world: World) -> None:
    mapping = world.engine.mappings.entity("a", "item")
    with world.store.transaction() as tx:
        began = tx.now
    # A webhook's refresh links a4 while the complete read is under way: not gone.
    world.put("a", 4, title="Item 4", status="open", milestone="M1")
    world.engine.refresh("a", "item", ["a4"])
    read = Snapshot(mapping, began)
    read.saw([SourceRecord(entity="item", data={"id": e}) for e in ("a1", "a2", "a3")])
    with world.store.transaction() as tx:
        assert read.finish(tx, version=None, run_id=None).deleted == 0
    assert not _link(world, "a4").deleted
    # A read that found nothing at all is more likely a fault: nothing is marked gone.
    with world.store.transaction() as tx:
        later = tx.now
    with world.store.transaction() as tx:
        assert Snapshot(mapping, later).finish(tx, version=None, run_id=None).deleted == 0
    assert not any(_link(world, f"a{n}").deleted for n in (1, 2, 3, 4))


def test_row_problems_are_settled_where_a_read_no_longer_finds_them(world: World) -> None:
    twice = "item rows 7 and 9 have the same id a1"
    page = [
        SourceRecord(entity="item", data={}, external_id="a1", row=7, problem=twice),
        SourceRecord(entity="item", data={}, external_id="a1", row=9, problem=twice),
    ]
    first = world.engine.ingest("a", "item", page)
    assert first.problems == 2
    assert world.engine.ingest("a", "item", page).problems == 0  # seen again: not news

    def open_places() -> list[str]:
        with world.store.transaction() as tx:
            return sorted(e["location"] for e in tx.source_errors.unresolved())

    assert open_places() == ["item row 7", "item row 9"]
    # Row 9 now reads fine (another id): its problem is settled, row 7's is not (not read).
    fixed = SourceRecord(
        entity="item", data={"id": "a3", "title": "Item 3", "status": "open"}, row=9
    )
    assert world.engine.ingest("a", "item", [fixed]).problems == 1
    assert open_places() == ["item row 7"]
    # A complete read that no longer reports row 7 settles it too.
    mapping = world.engine.mappings.entity("a", "item")
    with world.store.transaction() as tx:
        began = tx.now
    read = Snapshot(mapping, began)
    read.saw([SourceRecord(entity="item", data={"id": e}) for e in ("a1", "a2", "a3")])
    with world.store.transaction() as tx:
        assert read.finish(tx, version=None, run_id=None).problems == 1
    assert open_places() == []


def test_who_deleted_is_what_the_deliveries_say_and_no_guess(world: World) -> None:
    def delivery(n: int, *events: dict[str, Any]) -> dict[str, Any]:
        return {
            "connector": "a",
            "delivery_id": f"d{n}",
            "received_at": datetime.now(UTC),
            "headers": {},
            "body": b"{}",
            "status": "new",
            "attempts": 0,
            "events": [{"delivery_id": f"d{n}", "entity": "item", **e} for e in events],
        }

    with world.store.transaction() as tx:
        ids = tx.inbox.insert_new(
            [
                delivery(1, {"external_id": "a1", "author": "a-u1"}),
                delivery(2, {"external_id": "a1", "author": "a-u2", "deleted": True}),
                delivery(3, {"external_id": "a2", "author": "a-u1"}),
                delivery(4, {"external_id": None, "author": "mia@studio.example"}),
            ]
        )
        first = sorted(ids.values())
        # The "deleted" event's author wins for a1; one author for the whole entity.
        assert tx.inbox.authors(first) == {
            "a1": "a-u2",
            "a2": "a-u1",
            None: "mia@studio.example",
        }
        more = tx.inbox.insert_new([delivery(5, {"external_id": None, "author": "a-u1"})])
        # Two people changed the entity: nobody is named for it.
        assert None not in tx.inbox.authors([*first, *more.values()])
