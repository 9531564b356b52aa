"""Items 5, 10, 11 and 12 on the real engine and store over in-memory tools: crashes between a
fetched page and its commit, echo loops, a crash between a remote write and marking it sent,
and both sides editing the same field between syncs.

Expected values come from the tools' own data (what a person put there), never from the
store or the engine's report.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.memory import MemoryConfig, MemoryConnector, TickingClock
from syncd.connector import Batch, PushItem, PushResult
from syncd.engine import Engine
from syncd.store.store import Store
from tests.factories import SOURCES, World, item_mappings, sqlite_copy
from tests.reliability.figures import Figures, Record


class Crash(Exception):
    """The process died here (the engine records a failed run and carries on)."""


class CrashingPull(MemoryConnector):
    """A tool whose listing dies after handing over `crash_after` pages (once)."""

    crash_after: int | None = None

    def pull(
        self, entity: str, cursor: str | None, *, fields: Sequence[tuple[str, ...]]
    ) -> Iterator[Batch]:
        """Pages as usual, then a crash where the test said."""
        for n, batch in enumerate(super().pull(entity, cursor, fields=fields)):
            if self.crash_after is not None and n == self.crash_after:
                self.crash_after = None
                raise Crash(f"killed after {n} pages")
            yield batch


class CrashAfterWrite(MemoryConnector):
    """A tool whose push lands, then the process dies before the outbox hears of it."""

    crash_next = False

    def push(self, entity: str, items: Sequence[PushItem]) -> PushResult:
        """Write everything, then die (once) instead of answering."""
        result = super().push(entity, items)
        if self.crash_next:
            self.crash_next = False
            raise Crash("killed after the remote write, before mark-sent")
        return result


def _tools(kind: type[MemoryConnector], page_size: int = 3) -> dict[str, MemoryConnector]:
    clock = TickingClock()
    return {
        name: kind(
            name=name,
            config=MemoryConfig(page_size=page_size),
            clock=clock,
            users={f"{name}-u1": "zoe@studio.example"},
        )
        for name in SOURCES
    }


def _world(directory: Path, tools: dict[str, MemoryConnector]) -> World:
    store = Store(sqlite_copy(directory), migrate=False)
    return World(tools, store, Engine(store, tools, item_mappings()))


def _restart(world: World) -> World:
    """A new engine and store connection over the same database and tools (a restart)."""
    url = str(world.store.engine.url)
    world.store.close()
    store = Store(url, migrate=False)
    return World(world.tools, store, Engine(store, world.tools, item_mappings()))


def _stored_titles(world: World, source: str) -> dict[str, Any]:
    """The title the store holds for each of a tool's items, read with plain SQL."""
    path = world.store.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "select l.external_id, json_extract(r.fields, '$.title') from links l "
            "join records r on r.id = l.record_id where l.connector = ? and not l.deleted",
            (source,),
        ).fetchall()
    return dict(rows)


# -- item 5: cursor safety ------------------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    count=st.integers(1, 40),
    page_size=st.integers(1, 7),
    crashes=st.lists(st.integers(0, 8), min_size=1, max_size=3),
    edits=st.integers(0, 15),
    seed=st.integers(0, 2**16),
)
def test_a_crash_between_a_fetched_page_and_its_commit_skips_no_record(
    count: int, page_size: int, crashes: list[int], edits: int, seed: int
) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        tools = _tools(CrashingPull, page_size)
        world = _world(folder, tools)
        rng = random.Random(seed)
        for n in range(1, count + 1):
            world.put("b", n, title=f"t{n}", status="open")
        for crash in crashes:
            tools["b"].crash_after = crash  # type: ignore[attr-defined]
            world.engine.sync(only=["b"], push=False)
            world = _restart(world)
            for _ in range(edits):  # people keep editing while syncd is down and back
                n = rng.randint(1, count)
                world.put("b", n, title=f"t{n}-{rng.random():.6f}", status="open")
        tools["b"].crash_after = None  # type: ignore[attr-defined]
        world.engine.sync(only=["b"], push=False)
        expected = {key: data["title"] for key, data in tools["b"].all("item").items()}
        assert _stored_titles(world, "b") == expected  # nothing skipped, nothing stale
        world.store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_cursor_safety_figure(tmp_path: Path, figures: Figures, record_property: Record) -> None:
    # The property above is the test; this reruns a fixed case to print a figure.
    tools = _tools(CrashingPull, 4)
    world = _world(tmp_path, tools)
    for n in range(1, 101):
        world.put("b", n, title=f"t{n}", status="open")
    runs = 0
    for crash in range(0, 25, 3):
        tools["b"].crash_after = crash  # type: ignore[attr-defined]
        world.engine.sync(only=["b"], push=False)
        world = _restart(world)
        runs += 1
    world.engine.sync(only=["b"], push=False)
    stored = _stored_titles(world, "b")
    missing = [k for k, v in tools["b"].all("item").items() if stored.get(k) != v["title"]]
    assert missing == []
    figures.report(
        record_property, 5, crashed_runs=runs, randomized_runs=40, records=100, skipped=0
    )
    world.store.close()


# -- item 10: echo loop -----------------------------------------------------------------------


