"""Issues brought up to date from the snapshots Jira's webhooks carry, without a search.

Unit cases build delivery bodies by hand; the engine cases run against the Jira sandbox
(whose webhooks render issues as API v2 does) and count its searches.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.jira import JiraConnector
from connectors.jira.fields import FieldCatalog
from connectors.jira.webhooks import latest_snapshots
from syncd.engine import Engine
from syncd.mapping.load import MappingSet, read_sources
from syncd.store.store import Store
from tests.contract.harness_jira import JiraHarness
from tests.factories import sqlite_copy
from tests.sandbox.test_jira_sandbox import build_production

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
SEARCH = "GET /rest/api/3/search/jql"
FIELDS = ("summary", "updated")


def delivery(
    key: str = "HRB-1",
    *,
    summary: str = "New title",
    updated: str = "2026-03-01T10:00:00.250+0000",
    event: str = "jira:issue_updated",
    **fields: Any,
) -> bytes:
    issue: dict[str, Any] = {
        "id": "10001",
        "key": key,
        "fields": {"summary": summary, "updated": updated},
    }
    issue["fields"].update(fields)
    return json.dumps({"webhookEvent": event, "timestamp": 1, "issue": issue}).encode()


def test_the_newest_snapshot_wins_whatever_the_delivery_order() -> None:
    older = delivery(summary="First", updated="2026-03-01T10:00:00.100+0000")
    newer = delivery(summary="Second", updated="2026-03-01T10:00:00.900+0000")
    out = latest_snapshots([newer, older], {"HRB-1"}, FIELDS)
    assert out["HRB-1"]["fields"]["summary"] == "Second"


@pytest.mark.parametrize(
    "bodies",
    [
        [delivery(event="jira:issue_created")],
        [delivery(), delivery(event="jira:issue_deleted")],
        [delivery(updated="not a time")],
        [delivery(summary="A"), delivery(summary="B")],  # two different states, one moment
    ],
)
def test_what_the_snapshots_cannot_settle_is_left_to_a_search(bodies: list[bytes]) -> None:
    assert latest_snapshots(bodies, {"HRB-1"}, FIELDS) == {}


def test_a_snapshot_must_hold_every_field_read_and_name_a_wanted_issue() -> None:
    assert latest_snapshots([delivery()], {"HRB-1"}, (*FIELDS, "duedate")) == {}
    assert latest_snapshots([delivery(key="HRB-2")], {"HRB-1"}, FIELDS) == {}
    assert latest_snapshots([b"{", delivery()], {"HRB-1"}, FIELDS)


def test_rich_text_fields_are_known_from_the_field_metadata() -> None:
    catalog = FieldCatalog(
        [
            {"id": "description", "name": "Description", "schema": {"system": "description"}},
            {
                "id": "customfield_1",
                "name": "Notes",
                "custom": True,
                "schema": {
                    "type": "string",
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textarea",
                },
            },
            {"id": "summary", "name": "Summary", "schema": {"type": "string"}},
        ]
    )
    assert [catalog.by_id[f].rich for f in ("description", "customfield_1", "summary")] == [
        True,
        True,
        False,
    ]


# -- the engine, against the sandbox ---------------------------------------------------------


@pytest.fixture
def jira() -> Iterator[JiraHarness]:
    harness = JiraHarness(production=build_production(30), page_size=5)
    harness.start()
    yield harness
    harness.stop()


def _engine(jira: JiraHarness, tmp_path: Path) -> tuple[Engine, Store]:
    mappings = MappingSet(read_sources(MAPPINGS), {"jira": dict(JiraConnector.read_only_paths)})
    store = Store(sqlite_copy(tmp_path), migrate=False)
    engine = Engine(store, {"jira": jira.connector()}, mappings)
    assert not engine.sync().errors
    return engine, store


def _stored_title(store: Store, key: str) -> Any:
    with store.transaction() as tx:
        link_key = ("jira", "issue", key)
        record_id = tx.links.find([link_key])[link_key].record_id
        return tx.records.load([record_id])[record_id].value("title")


@pytest.mark.sandbox
def test_a_persons_edit_is_stored_from_the_webhook_snapshot(
    jira: JiraHarness, tmp_path: Path
) -> None:
    engine, store = _engine(jira, tmp_path)
    _, body = jira.webhook("HRB-5")
    searches = jira.calls().get(SEARCH, 0)
    report = engine.refresh("jira", "issue", ["HRB-5"], deliveries=[body])
    assert jira.calls().get(SEARCH, 0) == searches  # no search
    assert report.from_deliveries == 1 and report.changed_fields == 1
    assert _stored_title(store, "HRB-5") == jira.issue("HRB-5")["fields"]["summary"]
    # What the snapshot stored reads as a search would: a re-read finds nothing new.
    again = engine.refresh("jira", "issue", ["HRB-5"])
    assert again.changed_fields == 0
    store.close()


@pytest.mark.sandbox
def test_a_snapshot_no_newer_than_the_stored_issue_means_a_search(
    jira: JiraHarness, tmp_path: Path
) -> None:
    engine, store = _engine(jira, tmp_path)
    _, first = jira.webhook("HRB-8")
    engine.sync()  # the issue is read after the edit: the snapshot is not newer
    searches = jira.calls().get(SEARCH, 0)
    report = engine.refresh("jira", "issue", ["HRB-8"], deliveries=[first])
    assert jira.calls().get(SEARCH, 0) == searches + 1 and report.from_deliveries == 0
    store.close()
