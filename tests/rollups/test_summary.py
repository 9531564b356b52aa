"""The summary agrees with the tabs it summarises; computing is deterministic."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from syncd.rollups.compute import compute_rollups
from syncd.rollups.model import ConnectorRun, Kind, OpenConflict, Typed
from tests.rollups.build import NOW, data, days, invoice, line, rows, settings, task

CONFIG = settings(
    milestones={"Alpha": days(-18), "Beta": days(30)},
    capacity_hours_per_week={"Art": 10},
    rates={"EUR": 1.08},
)


def world():
    tasks = (
        task(1, milestone="Beta", status="done", estimate_hours=10, done_days_ago=2,
             department="Art", assignee="zoe@studio.io"),
        task(2, milestone="Beta", status="todo", estimate_hours=30, due_date=days(-1),
             department="Art", assignee="zoe@studio.io"),
        task(3, milestone="Beta", status="blocked", estimate_hours=5, due_date=days(-2),
             department="Art"),
        task(4, milestone="Alpha", status="todo", estimate_hours=1, department="QA",
             assignee="ana@studio.io", due_date=days(-20)),
    )  # fmt: skip
    lines = (line("Art", amount=1000, currency="USD", milestone="Beta"),)
    invoices = (
        invoice(1, amount=1000, currency="EUR", status="approved", budget_line="Art",
                due=days(-5)),
        invoice(2, amount=100, currency="USD", status="paid", budget_line="Art"),
    )  # fmt: skip
    conflicts = (OpenConflict(1, "task-2", "task", "status", None, {"a": "x", "b": "y"}, NOW),)
    runs = (
        ConnectorRun("jira", "ok", NOW, NOW, days_ago(1)),
        ConnectorRun("sheets", "ok", NOW, NOW, days_ago(2)),
    )
    return data(tasks=tasks, budget_lines=lines, invoices=invoices, conflicts=conflicts, runs=runs)


def days_ago(n):
    return NOW - timedelta(days=n)


def summary(rollups):
    return {row["figure"]: row for row in rows(rollups.tab("summary").tables[0])}


def test_summary_figures_match_the_tabs():
    rollups = compute_rollups(world(), CONFIG)
    figures = summary(rollups)
    assert figures["Next milestone"]["value"] == "Beta"
    milestones = {r["milestone"]: r for r in rows(rollups.tab("milestones").tables[0])}
    assert figures["On course?"]["value"] == milestones["Beta"]["status"] == "behind"
    assert figures["Next milestone done"]["value"] == milestones["Beta"]["done_h_pct"]
    assert figures["Overdue tasks"]["value"] == 3
    assert figures["Overdue tasks"]["detail"] == (
        "most: (unassigned) (1), ana@studio.io (1), zoe@studio.io (1)"
    )
    assert figures["Blocked tasks"]["value"] == 1
    assert figures["Overloaded departments"]["value"] == 1  # Art: 35 h due / 20 h capacity
    budget = {r["milestone"]: r for r in rows(rollups.tab("budget").tables[1])}
    assert figures["Budget burn"]["value"] == budget["Total"]["burn"] == Decimal("1.1800")
    assert figures["Lines over budget"]["value"] == 1
    assert figures["Invoices overdue for payment"]["value"] == 1
    assert figures["Open conflicts"]["value"] == 1
    assert figures["Last sync (oldest connector)"]["value"] == days_ago(2)
    assert figures["Last sync (oldest connector)"]["detail"] == "jira ok · sheets stale"


def test_summary_values_carry_their_kind_and_alerts():
    rollups = compute_rollups(world(), CONFIG)
    [table] = rollups.tab("summary").tables
    by_figure = {row[0]: row[1] for row in table.rows}
    burn = by_figure["Budget burn"]
    assert isinstance(burn, Typed) and burn.kind is Kind.PERCENT
    assert any(alert.matches(burn) for alert in burn.alerts)
    course = by_figure["On course?"]
    assert isinstance(course, Typed) and course.kind is Kind.STATUS
    assert any(a.tone == "bad" and a.matches(course) for a in course.alerts)


def test_an_empty_store_still_gives_every_tab():
    rollups = compute_rollups(data(), settings())
    assert [tab.key for tab in rollups.tabs] == [
        "summary", "milestones", "load", "pipeline", "budget", "health",
    ]  # fmt: skip
    figures = summary(rollups)
    assert figures["Next milestone"]["value"] is None
    assert figures["Last sync (oldest connector)"]["detail"] == "no sync yet"


def test_computing_is_deterministic_whatever_the_input_order():
    one = world()
    shuffled = replace(one, tasks=tuple(reversed(one.tasks)), invoices=one.invoices[::-1])
    assert compute_rollups(one, CONFIG) == compute_rollups(shuffled, CONFIG)
