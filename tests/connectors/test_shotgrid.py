"""The ShotGrid connector against the ShotGrid sandbox over real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.shotgrid import ShotGridConnector
from syncd.connector import PushItem, SourceRecord
from syncd.engine import Engine
from syncd.errors import AuthError
from syncd.mapping.load import MappingSet, read_sources
from syncd.store.store import Store
from syncd_sandbox.production import SgTask
from tests.contract.harness_shotgrid import ShotGridHarness
from tests.factories import sqlite_copy

pytestmark = pytest.mark.sandbox

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
SEARCH = "POST /api/v1/entity/{entity}/_search"
BATCH = "POST /api/v1/entity/_batch"
AUTH = "POST /api/v1/auth/access_token"


def _pull(
    connector: ShotGridConnector,
    entity: str = "Task",
    cursor: str | None = None,
    fields: Sequence[tuple[str, ...]] = (),
) -> tuple[list[SourceRecord], str | None]:
    """Every record of a pull, and the cursor after it."""
    records: list[SourceRecord] = []
    for batch in connector.pull(entity, cursor, fields=fields):
        records.extend(batch.records)
        cursor = batch.cursor
    return records, cursor


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k) != before.get(k)}


def _mappings() -> MappingSet:
    return MappingSet(read_sources(MAPPINGS), {"shotgrid": dict(ShotGridConnector.read_only_paths)})


# -- reading -------------------------------------------------------------------------------


def test_records_read_the_way_the_shipped_mapping_expects(sg: ShotGridHarness) -> None:
    connector = sg.connector()
    mapping = _mappings().entity("shotgrid", "Task")
    records, _ = _pull(connector, fields=mapping.source_paths())
    people = {p.user_id: p.email for p in connector.people() if p.email}
    by_id = {str(r.external_id): r for r in records}
    planted = sg.production.notes["unmapped_sg_status_task"]
    for external_id, record in by_id.items():
        pulled = mapping.pull(record.data, people)
        issues = {i.field for i in pulled.issues}
        assert issues <= ({"status", "pipeline_status"} if external_id == planted else set())
    task = next(t for t in sg.production.sg_tasks if t.assignee_ids and t.jira_key)
    pulled = mapping.pull(by_id[str(task.id)].data, people)
    person = next(p for p in sg.production.people if p.sg_user_id == task.assignee_ids[0])
    assert pulled.values["title"] == f"[{_code(sg, task)}] {task.content}"  # Jira's convention
    assert pulled.values["assignee"] == person.email.lower()
    assert task.due_date and pulled.values["due_date"] == task.due_date.isoformat()
    assert pulled.values["department"]  # the step's name through the value table
    assert pulled.values["linked_asset"]
    assert [ln.external_id for ln in pulled.links] == [task.jira_key]
    # Only what the mapping reads was asked for.
    assert "start_date" not in by_id[str(task.id)].data


def test_every_link_is_type_id_name(sg: ShotGridHarness) -> None:
    records, _ = _pull(sg.connector())
    data = records[0].data
    assert set(data["step"]) == {"type", "id", "name"}
    assert all(set(a) == {"type", "id", "name"} for a in data["task_assignees"])
    assert data["type"] == "Task" and str(data["id"]) == records[0].external_id


def test_shots_present_their_type_for_the_mapping(sg: ShotGridHarness) -> None:
    mapping = _mappings().entity("shotgrid", "Shot")
    records, _ = _pull(sg.connector(), "Shot", fields=mapping.source_paths())
    assert records and all(mapping.pull(r.data).values["asset_type"] == "shot" for r in records)


def test_a_page_exactly_full_costs_one_more_call_and_no_more(sg: ShotGridHarness) -> None:
    count = len(sg.expected_ids())
    sg.turn_knobs(page_size_cap=count)  # the whole project fits one page exactly
    connector = sg.connector()
    connector.client.retried_access_token()
    before = sg.calls()
    records, _ = _pull(connector)
    assert len(records) == count
    assert _delta(before, sg.calls()) == {SEARCH: 3}  # full page, empty page, trash sweep


def test_an_edit_during_a_pull_skips_nothing(sg: ShotGridHarness) -> None:
    # With page numbers, a record edited mid-pull moves to the end and every row behind it
    # slides one place forward: the next page would skip one. Keyset paging does not.
    connector = sg.connector()
    pages = connector.pull("Task", None, fields=[])
    first = next(pages)
    moved = str(first.records[0].external_id)
    sg.edit_as_person(moved, content="Renamed mid-pull")
    rest = [r for batch in pages for r in batch.records]
    ids = [r.external_id for r in [*first.records, *rest]]
    assert set(ids) == sg.expected_ids()
    assert ids.count(moved) == 2  # read again at the end, with the new content
    assert rest[-1].external_id == moved and rest[-1].data["content"] == "Renamed mid-pull"


def test_many_rows_in_one_second_page_by_id_without_looping(sg: ShotGridHarness) -> None:
    connector = sg.connector()
    _, cursor = _pull(connector)
    targets = sorted(sg.expected_ids())[:25]
    # One _batch is one transaction: all 25 rows get the same updated_at second.
    items = [PushItem(external_id=t, payload={"sg_jira_status": "Done"}) for t in targets]
    assert connector.push("Task", items).written == targets
    before = sg.calls()
    records, after = _pull(connector, cursor=cursor)
    ids = [str(r.external_id) for r in records if not r.deleted]
    assert sorted(ids) == targets  # each once, none missing, across three pages of ten
    assert _delta(before, sg.calls()) == {SEARCH: 4}  # 10 + 10 + 5, then the trash sweep
    assert (
        after is not None and json.loads(after)["updated"] > json.loads(cursor or "{}")["updated"]
    )


def test_incremental_pull_rereads_only_the_overlap(sg: ShotGridHarness) -> None:
    connector = sg.connector()
    _, cursor = _pull(connector)
    records, again = _pull(connector, cursor=cursor)
    assert len(records) < 3  # only rows within overlap_seconds of the newest
    assert again == cursor  # re-reading never moves the cursor back


def test_trashed_rows_come_back_deleted_and_revived_ones_live(sg: ShotGridHarness) -> None:
    connector = sg.connector()
    _, cursor = _pull(connector)
    victim = sorted(sg.expected_ids())[5]
    sg.control.delete(
        f"/_sandbox/entity/Task/{victim}", params={"as": sg.person()}
    ).raise_for_status()
    records, cursor = _pull(connector, cursor=cursor)
    assert [r.external_id for r in records if r.deleted] == [victim]
    assert victim not in {r.external_id for r in records if not r.deleted}
    [fetched] = connector.fetch("Task", [victim], fields=[])
    assert fetched.deleted and fetched.external_id == victim
    sg.control.post(
        f"/_sandbox/entity/Task/{victim}/revive", params={"as": sg.person()}
    ).raise_for_status()
    records, _ = _pull(connector, cursor=cursor)
    assert victim in {r.external_id for r in records if not r.deleted}
    assert not [r for r in records if r.deleted]


def test_fetch_keeps_order_and_reports_missing_rows_deleted(sg: ShotGridHarness) -> None:
    ids = sorted(sg.expected_ids())[:12]  # more than one (capped) page of ten
    asked = [ids[3], "999999", *ids, "not-an-id", ids[3]]
    before = sg.calls()
    records = sg.connector().fetch("Task", asked, fields=[])
    assert [r.external_id for r in records] == list(dict.fromkeys(asked))
    assert {r.external_id for r in records if r.deleted} == {"999999", "not-an-id"}
    assert all(str(r.data["id"]) == r.external_id for r in records if not r.deleted)
    assert _delta(before, sg.calls()).get(SEARCH) == 2


def test_people_are_human_users_by_bare_id(sg: ShotGridHarness) -> None:
    people = list(sg.connector().people())
    expected = {str(p.sg_user_id): p.email for p in sg.production.people}
    assert {p.user_id: p.email for p in people} == expected


def test_integration_user_is_the_scripts_api_user(sg: ShotGridHarness) -> None:
    connector = sg.connector()
    assert connector.integration_user == "ApiUser:1"
    assert sg.calls() == {AUTH: 1}  # read from the token, no search needed


# -- auth ----------------------------------------------------------------------------------


@dataclass
class SharedClock:
    """The sandbox's datetime clock and the connector's seconds clock, moved together or not."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, seconds: float, *, connector: bool = True) -> None:
        self.now += timedelta(seconds=seconds)
        if connector:
            self.seconds += seconds


