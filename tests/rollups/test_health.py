"""Sync health: connector status, open conflicts with links, unreadable values."""

from __future__ import annotations

from datetime import timedelta

from syncd.rollups.health import connector_status, health_tab, problems
from syncd.rollups.model import ConnectorRun, FieldFlag, Link, OpenConflict, SourceError, SourceRef
from tests.rollups.build import NOW, data, invoice, rows, settings, task

HOUR = timedelta(hours=1)


def run(name, status="ok", success_hours_ago=1.0):
    success = None if success_hours_ago is None else NOW - success_hours_ago * HOUR
    return ConnectorRun(name, status, NOW - HOUR, NOW - HOUR / 2, success, None)


def test_connector_status():
    config = settings(stale_sync_hours=24)
    assert connector_status(run("jira"), NOW, 24) == "ok"
    assert connector_status(run("jira", "failed"), NOW, 24) == "failed"
    assert connector_status(run("jira", "running", None), NOW, 24) == "never"
    assert connector_status(run("jira", "ok", 25), NOW, 24) == "stale"
    tab = health_tab(data(runs=(run("sheets"), run("jira", "failed"))), [], config)
    assert [r["connector"] for r in rows(tab.tables[0])] == ["jira", "sheets"]
    assert [r["status"] for r in rows(tab.tables[0])] == ["failed", "ok"]


def test_conflicts_link_to_the_record_in_each_tool():
    refs = (SourceRef("jira", "issue", "HRB-4"), SourceRef("shotgrid", "Task", "5001"))
    tasks = (task(1, title="[chr_mira_hero] Model", sources=refs),)
    conflict = OpenConflict(7, "task-1", "task", "status", "todo",
                            {"shotgrid": "in_progress", "jira": "done"}, NOW)  # fmt: skip
    links = {
        "jira": "https://studio.atlassian.net/browse/{external_id}",
        "shotgrid": "https://studio.shotgrid.autodesk.com/detail/{entity}/{external_id}",
        "syncd": "https://syncd.studio/admin/records/{record_id}",
    }
    tab = health_tab(data(tasks=tasks, conflicts=(conflict,)), [], settings(record_links=links))
    [row] = rows(tab.tables[1])
    assert row["record"] == Link(
        "[chr_mira_hero] Model", "https://syncd.studio/admin/records/task-1"
    )
    assert row["values"] == "jira: done · shotgrid: in_progress"
    assert row["base"] == "todo"
    assert row["in:jira"] == Link("HRB-4", "https://studio.atlassian.net/browse/HRB-4")
    assert row["in:shotgrid"] == Link(
        "5001", "https://studio.shotgrid.autodesk.com/detail/Task/5001"
    )
    unlinked = health_tab(data(conflicts=(conflict,)), [], settings())
    [row] = rows(unlinked.tables[1])
    assert row["record"] == Link("task-1", None) and row["in:jira"] is None


def test_bad_link_templates_give_no_link_rather_than_a_crash():
    refs = (SourceRef("jira", "issue", "HRB-4"),)
    conflict = OpenConflict(1, "task-1", "task", "title", None, {"jira": "a", "shotgrid": "b"}, NOW)
    config = settings(record_links={"jira": "https://x/{nope}"})
    tab = health_tab(data(tasks=(task(1, sources=refs),), conflicts=(conflict,)), [], config)
    assert rows(tab.tables[1])[0]["in:jira"] == Link("HRB-4", None)


def test_unreadable_rows_and_flagged_values_are_listed_with_where_and_why():
    errors = (
        SourceError("sheets", "Invoices", None, "row 11", None, "source record has no key", NOW),
    )
    flag = FieldFlag("sheets", "amount", "TBD", "'TBD' is not an amount", False)
    unknown = FieldFlag("sheets", "status", "Partially Paid", "not in the table", True)
    source = (SourceRef("sheets", "Invoices", "INV-14"),)
    flagged = invoice(14, sources=source, flags=(flag, unknown))
    found = problems(data(invoices=(flagged,), source_errors=errors))
    assert [(p.where, p.field, p.value, p.problem) for p in found] == [
        ("INV-14", "amount", "TBD", "unreadable value: 'TBD' is not an amount"),
        ("INV-14", "status", "Partially Paid", "unknown value: not in the table"),
        ("row 11", None, None, "source record has no key"),
    ]
    tab = health_tab(data(), found, settings())
    assert rows(tab.tables[2])[2]["entity"] == "Invoices"
