"""Records brought up to date from ShotGrid deliveries, without re-reading them.

Unit cases build event bodies by hand (the shapes of api-fidelity 3.7); the engine cases
run against the ShotGrid sandbox and count its `_search` calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.shotgrid import ShotGridConnector
from connectors.shotgrid.webhooks import apply_events
from syncd.connector import PushItem
from syncd.engine import Engine
from syncd.mapping.load import MappingSet, read_sources
from syncd.store.store import Store
from tests.contract.harness_shotgrid import ShotGridHarness
from tests.factories import sqlite_copy

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
SEARCH = "POST /api/v1/entity/{entity}/_search"
FIELDS = ("content", "sg_status_list", "step", "updated_at")
STORED = {
    "7": {
        "id": 7,
        "type": "Task",
        "content": "Rig the boat",
        "sg_status_list": "ip",
        "step": {"type": "Step", "id": 3, "name": "Rig"},
        "updated_at": "2026-03-01T10:00:00Z",
    }
}


def change(
    attribute: str,
    new: Any,
    *,
    at: str = "2026-03-01 10:00:05.250000",
    event_id: int = 100,
    kind: str = "text",
    record: int = 7,
) -> dict[str, Any]:
    return {
        "event_log_entry_id": event_id,
        "event_type": "Shotgun_Task_Change",
        "operation": "update",
        "entity": {"type": "Task", "id": record},
        "user": {"type": "HumanUser", "id": 88},
        "attribute_name": attribute,
        "meta": {
            "type": "attribute_change",
            "entity_type": "Task",
            "entity_id": record,
            "attribute_name": attribute,
            "field_data_type": kind,
            "old_value": None,
            "new_value": new,
        },
        "created_at": at,
        "delivery_id": f"d-{event_id}",
    }


def body(*events: dict[str, Any], batched: bool = False) -> bytes:
    data: Any = {"deliveries": list(events)} if batched else events[0]
    return json.dumps({"data": data, "timestamp": "2026-03-01T10:00:06Z"}).encode()


def test_a_later_change_is_applied_and_the_clock_moves_to_its_second() -> None:
    out = apply_events("Task", STORED, [body(change("content", "Rig the rowboat"))], FIELDS)
    assert out["7"]["content"] == "Rig the rowboat"
    assert out["7"]["updated_at"] == "2026-03-01T10:00:05Z"
    assert out["7"]["sg_status_list"] == "ip"  # the rest as stored
    assert STORED["7"]["content"] == "Rig the boat"  # the stored data is not touched


def test_events_apply_in_event_log_order_whatever_the_delivery_order() -> None:
    first = change("sg_status_list", "rev", at="2026-03-01 10:00:05.1", event_id=101)
    second = change("sg_status_list", "fin", at="2026-03-01 10:00:07.9", event_id=102)
    out = apply_events("Task", STORED, [body(second), body(first)], FIELDS)
    assert out["7"]["sg_status_list"] == "fin"
    assert out["7"]["updated_at"] == "2026-03-01T10:00:07Z"


def test_a_batched_delivery_changes_several_fields_and_records() -> None:
    stored = {**STORED, "8": {**STORED["7"], "id": 8}}
    events = [
        change("content", "New title", event_id=1),
        change("sg_status_list", "fin", kind="status_list", event_id=2),
        change("content", "Other", record=8, event_id=3),
    ]
    out = apply_events("Task", stored, [body(*events, batched=True)], FIELDS)
    assert (out["7"]["content"], out["7"]["sg_status_list"]) == ("New title", "fin")
    assert out["8"]["content"] == "Other"


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (change("content", "x", at="2026-03-01 10:00:00.900000"), "same second as the read"),
        (change("content", "x", at="2026-03-01 09:59:59.000000"), "older than the read"),
        (change("task_assignees", [], kind="multi_entity"), "multi-entity value"),
        (change("start_date", "2026-03-02 10:00:00 UTC", kind="date_time"), "date_time value"),
        (change("step", {"type": "Step", "id": 4}, kind="entity"), "link without its name"),
        (
            {**change("content", "x"), "meta": {"type": "entity_retirement"}},
            "a retirement",
        ),
        (
            {**change("content", "x"), "meta": {"type": "attribute_change", "warning": "big"}},
            "values dropped from a large payload",
        ),
    ],
)
def test_what_cannot_be_told_for_sure_is_left_to_a_re_read(event: dict[str, Any], why: str) -> None:
    assert apply_events("Task", STORED, [body(event)], FIELDS) == {}, why


def test_one_unusable_event_sends_its_record_to_a_re_read() -> None:
    events = [change("content", "x", event_id=1), change("tags", [], kind="multi_entity")]
    assert apply_events("Task", STORED, [body(*events, batched=True)], FIELDS) == {}


def test_a_link_change_and_a_field_syncd_does_not_read() -> None:
    step = {"type": "Step", "id": 4, "name": "Anim"}
    events = [
        change("step", step, kind="entity", event_id=1),
        change("sg_notes", "hello", event_id=2),  # not read: only the clock moves
    ]
    out = apply_events("Task", STORED, [body(*events, batched=True)], FIELDS)
    assert out["7"]["step"] == step and "sg_notes" not in out["7"]


def test_records_not_stored_or_lacking_a_read_field_are_re_read() -> None:
    event = change("content", "x", record=9)
    assert apply_events("Task", STORED, [body(event)], FIELDS) == {}
    assert apply_events("Task", STORED, [body(change("content", "x"))], (*FIELDS, "due")) == {}
    assert apply_events("Task", STORED, [b"not json", body(change("content", "x"))], FIELDS)


# -- the engine, against the sandbox ---------------------------------------------------------


def _engine(sg: ShotGridHarness, tmp_path: Path) -> tuple[Engine, ShotGridConnector, Store]:
    connector = sg.connector()
    store = Store(sqlite_copy(tmp_path), migrate=False)
    mappings = MappingSet(
        read_sources(MAPPINGS), {"shotgrid": dict(ShotGridConnector.read_only_paths)}
    )
    engine = Engine(store, {"shotgrid": connector}, mappings)
    assert not engine.sync().errors
    return engine, connector, store


def _title(store: Store, task_id: str) -> Any:
    """The task's content as the record holds it (the shipped mapping's title is
    "[<entity code>] <content>")."""
    with store.transaction() as tx:
        key = ("shotgrid", "Task", task_id)
        record_id = tx.links.find([key])[key].record_id
        return str(tx.records.load([record_id])[record_id].value("title")).split("] ", 1)[1]


def _as_after_a_push(store: Store, task_id: str) -> None:
    """What a push records: the stored data is no longer what the tool holds."""
    with store.transaction() as tx:
        key = ("shotgrid", "Task", task_id)
        link = tx.links.find([key])[key]
        link.content_hash = None
        tx.links.save([link], {})


def _searches(sg: ShotGridHarness) -> int:
    return sg.calls().get(SEARCH, 0)


@pytest.mark.sandbox
def test_a_persons_edit_is_stored_from_its_delivery_without_a_read(
    sg: ShotGridHarness, tmp_path: Path
) -> None:
    engine, _, store = _engine(sg, tmp_path)
    target = sorted(sg.expected_ids())[0]
    _, delivered = sg.webhook(target)
    before = _searches(sg)
    report = engine.refresh("shotgrid", "Task", [target], deliveries=[delivered])
    assert _searches(sg) == before  # no `_search`
    assert report.from_deliveries == 1 and report.changed_fields >= 1
    assert _title(store, target) == sg.sandbox.record("Task", int(target))["attributes"]["content"]
    # The same delivery again (a retry) is older than what is stored now: re-read, no change.
    again = engine.refresh("shotgrid", "Task", [target], deliveries=[delivered])
    assert _searches(sg) == before + 1 and again.from_deliveries == 0
    assert again.changed_fields == 0
    store.close()


@pytest.mark.sandbox
def test_after_syncd_wrote_to_a_record_it_is_re_read(sg: ShotGridHarness, tmp_path: Path) -> None:
    engine, connector, store = _engine(sg, tmp_path)
    target = sorted(sg.expected_ids())[1]
    connector.push("Task", [PushItem(external_id=target, payload={"content": "From syncd"})])
    _as_after_a_push(store, target)
    _, delivered = sg.webhook(target)
    before = _searches(sg)
    report = engine.refresh("shotgrid", "Task", [target], deliveries=[delivered])
    assert _searches(sg) == before + 1 and report.from_deliveries == 0
    assert _title(store, target) == sg.sandbox.record("Task", int(target))["attributes"]["content"]
    store.close()


@pytest.mark.sandbox
def test_a_write_between_the_first_look_and_the_store_means_a_re_read(
    sg: ShotGridHarness, tmp_path: Path
) -> None:
    engine, connector, store = _engine(sg, tmp_path)
    target = sorted(sg.expected_ids())[2]
    _, delivered = sg.webhook(target)
    apply = connector.apply_deliveries
    looks: list[int] = []

    def another_lane_writes_in_between(*args: Any, **kwargs: Any) -> dict[str, dict[str, Any]]:
        out = apply(*args, **kwargs)
        looks.append(len(out))
        if len(looks) == 1:
            _as_after_a_push(store, target)
        return out

    connector.apply_deliveries = another_lane_writes_in_between  # type: ignore[method-assign]
    before = _searches(sg)
    report = engine.refresh("shotgrid", "Task", [target], deliveries=[delivered])
    assert looks == [1]  # told at the first look; under the write lock its base is gone
    assert _searches(sg) == before + 1 and report.from_deliveries == 0
    assert _title(store, target) == sg.sandbox.record("Task", int(target))["attributes"]["content"]
    store.close()