@pytest.fixture
def timed() -> Iterator[tuple[ShotGridHarness, SharedClock, ShotGridConnector]]:
    clock = SharedClock()
    harness = ShotGridHarness(clock=clock, token_lifetime_seconds=60)
    harness.start()
    connector = harness.make_connector(deps={"clock": clock.monotonic})
    yield harness, clock, connector
    connector.close()
    harness.stop()


def test_token_is_renewed_before_it_expires(
    timed: tuple[ShotGridHarness, SharedClock, ShotGridConnector],
) -> None:
    sg, clock, connector = timed
    target = sorted(sg.expected_ids())[0]
    connector.fetch("Task", [target], fields=[])
    clock.advance(45)  # within the margin (half of a 60 s token): renew first
    before = sg.calls()
    assert not connector.fetch("Task", [target], fields=[])[0].deleted
    assert _delta(before, sg.calls()) == {AUTH: 1, SEARCH: 1}  # no 401 on the way


def test_a_401_reauthenticates_once_and_retries(
    timed: tuple[ShotGridHarness, SharedClock, ShotGridConnector],
) -> None:
    sg, clock, connector = timed
    target = sorted(sg.expected_ids())[0]
    connector.fetch("Task", [target], fields=[])
    clock.advance(61, connector=False)  # the site expired the token before we expected
    before = sg.calls()
    assert not connector.fetch("Task", [target], fields=[])[0].deleted
    assert _delta(before, sg.calls()) == {AUTH: 1, SEARCH: 2}


