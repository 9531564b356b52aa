"""The Jira connector against the Jira sandbox over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from connectors.jira import JiraConnector
from syncd.connector import PushItem, SourceRecord
from syncd.engine import Engine
from syncd.errors import AuthError
from syncd.mapping.load import MappingSet, read_sources
from syncd.store.store import Store
from syncd_sandbox.jira import DEFAULT_ACCOUNT_ID
from syncd_sandbox.jira.catalog import CustomFieldIds
from tests.contract.harness_jira import JiraHarness
from tests.factories import sqlite_copy
from tests.sandbox.test_jira_sandbox import MIA, ZOE, build_production

pytestmark = pytest.mark.sandbox

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
SEARCH = "GET /rest/api/3/search/jql"
EDIT = "PUT /rest/api/3/issue/{id_or_key}"
GET_ISSUE = "GET /rest/api/3/issue/{id_or_key}"
MOVE = "POST /rest/api/3/issue/{id_or_key}/transitions"
ZONE = "Asia/Kolkata"  # +05:30: a JQL date in the wrong zone would miss edits


@pytest.fixture
def jira() -> Iterator[JiraHarness]:
    """The hand-built production (HRB-1..30, HRB-7 deleted), pages of 5, an Indian time zone."""
    harness = JiraHarness(production=build_production(30), page_size=5, time_zone=ZONE)
    harness.start()
    yield harness
    harness.stop()


def _pull(
    connector: JiraConnector, cursor: str | None = None, fields: Sequence[tuple[str, ...]] = ()
) -> tuple[list[SourceRecord], str | None]:
    records: list[SourceRecord] = []
    for batch in connector.pull("issue", cursor, fields=fields):
        records.extend(batch.records)
        cursor = batch.cursor
    return records, cursor


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k) != before.get(k)}


def _mappings() -> MappingSet:
    return MappingSet(read_sources(MAPPINGS), {"jira": dict(JiraConnector.read_only_paths)})


def _status(jira: JiraHarness, key: str) -> str:
    return str(jira.issue(key)["fields"]["status"]["name"])


def _keys(records: list[SourceRecord]) -> list[str]:
    return [str(r.external_id) for r in records if not r.deleted]


# -- reading -------------------------------------------------------------------------------


def test_issues_read_the_way_the_shipped_mapping_expects(jira: JiraHarness) -> None:
    connector = jira.connector()
    mapping = _mappings().entity("jira", "issue")
    records, _ = _pull(connector, fields=mapping.source_paths())
    people = {p.user_id: p.email for p in connector.people() if p.email}
    by_key = {str(r.external_id): r for r in records}
    assert set(by_key) == jira.expected_ids()
    fields = by_key["HRB-3"].data["fields"]
    # Custom fields by name, never by id; only what the mapping reads (+ updated, issuetype),
    # not the fields syncd only writes ("Pipeline Status").
    assert not [name for name in fields if name.startswith("customfield_")]
    assert set(fields) == {
        "summary", "status", "assignee", "Department", "Milestone", "duedate",
        "timeoriginalestimate", "timespent", "labels", "ShotGrid Task", "updated", "issuetype",
    }  # fmt: skip
    pulled = mapping.pull(by_key["HRB-3"].data, people)
    assert pulled.values["title"] == "Model prop 3"
    assert pulled.values["status"] == "blocked"
    assert pulled.values["department"] == "Art" and pulled.values["milestone"] == "Alpha"
    assert pulled.values["due_date"] == "2026-12-01"
    assert [i.field for i in pulled.issues] == ["assignee"]  # Zoë hides her email
    with_table = mapping.pull(by_key["HRB-3"].data, {**people, ZOE.jira_account_id: ZOE.email})
    assert with_table.values["assignee"] == ZOE.email and not with_table.issues
    assert pulled.links and pulled.links[0].connector == "shotgrid"


def test_the_shotgrid_task_link_is_the_tasks_id(jira: JiraHarness) -> None:
    mapping = _mappings().entity("jira", "issue")
    [record] = jira.connector().fetch("issue", ["HRB-3"], fields=mapping.source_paths())
    assert record.data["fields"]["ShotGrid Task"] == 5003.0  # as Jira sends it
    [link] = mapping.pull(record.data).links
    assert (link.connector, link.entity, link.external_id) == ("shotgrid", "Task", "5003")


def test_custom_field_ids_are_discovered_per_site() -> None:
    ids = CustomFieldIds(sg_task=20001, department=20002, milestone=20003, pipeline_status=20004)
    harness = JiraHarness(production=build_production(8), field_ids=ids)
    harness.start()
    try:
        connector = harness.connector()
        records, _ = _pull(connector)
        fields = {str(r.external_id): r.data["fields"] for r in records}["HRB-3"]
        assert fields["ShotGrid Task"] == 5003.0 and fields["Department"]["value"] == "Art"
        item = PushItem(external_id="HRB-3", payload={"fields": {"Pipeline Status": "Final"}})
        assert connector.push("issue", [item]).written == ["HRB-3"]
        assert harness.issue("HRB-3")["fields"]["customfield_20004"] == "Final"
    finally:
        harness.stop()


@pytest.mark.parametrize(("issues", "pages"), [(11, 3), (10, 2), (9, 2), (1, 1)])
def test_a_full_pull_is_a_batch_per_page_with_a_monotonic_cursor(issues: int, pages: int) -> None:
    production = build_production(issues + (1 if issues >= 7 else 0))  # HRB-7 is deleted
    harness = JiraHarness(production=production, page_size=5)
    harness.start()
    try:
        connector = harness.connector()
        before = harness.calls()
        batches = list(connector.pull("issue", None, fields=[]))
        assert [len(b.records) for b in batches][:-1] == [5] * (pages - 1)
        assert sum(len(b.records) for b in batches) == issues
        cursors = [b.cursor or "" for b in batches]
        assert all(cursors) and cursors == sorted(cursors)
        assert _delta(before, harness.calls())[SEARCH] == pages
    finally:
        harness.stop()


def test_incremental_pull_asks_in_the_accounts_time_zone(jira: JiraHarness) -> None:
    sent: list[str] = []

    def keep_jql(request: httpx.Request) -> None:
        if request.url.path.endswith("/search/jql"):
            sent.append(request.url.params["jql"])

    with httpx.Client(event_hooks={"request": [keep_jql]}) as http:
        connector = jira.new_connector(http=http)
        _, cursor = _pull(connector)
        assert cursor == "2026-10-02T15:30:00.000+00:00"  # HRB-30: T0 + 30 h 30 min, in UTC
        assert sent[0] == 'project in ("HRB") ORDER BY updated ASC, key ASC'
        jira.edit_as_person("HRB-2")
        jira.edit_as_person("HRB-11")
        again, after = _pull(connector, cursor)
    # 15:30 UTC minus the 2 min overlap is 20:58 in Kolkata (+05:30).
    assert sent[-1] == (
        'project in ("HRB") AND updated >= "2026/10/02 20:58" ORDER BY updated ASC, key ASC'
    )
    assert _keys(again) == ["HRB-30", "HRB-2", "HRB-11"]  # the overlap, then the edits
    assert after is not None and cursor is not None and after > cursor


def test_an_edit_during_a_pull_skips_nothing(jira: JiraHarness) -> None:
    connector = jira.connector()
    pages = connector.pull("issue", None, fields=[])
    first = next(pages)
    seen = _keys(first.records)
    jira.edit_as_person(seen[0])  # already read: moves behind the cursor, read again
    jira.edit_as_person("HRB-25")  # not read yet: moves to the end, read once
    rest = [r for batch in pages for r in batch.records]
    keys = seen + _keys(rest)
    assert set(keys) == jira.expected_ids()
    assert keys[-2:] == [seen[0], "HRB-25"] and keys.count("HRB-25") == 1


def test_fetch_reports_deleted_and_unknown_keys_without_blocking_the_others(
    jira: JiraHarness,
) -> None:
    connector = jira.connector()
    before = jira.calls()
    asked = ["HRB-2", "HRB-7", "HRB-1", "HRB-404", "not a key", "HRB-2"]
    records = connector.fetch("issue", asked, fields=[])
    assert [(r.external_id, r.deleted) for r in records] == [
        ("HRB-2", False),
        ("HRB-7", True),
        ("HRB-1", False),
        ("HRB-404", True),
        ("not a key", True),
    ]
    assert records[0].data["fields"]["summary"] == "Model prop 2"
    # One query, refused twice (each refusal names one missing key), then answered.
    assert _delta(before, jira.calls())[SEARCH] == 3


def test_fetch_pages_through_more_keys_than_a_page(jira: JiraHarness) -> None:
    keys = [f"HRB-{n}" for n in range(1, 31) if n != 7]
    records = jira.connector().fetch("issue", keys, fields=[])
    assert _keys(records) == keys


def test_people_have_emails_when_shown_and_the_integration_user_is_myself(
    jira: JiraHarness,
) -> None:
    connector = jira.connector()
    people = {p.user_id: p for p in connector.people()}
    assert people[MIA.jira_account_id].email == MIA.email
    assert people[ZOE.jira_account_id].email is None
    assert people[ZOE.jira_account_id].display_name == ZOE.display_name
    assert connector.integration_user == DEFAULT_ACCOUNT_ID


def test_wrong_token_names_the_setting_and_hides_the_token(jira: JiraHarness) -> None:
    connector = jira.new_connector(config={"api_token": "not-the-token-xyz"})
    with pytest.raises(AuthError) as refused:
        _pull(connector)
    assert refused.value.setting == "connectors.jira.api_token"
    assert "not-the-token-xyz" not in str(refused.value)
    assert connector.integration_user is None  # logged, not raised: webhooks still land


# -- writing -------------------------------------------------------------------------------


def test_a_field_edit_is_one_put(jira: JiraHarness) -> None:
    connector = jira.connector()
    connector.fields_catalog()
    before = jira.calls()
    item = PushItem(
        external_id="HRB-2",
        payload={
            "fields": {
                "summary": "Hero prop",
                "assignee": MIA.jira_account_id,
                "Milestone": {"value": "Alpha"},
                "Department": "Design",
                "duedate": "2027-01-15",
                "labels": ["a", "b"],
            }
        },
    )
    assert connector.push("issue", [item]).written == ["HRB-2"]
    assert _delta(before, jira.calls()) == {EDIT: 1}
    fields = jira.issue("HRB-2")["fields"]
    assert fields["summary"] == "Hero prop" and fields["duedate"] == "2027-01-15"
    assert fields["assignee"]["accountId"] == MIA.jira_account_id
    assert fields["customfield_10031"]["value"] == "Design"
    assert fields["labels"] == ["a", "b"]


def test_status_moves_through_transitions_one_call_each_once_known(jira: JiraHarness) -> None:
    connector = jira.connector()
    _pull(connector)  # the connector now knows each issue's status
    before = jira.calls()
    moves = [PushItem(external_id=k, payload={"fields": {"status": {"name": "Blocked"}}})
             for k in ("HRB-1", "HRB-13", "HRB-19", "HRB-25")]  # fmt: skip
    assert connector.push("issue", moves).written == ["HRB-1", "HRB-13", "HRB-19", "HRB-25"]
    # All four were In Progress: one read of the transitions offered there, then a POST each.
    assert _delta(before, jira.calls()) == {GET_ISSUE: 1, MOVE: 4}
    assert {_status(jira, k) for k in ("HRB-1", "HRB-13", "HRB-19", "HRB-25")} == {"Blocked"}
    # A replay changes nothing: already there (checked afresh, no transition taken).
    before = jira.calls()
    assert connector.push("issue", moves[:1]).written == ["HRB-1"]
    assert _delta(before, jira.calls()) == {GET_ISSUE: 1}


def test_fields_and_status_together_are_two_calls(jira: JiraHarness) -> None:
    connector = jira.connector()
    _pull(connector)
    connector.push(
        "issue",
        [PushItem(external_id="HRB-6", payload={"fields": {"status": {"name": "Blocked"}}})],
    )
    before = jira.calls()
    item = PushItem(
        external_id="HRB-12",  # To Do, like HRB-6: its transitions are known
        payload={"fields": {"summary": "Both", "status": {"name": "Blocked"}}},
    )
    assert connector.push("issue", [item]).written == ["HRB-12"]
    assert _delta(before, jira.calls()) == {EDIT: 1, MOVE: 1}
    assert _status(jira, "HRB-12") == "Blocked"


def test_no_transition_there_rejects_with_a_clear_reason_and_the_rest_is_written(
    jira: JiraHarness,
) -> None:
    connector = jira.connector()
    _pull(connector)
    items = [
        PushItem(external_id="HRB-1", payload={"fields": {"summary": "Still written"}}),
        PushItem(external_id="HRB-2", payload={"fields": {"Milestone": {"value": "Omega"}}}),
        PushItem(external_id="HRB-3", payload={"fields": {"Mood": "happy"}}),
        PushItem(external_id="HRB-7", payload={"fields": {"summary": "gone"}}),
        PushItem(external_id="HRB-5", payload={"fields": {"status": {"name": "Shipped"}}}),
        PushItem(
            external_id="HRB-10",  # Done
            payload={"fields": {"summary": "Written", "status": {"name": "Blocked"}}},
        ),
    ]
    result = connector.push("issue", items)
    assert result.written == ["HRB-1", "HRB-10"]
    assert result.rejected == {
        "HRB-2": "HRB-2: Milestone: Option value 'Omega' is not valid",
        "HRB-3": "HRB-3: no field 'Mood' on this Jira site (fields are matched by id, "
        "custom fields by name)",
        "HRB-7": "HRB-7: the issue does not exist (or syncd's Jira account cannot see it)",
        "HRB-5": "HRB-5: no path from 'QA Hold' to 'Shipped' in workflow 'Software workflow' "
        "(statuses reachable from 'QA Hold': To Do, In Progress, In Review, Blocked, Done)",
    }
    assert jira.issue("HRB-10")["fields"]["summary"] == "Written"
    assert jira.issue("HRB-1")["fields"]["summary"] == "Still written"
    # Done offers only Reopen: Blocked is two hops away, each one audited.
    assert _status(jira, "HRB-10") == "Blocked"
    assert [(s.old, s.new, s.via) for s in result.steps["HRB-10"]] == [
        ("Done", "To Do", "Reopen"),
        ("To Do", "Blocked", "Blocked"),
    ]


def test_a_stale_status_is_corrected_by_reading_afresh(jira: JiraHarness) -> None:
    connector = jira.connector()
    _pull(connector)  # HRB-1 and HRB-13: In Progress
    connector.push(
        "issue",
        [PushItem(external_id="HRB-19", payload={"fields": {"status": {"name": "In Review"}}})],
    )
    jira.control.post(
        "/_sandbox/issues/HRB-1/edit", json={"as": MIA.email, "status": "Done"}
    ).raise_for_status()
    jira.control.post(
        "/_sandbox/issues/HRB-13/edit", json={"as": MIA.email, "status": "Blocked"}
    ).raise_for_status()
    result = connector.push(
        "issue",
        [
            PushItem(external_id="HRB-1", payload={"fields": {"status": {"name": "In Review"}}}),
            PushItem(external_id="HRB-13", payload={"fields": {"status": {"name": "In Review"}}}),
        ],
    )
    # HRB-1 is Done now: the remembered transition is refused, a fresh read finds the way
    # (Reopen, then In Review).
    assert not result.rejected
    assert [(s.old, s.new) for s in result.steps["HRB-1"]] == [
        ("Done", "To Do"),
        ("To Do", "In Review"),
    ]
    assert _status(jira, "HRB-1") == "In Review"
    # HRB-13 is Blocked: the transition into In Review is offered there too, so it lands.
    assert result.written == ["HRB-1", "HRB-13"] and _status(jira, "HRB-13") == "In Review"


def test_pushing_the_same_item_twice_is_harmless(jira: JiraHarness) -> None:
    connector = jira.connector()
    _, cursor = _pull(connector)
    record = jira.sandbox.site.store.find("HRB-9")
    assert record is not None
    before = len(record.histories or [])
    item = PushItem(external_id="HRB-9", payload={"fields": {"summary": "From syncd"}})
    assert connector.push("issue", [item, item]).written == ["HRB-9", "HRB-9"]
    assert jira.sandbox.issue("HRB-9")["fields"]["summary"] == "From syncd"
    assert len(record.histories or []) == before + 1  # a set, not an increment: one change
    echo, _ = _pull(connector, cursor)
    assert [r.data["fields"]["summary"] for r in echo if r.external_id == "HRB-9"] == ["From syncd"]


# -- the engine ----------------------------------------------------------------------------


def _record_id(store: Store, key: str) -> str:
    with store.transaction() as tx:
        return tx.links.find([("jira", "issue", key)])[("jira", "issue", key)].record_id


def test_engine_round_trip_with_the_shipped_mapping(jira: JiraHarness, tmp_path: Path) -> None:
    connector = jira.connector()
    store = Store(sqlite_copy(tmp_path), migrate=False)
    engine = Engine(store, {"jira": connector}, _mappings())
    first = engine.sync()
    assert not first.errors and first.created == len(jira.expected_ids())

    record_id = _record_id(store, "HRB-1")  # In Progress, assigned to Zoë
    for name, value in (
        ("title", "Rig the rowboat (from syncd)"),
        ("status", "review"),
        ("assignee", MIA.email),
        ("milestone", "Alpha"),
        ("labels", ["from-syncd"]),
        ("due_date", "2027-02-01"),
    ):
        engine.resolve_conflict(record_id, name, value, by="mia@studio.example")
    before = jira.calls()
    pushed = engine.push_pending("jira")
    assert pushed.pushed == 1 and pushed.push_rejected == 0 and not pushed.errors
    # One search re-reads the batch first (read-compare-write: nothing edited meanwhile is
    # overwritten); the fields in one edit; the first move out of In Progress reads what
    # it offers first.
    assert _delta(before, jira.calls()) == {SEARCH: 1, EDIT: 1, GET_ISSUE: 1, MOVE: 1}

    fields = jira.issue("HRB-1")["fields"]
    assert fields["summary"] == "Rig the rowboat (from syncd)"
    assert fields["status"]["name"] == "In Review"
    assert fields["assignee"]["accountId"] == MIA.jira_account_id
    assert fields["labels"] == ["from-syncd"] and fields["duedate"] == "2027-02-01"

    # Our write comes back on the next pull: an echo, which changes and writes nothing.
    echo = engine.sync()
    assert not echo.errors
    assert echo.changed_fields == 0 and echo.pushed == 0 and echo.conflicts_opened == 0

    # A person's edit in Jira reaches the record.
    jira.edit_as_person("HRB-1", summary="Renamed in Jira")
    after = engine.sync()
    assert after.changed_fields == 1 and not after.errors
    with store.transaction() as tx:
        assert tx.records.load([record_id])[record_id].value("title") == "Renamed in Jira"
    store.close()


def test_engine_refresh_by_webhook_fetches_the_issue(jira: JiraHarness, tmp_path: Path) -> None:
    connector = jira.connector()
    store = Store(sqlite_copy(tmp_path), migrate=False)
    engine = Engine(store, {"jira": connector}, _mappings())
    engine.sync()
    headers, body = jira.webhook("HRB-5")
    [event] = connector.parse_webhook(headers, body)
    assert (event.external_id, event.author) == ("HRB-5", jira.production.people[1].jira_account_id)
    report = engine.refresh("jira", "issue", [event.external_id or ""])
    assert report.changed_fields == 1
    jira.sandbox.delete_issue("HRB-6", as_user=MIA.email)
    gone = engine.refresh("jira", "issue", ["HRB-6"])
    assert not gone.errors
    with store.transaction() as tx:
        assert tx.links.find([("jira", "issue", "HRB-6")])[("jira", "issue", "HRB-6")].deleted
    store.close()
