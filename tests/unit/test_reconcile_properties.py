"""Property tests: random histories of edits across three tools, synced through the engine.

Whatever people do, after the dust settles:
- reconciling the same input again yields no new changes (idempotence);
- every linked tool agrees on every two-way field, or the field is in an open conflict;
- so every differing field was applied, pushed or held in conflict: none was dropped.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.reconcile import RecordView
from tests.factories import SOURCES, SYNCED_FIELDS, World, make_world, sqlite_copy

ITEMS = (1, 2)
VALUES: dict[str, list[Any]] = {
    "title": ["Rig hero", "Rig hero v2", "Rig villain"],
    "status": ["open", "doing", "done"],
    "milestone": ["M1", "M2", "M3"],
    "labels": [["x"], ["x", "y"], []],
    "who": ["{s}-u1", "{s}-u2"],
}

edit = st.tuples(
    st.sampled_from(SOURCES),
    st.sampled_from(ITEMS),
    st.sampled_from(sorted(VALUES)),
    st.integers(min_value=0, max_value=2),
)
step = st.one_of(edit, st.just("sync"))


def _value(field: str, index: int, source: str) -> Any:
    options = VALUES[field]
    value = options[index % len(options)]
    return value.format(s=source) if isinstance(value, str) and "{s}" in value else value


def _settle(world: World, rounds: int = 4) -> None:
    for _ in range(rounds):
        report = world.engine.sync()
        if report.changed_fields == 0 and report.pushed == 0:
            return


def _records(world: World) -> list[tuple[str, RecordView]]:
    with world.store.transaction() as tx:
        ids = [r for (r,) in tx.conn.exec_driver_sql("select id from records")]
        views = tx.records.load(ids)
        links = tx.links.of_records(ids)
    out = []
    for rid, view in views.items():
        sources = {row.connector: row.external_id for row in links[rid] if not row.placeholder}
        out.append((str(sources), view))
    return out


def _source_values(world: World, source: str, item: int) -> dict[str, Any]:
    data = world.tools[source].get("item", f"{source}{item}")
    mapping = world.engine.mappings.entity(source, "item")
    people = dict(world.tools[source].users)
    return mapping.pull(data, people).values


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(step, max_size=14))
def test_random_histories_converge(history: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = make_world(sqlite_copy(Path(tmp)), migrate=False)
        try:
            for source in SOURCES:
                for item in ITEMS:
                    world.put(
                        source,
                        item,
                        title="Rig hero",
                        status="open",
                        milestone="M1",
                        labels=["x"],
                        who=f"{source}-u1",
                    )
            world.engine.sync()
            for action in history:
                if action == "sync":
                    world.engine.sync()
                else:
                    source, item, field, index = action
                    world.put(source, item, **{field: _value(field, index, source)})
            _settle(world)

            # Idempotence: one more pass over everything finds nothing to do.
            again = world.engine.sync(full=True)
            assert again.changed_fields == 0 and again.pushed == 0
            assert again.conflicts_opened == 0

            records = _records(world)
            assert len(records) == len(ITEMS)  # linked items are one record each
            for item in ITEMS:
                values = {s: _source_values(world, s, item) for s in SOURCES}
                view = next(v for k, v in records if f"'a': 'a{item}'" in k)
                for field in SYNCED_FIELDS:
                    held = {repr(values[s].get(field)) for s in SOURCES}
                    if field in view.conflicts:
                        continue  # held for a person: allowed to differ
                    assert len(held) == 1, (field, values, view)
                    assert repr(view.value(field)) in held, (field, view)
        finally:
            world.store.close()