def test_wrong_script_key_names_the_setting_and_hides_the_key(sg: ShotGridHarness) -> None:
    connector = sg.make_connector(script_key="not-the-key-123")
    try:
        with pytest.raises(AuthError) as caught:
            next(connector.pull("Task", None, fields=[]))
    finally:
        connector.close()
    assert caught.value.setting == "connectors.shotgrid.script_key"
    assert "syncd" in str(caught.value) and "not-the-key-123" not in str(caught.value)


# -- writing -------------------------------------------------------------------------------


def test_one_bad_update_is_rejected_with_the_sites_reason_and_the_rest_written(
    sg: ShotGridHarness,
) -> None:
    connector = sg.connector()
    ids = sorted(sg.expected_ids())[:4]
    items = [
        PushItem(external_id=ids[0], payload={"sg_milestone": "M9"}),
        PushItem(external_id=ids[1], payload={"sg_status_list": "zzz"}),
        PushItem(external_id=ids[2], payload={"sg_milestone": "M9", "est_in_mins": 600}),
        PushItem(external_id="999999", payload={"sg_milestone": "M9"}),
        PushItem(external_id=ids[3], payload={"due_date": "2027-01-05"}),
    ]
    connector.client.retried_access_token()
    before = sg.calls()
    result = connector.push("Task", items)
    assert result.written == [ids[0], ids[2], ids[3]]
    assert set(result.rejected) == {ids[1], "999999"}
    assert "not a valid status" in result.rejected[ids[1]]
    assert "does not exist" in result.rejected["999999"]
    # The site names the failing request: one call per bad update, then the good ones.
    assert _delta(before, sg.calls()) == {BATCH: 3}
    assert sg.sandbox.record("Task", int(ids[2]))["attributes"]["est_in_mins"] == 600
    assert sg.sandbox.record("Task", int(ids[3]))["attributes"]["due_date"] == "2027-01-05"
    assert sg.sandbox.record("Task", int(ids[1]))["attributes"]["sg_status_list"] != "zzz"


def test_pushes_are_batched_and_sets_not_increments(sg: ShotGridHarness) -> None:
    connector = sg.make_connector(batch_size=10)
    try:
        ids = sorted(sg.expected_ids())[:25]
        items = [PushItem(external_id=i, payload={"sg_jira_status": "In Review"}) for i in ids]
        connector.client.retried_access_token()
        before = sg.calls()
        assert connector.push("Task", items).written == ids
        assert connector.push("Task", items).written == ids  # a replay changes nothing
        assert _delta(before, sg.calls()) == {BATCH: 6}  # ceil(25 / 10) per push
    finally:
        connector.close()


# -- webhooks ------------------------------------------------------------------------------


