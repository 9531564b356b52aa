"""The seeded production through the real path: shipped mappings, the engine, the store.

The tools' records (shaped as the connectors present them) are ingested by the engine with
the shipped mappings, the rollup input is read back from the store (`source.py`), and the
rollups that do not depend on conflict policy (budget: the sheet alone; pipeline: ShotGrid
alone) must equal those computed from the tests' own translation (seeded.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncd.connector import SourceRecord
from syncd.engine import Engine
from syncd.mapping.load import load_mappings
from syncd.rollups.compute import compute_rollups
from syncd.rollups.source import read_rollup_input
from syncd.settings import RollupSettings
from syncd.store.store import Store
from syncd_sandbox.dataset import EPOCH_AT, generate
from syncd_sandbox.production import JiraIssue, Production, SgTask
from tests.factories import sqlite_copy
from tests.rollups.seeded import Translation

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
PAGE = 200


@pytest.fixture(scope="module")
def production() -> Production:
    return generate(seed=7)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(sqlite_copy(tmp_path), clock=lambda: EPOCH_AT)
    yield store
    store.close()


def _sg_task(task: SgTask, production: Production) -> dict[str, Any]:
    step = next(s for s in production.steps if s.id == task.step_id)
    codes = {("Asset", a.id): a.code for a in production.assets}
    codes |= {("Shot", s.id): s.code for s in production.shots}
    return {
        "id": task.id, "type": "Task", "content": task.content, "sg_status_list": task.status,
        "task_assignees": [{"type": "HumanUser", "id": i} for i in task.assignee_ids],
        "step": {"type": "Step", "id": step.id, "name": step.name},
        "sg_milestone": task.milestone,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "est_in_mins": task.est_in_mins, "time_logs_sum": None,
        "entity": {"type": task.entity_type, "id": task.entity_id,
                   "name": codes[(task.entity_type, task.entity_id)]},
        "sg_jira_key": task.jira_key, "updated_at": task.updated_at.isoformat(),
    }  # fmt: skip


def _issue(issue: JiraIssue, production: Production) -> dict[str, Any]:
    people = {p.jira_account_id: p for p in production.people}
    assignee = None
    if issue.assignee_account_id:
        person = people[issue.assignee_account_id]
        assignee = {"accountId": person.jira_account_id}
        if person.jira_email_visible:
            assignee["emailAddress"] = person.email
    return {
        "key": issue.key,
        "fields": {
            "summary": issue.summary, "status": {"name": issue.status}, "assignee": assignee,
            "Department": {"value": issue.department} if issue.department else None,
            "Milestone": {"value": issue.milestone} if issue.milestone else None,
            "duedate": issue.due_date.isoformat() if issue.due_date else None,
            "timeoriginalestimate": issue.original_estimate_seconds,
            "timespent": issue.time_spent_seconds, "labels": list(issue.labels),
            "ShotGrid Task": issue.sg_task_id, "updated": issue.updated.isoformat(),
        },
    }  # fmt: skip


def _rows(tab: Any) -> list[dict[str, Any]]:
    header, *rows = tab.rows
    # Row numbers do not matter here (they only place problem rows): data alone, as pulled.
    return [dict(zip(header, cells, strict=True)) for cells in rows if any(cells)]


def ingest(store: Store, production: Production) -> None:
    engine = Engine(store, {}, load_mappings(MAPPINGS))
    with store.transaction() as tx:
        tx.identities.save(
            "shotgrid", [(str(p.sg_user_id), p.email, None) for p in production.people]
        )
    sources: list[tuple[str, str, list[dict[str, Any]]]] = [
        ("shotgrid", "Asset", [
            {"id": a.id, "type": "Asset", "code": a.code, "sg_asset_type": a.asset_type,
             "sg_status_list": a.status, "description": a.description,
             "updated_at": a.updated_at.isoformat()} for a in production.assets]),
        ("shotgrid", "Shot", [
            {"id": s.id, "type": "Shot", "code": s.code, "sg_status_list": s.status,
             "updated_at": s.updated_at.isoformat()} for s in production.shots]),
        ("shotgrid", "Task", [_sg_task(t, production) for t in production.sg_tasks]),
        ("jira", "issue", [_issue(i, production) for i in production.jira_issues
                           if not i.deleted]),
        ("sheets", "Invoices", _rows(production.invoices)),
        ("sheets", "Budget", _rows(production.budget)),
    ]  # fmt: skip
    for connector, entity, records in sources:
        for start in range(0, len(records), PAGE):
            page = [SourceRecord(entity=entity, data=d) for d in records[start : start + PAGE]]
            engine.ingest(connector, entity, page)


def test_budget_and_pipeline_from_the_store_match_the_translation(store, production):
    ingest(store, production)
    from_store = read_rollup_input(store)
    translated = Translation(production, EPOCH_AT).rollup_input()
    config = RollupSettings(
        milestones={m.name: m.due for m in production.milestones},
        rates={"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067},
        pipeline_steps=[s.name for s in production.steps],
    )
    real, expected = compute_rollups(from_store, config), compute_rollups(translated, config)
    assert real.tab("budget") == expected.tab("budget")
    assert real.tab("pipeline") == expected.tab("pipeline")
    assert len(from_store.tasks) == len(translated.tasks)
    assert len(from_store.invoices) == len(translated.invoices)
    flagged = {(f.connector, f.field, str(f.value)) for e in from_store.entries() for f in e.flags}
    assert {
        ("sheets", "amount", "TBD"),
        ("sheets", "status", "Partially Paid"),
        ("jira", "status", "QA Hold"),
        ("shotgrid", "status", "cbb"),
        ("shotgrid", "pipeline_status", "cbb"),
    } <= flagged
    problems = {row[2]: row[5] for row in real.tab("health").tables[2].rows if row[3] == "amount"}
    assert "INV-2026-0014" in problems
    # Tasks became done when the tool says so: burn rates need the status time.
    done = [e for e in from_store.tasks if e.record.status == "done"]
    assert done and all("status" in e.changed_at for e in done)
    assert sum((e.record.estimate_hours or Decimal(0) for e in done), Decimal(0)) > 0


def test_money_never_converts_an_unknown_currency(production):
    """No CAD rate is configured: CAD invoices are named, not summed."""
    input_data = Translation(production, EPOCH_AT).rollup_input()
    config = RollupSettings(rates={"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067})
    rollups = compute_rollups(input_data, config)
    lines = rollups.tab("budget").tables[0]
    not_counted = [row[-1] for row in lines.rows if row[-1]]
    assert any("CAD" in str(text) and "no rate" in str(text) for text in not_counted)
    cad = sum(
        (e.record.amount or Decimal(0) for e in input_data.invoices if e.record.currency == "CAD"),
        Decimal(0),
    )
    assert cad > 0