def test_echoes_settle_and_writes_stay_within_the_edits(
    tmp_path: Path, figures: Figures, record_property: Record
) -> None:
    rng = random.Random(10)
    world = _world(tmp_path, _tools(MemoryConnector, page_size=50))
    entities = 100
    for n in range(1, entities + 1):
        for source in SOURCES:
            world.put(source, n, title="start", status="open")
    world.engine.sync()
    world.engine.sync()
    for tool in world.tools.values():
        tool.writes.clear()
    distinct_edits, rounds = 0, 10
    for round_ in range(rounds):
        edited: set[tuple[str, int]] = set()
        for _ in range(100):  # 1,000 edits in all, both sides
            source, n = rng.choice(("a", "b")), rng.randint(1, entities)
            world.put(source, n, title=f"{source}-{round_}-{rng.random():.8f}", status="open")
            edited.add((source, n))
        distinct_edits += len(edited)
        world.engine.sync()
    settle = [sum(len(t.writes) for t in world.tools.values())]
    for _ in range(2):
        world.engine.sync()
        settle.append(sum(len(t.writes) for t in world.tools.values()))
    writes = settle[0]
    per_item = Counter(w.external_id for t in world.tools.values() for w in t.writes)
    # One edit reaches the two other tools: at most two writes per distinct edit.
    assert writes <= 2 * distinct_edits
    assert settle[2] == settle[1] == settle[0], f"still writing after the edits: {settle}"
    titles = {n: {world.tools[s].get("item", f"{s}{n}")["title"] for s in SOURCES} for n in
              range(1, entities + 1)}  # fmt: skip
    assert all(len(t) == 1 for t in titles.values())  # converged
    figures.report(
        record_property, 10, edits=1000, distinct_edits=distinct_edits, writes=writes,
        max_writes_one_item=max(per_item.values()), writes_after_settling=settle[2] - settle[0],
    )  # fmt: skip


# -- item 11: outbox idempotency --------------------------------------------------------------


def test_a_crash_after_the_remote_write_before_mark_sent_duplicates_nothing(
    tmp_path: Path, figures: Figures, record_property: Record
) -> None:
    tools = _tools(CrashAfterWrite, page_size=50)
    world = _world(tmp_path, tools)
    cases = 100
    for n in range(1, cases + 1):
        for source in SOURCES:
            world.put(source, n, title="start", status="open")
    world.engine.sync()
    for tool in tools.values():
        tool.writes.clear()
    for n in range(1, cases + 1):
        world.put("a", n, title=f"edit {n}", status="open")
        tools["b"].crash_next = True  # type: ignore[attr-defined]
        with contextlib.suppress(Crash):  # b's push lands, then the process dies
            world.engine.sync()
        world = _restart(world)
        world.engine.sync()  # the restart retries what it never heard back about
    duplicates = {
        name: [k for k, c in Counter((w.external_id, str(w.payload)) for w in t.writes).items()
               if c > 1]
        for name, t in tools.items()
    }  # fmt: skip
    assert duplicates == {name: [] for name in tools}
    for n in range(1, cases + 1):
        assert {tools[s].get("item", f"{s}{n}")["title"] for s in SOURCES} == {f"edit {n}"}
    figures.report(
        record_property, 11, kills_after_remote_write=cases, remote_duplicates=0,
        writes_to_b=len(tools["b"].writes),
    )  # fmt: skip


# -- item 12: conflicts -----------------------------------------------------------------------


def test_both_sides_editing_between_syncs_never_overwrite_silently(
    tmp_path: Path, figures: Figures, record_property: Record
) -> None:
    world = _world(tmp_path, _tools(MemoryConnector, page_size=50))
    cases = 200
    for n in range(1, cases + 1):
        for source in SOURCES:
            world.put(source, n, title="start", status="open", milestone="M1")
    world.engine.sync()
    for n in range(1, cases + 1):
        # status is `manual` (a conflict for a person); milestone is owned by a.
        world.put("a", n, title="start", status="done", milestone=f"A{n}")
        world.put("b", n, title="start", status="doing", milestone=f"B{n}")
    for _ in range(2):
        world.engine.sync()
    with world.store.transaction() as tx:
        conflicted = {c.record_id for c in tx.conflicts.find(status="open")
                      if c.field == "status"}  # fmt: skip
        links = tx.links.find([("a", "item", f"a{n}") for n in range(1, cases + 1)])
    silent = 0
    for n in range(1, cases + 1):
        statuses = {s: world.tools[s].get("item", f"{s}{n}")["status"] for s in ("a", "b")}
        in_conflict = links[("a", "item", f"a{n}")].record_id in conflicted
        # Silent overwrite: one side's edit replaced by the other's with no conflict held.
        if not in_conflict or statuses != {"a": "done", "b": "doing"}:
            silent += 1
        owner = {world.tools[s].get("item", f"{s}{n}")["milestone"] for s in SOURCES}
        assert owner == {f"A{n}"}, n  # the declared owner's value, everywhere
    assert silent == 0
    figures.report(
        record_property, 12, cases=cases, in_conflict_queue=len(conflicted),
        resolved_by_owner=cases, silent_overwrites=silent,
    )  # fmt: skip