def test_webhooks_name_the_author_and_recognize_our_own_writes(sg: ShotGridHarness) -> None:
    connector = sg.connector()
    target = sorted(sg.expected_ids())[0]
    headers, body = sg.webhook(target)  # a person's edit
    [event] = connector.parse_webhook(headers, body)
    person = sg.production.people[1]
    assert event.author == f"HumanUser:{person.sg_user_id}"
    assert event.delivery_id == json.loads(body)["data"]["delivery_id"]
    assert (event.entity, event.external_id, event.deleted) == ("Task", target, False)

    receiver = sg.receive_webhooks()
    connector.push("Task", [PushItem(external_id=target, payload={"sg_milestone": "M5"})])
    sg.flush_webhooks()
    headers, body = receiver.deliveries[-1]
    [echo] = connector.parse_webhook(headers, body)
    assert echo.author == connector.integration_user  # the engine drops it as an echo


def test_batched_deliveries_and_retirements(sg: ShotGridHarness) -> None:
    connector = sg.connector()
    receiver = sg.receive_webhooks()
    sg.control.put("/_sandbox/webhook/format", json={"batched": True}).raise_for_status()
    target = sorted(sg.expected_ids())[1]
    sg.edit_as_person(target, content="Two fields", sg_milestone="M6")
    sg.control.delete(
        f"/_sandbox/entity/Task/{target}", params={"as": sg.person()}
    ).raise_for_status()
    sg.flush_webhooks()
    events = [e for h, b in receiver.deliveries for e in connector.parse_webhook(h, b)]
    assert [(e.external_id, e.deleted) for e in events] == [
        (target, False),
        (target, False),
        (target, True),
    ]
    assert len({e.delivery_id for e in events}) == 3


# -- a full engine round trip -------------------------------------------------------------


def _code(sg: ShotGridHarness, task: SgTask) -> str:
    """The code of the asset or shot a task is on."""
    codes = {("Asset", a.id): a.code for a in sg.production.assets}
    codes |= {("Shot", s.id): s.code for s in sg.production.shots}
    return codes[(task.entity_type, task.entity_id)]


def test_engine_round_trip_with_the_shipped_mapping(sg: ShotGridHarness, tmp_path: Path) -> None:
    connector = sg.connector()
    store = Store(sqlite_copy(tmp_path), migrate=False)
    engine = Engine(store, {"shotgrid": connector}, _mappings())
    first = engine.sync()
    assert not first.errors and first.created >= len(sg.expected_ids())

    task = next(t for t in sg.production.sg_tasks if t.assignee_ids and t.status == "wtg")
    target = str(task.id)
    with store.transaction() as tx:
        record_id = tx.links.find([("shotgrid", "Task", target)])[
            ("shotgrid", "Task", target)
        ].record_id
    other = next(p for p in sg.production.people if p.sg_user_id not in task.assignee_ids)
    for name, value in (
        ("title", f"[{_code(sg, task)}] Rig the rowboat (from syncd)"),
        ("status", "done"),
        ("assignee", other.email.lower()),
        ("due_date", "2027-02-01"),
        ("estimate_hours", "12"),
    ):
        engine.resolve_conflict(record_id, name, value, by="mia@studio.example")
    pushed = engine.push_pending("shotgrid")
    assert pushed.pushed == 1 and not pushed.errors

    shown = sg.sandbox.record("Task", task.id)
    attributes, links = shown["attributes"], shown["relationships"]
    assert attributes["content"] == "Rig the rowboat (from syncd)"
    assert attributes["sg_status_list"] == "apr"  # `done` is written as apr
    assert attributes["due_date"] == "2027-02-01"
    assert attributes["est_in_mins"] == 720
    assert [a["id"] for a in links["task_assignees"]["data"]] == [other.sg_user_id]

    # Our write comes back on the next pull: an echo, which changes and writes nothing.
    # (pipeline_status is read from the same status code: that one follows, as it should.)
    echo = engine.sync()
    assert not echo.errors
    assert echo.changed_fields == 1 and echo.pushed == 0 and echo.conflicts_opened == 0
    with store.transaction() as tx:
        assert tx.audit.history(record_id)[-1]["field"] == "pipeline_status"
        assert tx.records.load([record_id])[record_id].value("pipeline_status") == "approved"
    assert engine.sync().changed_fields == 0

    # A person's edit in ShotGrid reaches the record.
    sg.edit_as_person(target, content="Renamed in ShotGrid")
    after = engine.sync()
    assert after.changed_fields == 1
    with store.transaction() as tx:
        title = tx.records.load([record_id])[record_id].value("title")
        assert title == f"[{_code(sg, task)}] Renamed in ShotGrid"
    store.close()
