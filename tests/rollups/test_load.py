"""Department and people load on small hand-made inputs."""

from __future__ import annotations

from decimal import Decimal

from syncd.rollups.load import department_load, load_tab, people_load
from tests.rollups.build import data, days, rows, settings, task

CAPACITY = settings(capacity_hours_per_week={"Art": 70, "QA": 35}, load_horizon_days=14)


def test_no_tasks_lists_configured_departments_with_nothing_open():
    loads = department_load(data(), CAPACITY)
    assert [(d.name, d.open_tasks, d.load, d.weeks) for d in loads] == [
        ("Art", 0, Decimal("0.0000"), Decimal("0.00")),
        ("QA", 0, Decimal("0.0000"), Decimal("0.00")),
    ]
    assert people_load(data(), CAPACITY) == []


def test_load_is_work_due_in_the_horizon_over_its_capacity():
    tasks = (
        task(1, department="Art", status="todo", estimate_hours=40, due_date=days(3)),
        task(2, department="Art", status="blocked", estimate_hours=60, due_date=days(-5)),
        task(3, department="Art", status="review", estimate_hours=100, due_date=days(15)),  # later
        task(4, department="Art", status="todo", estimate_hours=10),  # no due date
        task(5, department="Art", status="done", estimate_hours=999, due_date=days(1)),
        task(6, department="Art", status="omitted", estimate_hours=999, due_date=days(1)),
        task(7, department="Art", status="todo", due_date=days(1)),  # unestimated
    )
    [art, qa] = department_load(data(tasks=tasks), CAPACITY)
    assert art.open_tasks == 5
    assert art.open_h == Decimal("210.00")
    assert art.due_soon_h == Decimal("100.00")
    assert art.load == Decimal("0.7143")  # 100 / (70 x 2 weeks)
    assert art.weeks == Decimal("3.00")  # 210 / 70
    assert (art.overdue, art.blocked, art.unestimated) == (1, 1, 1)
    assert (art.unassigned, art.unassigned_h) == (5, Decimal("210.00"))
    assert qa.open_tasks == 0


def test_unknown_departments_without_capacity_have_no_load():
    tasks = (task(1, status="todo", estimate_hours=3), task(2, department="Sound", status="todo"))
    loads = {d.name: d for d in department_load(data(tasks=tasks), CAPACITY)}
    assert list(loads) == ["Art", "QA", "Sound", "(no department)"]
    assert loads["Sound"].capacity is None and loads["Sound"].load is None


def test_configured_departments_keep_their_order_and_name_the_others():
    config = settings(departments=["QA", "Art"], capacity_hours_per_week={"Art": 10})
    tasks = (task(1, department="Audio", status="todo"), task(2, department="QA", status="todo"))
    loads = department_load(data(tasks=tasks), config)
    assert [d.name for d in loads] == ["QA", "Art"]
    notes = load_tab(loads, [], data(tasks=tasks), config).tables[0].notes
    assert "Open tasks in departments not listed in [rollup] departments: Audio (1)." in notes


def test_people_get_their_main_department_and_capacity_and_unassigned_work_is_last():
    config = settings(person_hours_per_week=32, people_hours_per_week={"zoe@studio.io": 16})
    tasks = (
        task(1, assignee="zoe@studio.io", department="QA", status="todo", estimate_hours=8,
             due_date=days(1)),
        task(2, assignee="zoe@studio.io", department="Art", status="todo", estimate_hours=8,
             due_date=days(2)),
        task(3, assignee="zoe@studio.io", department="Art", status="todo", estimate_hours=16),
        task(4, assignee="ana@studio.io", department="QA", status="blocked", estimate_hours=64,
             due_date=days(-1)),
        task(5, department="QA", status="todo", estimate_hours=4, due_date=days(1)),
    )  # fmt: skip
    people = people_load(data(tasks=tasks), config)
    assert [(p.name, p.department) for p in people] == [
        ("zoe@studio.io", "Art"),
        ("ana@studio.io", "QA"),
        ("(unassigned)", ""),
    ]
    zoe, ana, nobody = people
    assert zoe.capacity == Decimal("16.00") and zoe.load == Decimal("0.5000")  # 16 / 32
    assert ana.capacity == Decimal("32.00") and ana.load == Decimal("1.0000")
    assert (ana.overdue, ana.blocked) == (1, 1)
    assert nobody.capacity is None and nobody.open_h == Decimal("4.00")
    table = load_tab([], people, data(tasks=tasks), config).tables[1]
    assert rows(table)[-1]["person"] == "(unassigned)" and rows(table)[-1]["department"] is None


def test_overloaded_alert_threshold():
    config = settings(capacity_hours_per_week={"Art": 10}, overloaded_at=0.5, load_horizon_days=7)
    tasks = (task(1, department="Art", status="todo", estimate_hours=6, due_date=days(1)),)
    loads = department_load(data(tasks=tasks), config)
    table = load_tab(loads, [], data(tasks=tasks), config).tables[0]
    column = table.column("load")
    assert [a.matches(loads[0].load) for a in column.alerts] == [True]  # 60% > 50%
