"""`read_rollup_input`: records, sources, flags, conflicts, source errors and runs from the store.

Records get there the real way: source records translated by the shipped mappings and
reconciled by the engine.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from syncd.connector import SourceRecord
from syncd.engine import Engine
from syncd.mapping.load import load_mappings
from syncd.rollups.model import SourceRef
from syncd.rollups.source import ParsedRows, read_rollup_input
from syncd.store import tables as t
from syncd.store.store import Store
from tests.factories import sqlite_copy

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
AT = datetime(2026, 11, 2, 9, tzinfo=UTC)


def sg_task(**changes):
    data = {
        "id": 5001, "type": "Task", "content": "Model", "sg_status_list": "fin",
        "task_assignees": [{"type": "HumanUser", "id": 42, "name": "Zoë"}],
        "step": {"type": "Step", "id": 2, "name": "Model"}, "sg_milestone": "M4",
        "due_date": "2026-12-01", "est_in_mins": 480, "time_logs_sum": 60,
        "entity": {"type": "Asset", "id": 1001, "name": "chr_mira_hero"},
        "sg_jira_key": "HRB-1", "updated_at": "2026-11-01T09:00:00Z",
    }  # fmt: skip
    return SourceRecord(entity="Task", data={**data, **changes})


def issue(key, status, **fields):
    data = {
        "key": key,
        "fields": {
            "summary": f"[chr_mira_hero] Model {key}", "status": {"name": status},
            "assignee": {"accountId": "acc-1", "emailAddress": "zoe@studio.io"},
            "Department": {"value": "Art"}, "Milestone": {"value": "Content Complete"},
            "duedate": "2026-12-01", "timeoriginalestimate": 28800, "timespent": 3600,
            "labels": ["art-pipeline"], "updated": "2026-11-01T10:00:00.000+0000", **fields,
        },
    }  # fmt: skip
    return SourceRecord(entity="issue", data=data)


@pytest.fixture
def store(tmp_path: Path):
    store = Store(sqlite_copy(tmp_path), clock=lambda: AT)
    yield store
    store.close()


def fill(store: Store) -> None:
    engine = Engine(store, {}, load_mappings(MAPPINGS))
    with store.transaction() as tx:
        tx.identities.save("shotgrid", [("42", "zoe@studio.io", "Zoë")])
    engine.ingest("shotgrid", "Task", [sg_task()])
    engine.ingest("jira", "issue", [issue("HRB-1", "In Progress", **{"ShotGrid Task": 5001})])
    engine.ingest("jira", "issue", [issue("HRB-2", "QA Hold")])
    engine.ingest("jira", "issue", [issue("HRB-3", "Done")])
    engine.ingest("jira", "issue", [SourceRecord(entity="issue", data={}, deleted=True,
                                                 external_id="HRB-3")])  # fmt: skip
    asset = {
        "id": 1001,
        "type": "Asset",
        "code": "chr_mira_hero",
        "sg_asset_type": "Character",
        "sg_status_list": "ip",
        "description": "Mira",
        "updated_at": "2026-10-01T00:00:00Z",
    }
    engine.ingest("shotgrid", "Asset", [SourceRecord(entity="Asset", data=asset)])
    row = {
        "Invoice #": "INV-2026-0014",
        "Vendor": "Émile & Fils",
        "Amount": "TBD",
        "Currency": "EUR",
        "Status": "Draft",
        "Issued": "2026-10-01",
        "Due": "31/10/2026",
        "Milestone": "Alpha",
        "Budget Line": "Art Outsourcing (Alpha)",
        "PO": "",
    }
    engine.ingest(
        "sheets",
        "Invoices",
        [
            SourceRecord(entity="Invoices", data=row, row=16),
            SourceRecord(entity="Invoices", data={}, row=11, problem="the row has no Invoice #"),
        ],
    )
    with store.transaction() as tx:
        tx.conn.execute(t.sync_runs.insert(), [
            run("jira", "ok", AT - timedelta(hours=3)),
            run("jira", "failed", AT - timedelta(hours=1), "401 Unauthorized"),
            run("sheets", "ok", AT - timedelta(minutes=5)),
        ])  # fmt: skip


def run(connector, status, started, message=None):
    return {
        "id": str(uuid.uuid4()), "connector": connector, "started_at": started,
        "finished_at": started + timedelta(minutes=1), "status": status, "pulled": 0,
        "changed": 0, "pushed": 0, "errors": 0, "message": message,
    }  # fmt: skip


def test_reads_records_sources_flags_conflicts_errors_and_runs(store):
    fill(store)
    data = read_rollup_input(store)
    assert data.now == AT
    tasks = {e.record.jira_key: e for e in data.tasks}
    assert set(tasks) == {"HRB-1", "HRB-2"}  # HRB-3 was deleted in Jira: gone
    linked = tasks["HRB-1"]
    assert linked.sources == (
        SourceRef("jira", "issue", "HRB-1"),
        SourceRef("shotgrid", "Task", "5001"),
    )
    assert linked.step == "Model"
    assert linked.record.status == "done" and linked.record.pipeline_status == "final"
    assert linked.record.estimate_hours == Decimal(8) and linked.record.milestone == (
        "Content Complete"
    )
    assert linked.changed_at["status"] == datetime(2026, 11, 1, 9, tzinfo=UTC)
    qa_hold = tasks["HRB-2"]
    assert qa_hold.record.status is None and qa_hold.step is None
    [flag] = qa_hold.flags
    assert (flag.connector, flag.field, flag.value, flag.unknown) == (
        "jira", "status", "QA Hold", True,
    )  # fmt: skip
    # The titles differ at link too ("[chr_mira_hero] Model" and "... Model HRB-1"): held.
    assert sorted(c.field for c in data.conflicts) == ["status", "title"]
    [conflict] = [c for c in data.conflicts if c.field == "status"]
    assert (conflict.record_id, conflict.field) == (linked.id, "status")
    assert dict(conflict.candidates) == {"shotgrid": "done", "jira": "in_progress"}
    [inv] = data.invoices
    assert inv.record.amount is None and [f.field for f in inv.flags] == ["amount"]
    [error] = data.source_errors
    assert (error.location, error.message) == ("Invoices row 11", "the row has no Invoice #")
    [asset] = data.assets
    assert asset.record.asset_type == "Character"
    runs = {r.connector: r for r in data.runs}
    assert runs["jira"].status == "failed" and runs["jira"].message == "401 Unauthorized"
    assert runs["jira"].last_success == AT - timedelta(hours=3) + timedelta(minutes=1)
    assert runs["sheets"].status == "ok"


def test_an_empty_store_reads_as_an_empty_input(store):
    data = read_rollup_input(store, now=AT + timedelta(days=1))
    assert data.now == AT + timedelta(days=1)
    assert (data.tasks, data.invoices, data.runs, data.conflicts) == ((), (), (), ())


def test_rows_parsed_last_time_are_reused_only_while_their_text_is_unchanged(store_url):
    store = Store(store_url, clock=lambda: AT)  # JSON read as text: SQLite and PostgreSQL
    fill(store)
    parsed = ParsedRows()
    assert read_rollup_input(store, parsed=parsed) == read_rollup_input(store)
    engine = Engine(store, {}, load_mappings(MAPPINGS))
    # A retitle, a new step in the pipeline tool's data, a deletion, a new record.
    engine.ingest("jira", "issue", [issue("HRB-2", "QA Hold", summary="Renamed")])
    engine.ingest("shotgrid", "Task", [sg_task(step={"type": "Step", "id": 3, "name": "Rig"})])
    engine.ingest("jira", "issue", [SourceRecord(entity="issue", data={}, deleted=True,
                                                 external_id="HRB-2")])  # fmt: skip
    engine.ingest("jira", "issue", [issue("HRB-4", "Done")])
    again = read_rollup_input(store, parsed=parsed)
    assert again == read_rollup_input(store)
    assert {e.record.jira_key for e in again.tasks} == {"HRB-1", "HRB-4"}
    assert next(e for e in again.tasks if e.record.jira_key == "HRB-1").step == "Rig"
    store.close()
