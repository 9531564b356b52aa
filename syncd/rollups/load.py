"""Department and people load: open work against weekly capacity, and unassigned work.

Over open tasks (in scope, not done), per department (the task's `department`) and per
assignee:

- open tasks / open hours: count and estimate hours of the open tasks.
- due soon hours: estimate hours of open tasks due within `load_horizon_days` days from
  today, overdue ones included (tasks without a due date are not "due soon").
- load % = due soon hours / (weekly capacity x horizon days / 7): above `overloaded_at`
  the department or person has more due than it can do in the horizon.
- weeks of work = open hours / weekly capacity.
- overdue, blocked, unassigned (no assignee), unestimated (no estimate) open tasks.

Capacity: departments from `capacity_hours_per_week`; people from `people_hours_per_week`
or `person_hours_per_week`. A person's department is the one most of their open tasks
are in (ties: alphabetical).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from syncd.model import Task
from syncd.rollups.definitions import (
    NO_DEPARTMENT,
    UNASSIGNED,
    is_blocked,
    is_open,
    is_overdue,
    overdue_meaning,
    ratio,
    round_hours,
    sum_hours,
    total_hours,
)
from syncd.rollups.model import Alert, Column, Kind, RollupInput, RollupTab, RollupTable, Value
from syncd.settings import RollupSettings


@dataclass(frozen=True, slots=True)
class Load:
    """Open work of one department or person against its capacity."""

    name: str
    department: str
    capacity: Decimal | None  # hours per week
    open_tasks: int
    open_h: Decimal
    due_soon_h: Decimal
    load: Decimal | None  # ratio
    weeks: Decimal | None
    overdue: int
    blocked: int
    unassigned: int
    unassigned_h: Decimal
    unestimated: int


def _load(
    name: str,
    department: str,
    capacity: Decimal | None,
    tasks: Sequence[Task],
    today: date,
    settings: RollupSettings,
) -> Load:
    horizon = today + timedelta(days=settings.load_horizon_days)
    due_soon = sum_hours(t for t in tasks if t.due_date is not None and t.due_date <= horizon)
    open_h = sum_hours(tasks)
    unassigned = [t for t in tasks if not t.assignee]
    load = weeks = None
    if capacity is not None and capacity > 0:
        load = ratio(due_soon, capacity * settings.load_horizon_days / 7)
        weeks = round_hours(open_h / capacity)
    return Load(
        name=name,
        department=department,
        capacity=capacity,
        open_tasks=len(tasks),
        open_h=round_hours(open_h),
        due_soon_h=round_hours(due_soon),
        load=load,
        weeks=weeks,
        overdue=sum(1 for t in tasks if is_overdue(t, today, settings.overdue_after_days)),
        blocked=sum(1 for t in tasks if is_blocked(t)),
        unassigned=len(unassigned),
        unassigned_h=total_hours(unassigned),
        unestimated=sum(1 for t in tasks if t.estimate_hours is None),
    )


def _capacity(value: float | None) -> Decimal | None:
    return None if value is None else round_hours(Decimal(str(value)))


def department_load(data: RollupInput, settings: RollupSettings) -> list[Load]:
    """Load per department shown (configured order, else alphabetical; none last)."""
    by_department: dict[str, list[Task]] = {}
    for task in _open(data):
        by_department.setdefault(task.department or NO_DEPARTMENT, []).append(task)
    if settings.departments:
        names = list(settings.departments)
    else:
        found = set(by_department) | set(settings.capacity_hours_per_week)
        names = sorted(found - {NO_DEPARTMENT}) + sorted(found & {NO_DEPARTMENT})
    capacities = settings.capacity_hours_per_week
    return [
        _load(
            name,
            name,
            _capacity(capacities.get(name)),
            by_department.get(name, []),
            data.today,
            settings,
        )
        for name in names
    ]


def people_load(data: RollupInput, settings: RollupSettings) -> list[Load]:
    """Load per assignee of open work, by department then person; unassigned work last."""
    by_person: dict[str, list[Task]] = {}
    for task in _open(data):
        by_person.setdefault(task.assignee or UNASSIGNED, []).append(task)
    rows = []
    for person, tasks in by_person.items():
        if person == UNASSIGNED:
            continue
        counts = Counter(t.department or NO_DEPARTMENT for t in tasks)
        department = min(counts, key=lambda name: (-counts[name], name))
        hours = settings.people_hours_per_week.get(person, settings.person_hours_per_week)
        rows.append(_load(person, department, _capacity(hours), tasks, data.today, settings))
    rows.sort(key=lambda row: (row.department, row.name))
    if UNASSIGNED in by_person:
        rows.append(_load(UNASSIGNED, "", None, by_person[UNASSIGNED], data.today, settings))
    return rows


def _open(data: RollupInput) -> Iterable[Task]:
    return (entry.record for entry in data.tasks if is_open(entry.record))


def load_tab(
    departments: Sequence[Load],
    people: Sequence[Load],
    data: RollupInput,
    settings: RollupSettings,
) -> RollupTab:
    """The load tab: departments, then people."""
    notes = _notes(data, settings)
    return RollupTab(
        key="load",
        title="Load",
        question="Which department or person is overloaded or blocked, and what is unassigned?",
        tables=(
            RollupTable(
                key="departments",
                title="Department load",
                columns=_department_columns(settings),
                rows=tuple(_department_row(row) for row in departments),
                notes=notes,
            ),
            RollupTable(
                key="people",
                title="People load",
                columns=_people_columns(settings),
                rows=tuple(_people_row(row) for row in people),
            ),
        ),
    )


def _notes(data: RollupInput, settings: RollupSettings) -> tuple[str, ...]:
    days = settings.load_horizon_days
    notes = [
        f"Load: estimate hours of open tasks due within {days} days (overdue included) / "
        f"{days} days of capacity."
    ]
    if settings.departments:
        listed = set(settings.departments)
        unlisted = Counter(
            t.department or NO_DEPARTMENT for t in _open(data) if t.department not in listed
        )
        if unlisted:
            names = ", ".join(f"{name} ({n})" for name, n in sorted(unlisted.items()))
            notes.append(f"Open tasks in departments not listed in [rollup] departments: {names}.")
    return tuple(notes)


def _department_row(row: Load) -> tuple[Value, ...]:
    return (
        row.name, row.capacity, row.open_tasks, row.open_h, row.due_soon_h, row.load, row.weeks,
        row.overdue, row.blocked, row.unassigned, row.unassigned_h, row.unestimated,
    )  # fmt: skip


def _people_row(row: Load) -> tuple[Value, ...]:
    return (
        row.name, row.department or None, row.capacity, row.open_tasks, row.open_h,
        row.due_soon_h, row.load, row.overdue, row.blocked, row.unestimated,
    )  # fmt: skip


def _shared_columns(settings: RollupSettings) -> dict[str, Column]:
    zero = Decimal(0)
    days = settings.load_horizon_days
    grace = settings.overdue_after_days
    overloaded = Decimal(str(settings.overloaded_at))
    return {
        "capacity": Column("capacity", "Capacity (h/week)", Kind.HOURS,
                           "Weekly capacity from the configuration."),
        "open_tasks": Column("open_tasks", "Open tasks", Kind.INT, "Tasks not done (in scope)."),
        "open_h": Column("open_h", "Open (h)", Kind.HOURS, "Estimate hours of the open tasks."),
        "due_soon_h": Column("due_soon_h", "Due soon (h)", Kind.HOURS,
                             f"Estimate hours of open tasks due within {days} days or overdue."),
        "load": Column("load", "Load %", Kind.PERCENT,
                       f"Due soon (h) / ({days} days of capacity).",
                       (Alert("above", "bad", overloaded),)),
        "overdue": Column("overdue", "Overdue", Kind.INT,
                          f"Open tasks {overdue_meaning(grace)}.",
                          (Alert("above", "bad", zero),)),
        "blocked": Column("blocked", "Blocked", Kind.INT, "Open tasks blocked.",
                          (Alert("above", "warn", zero),)),
        "unestimated": Column("unestimated", "Unestimated", Kind.INT,
                              "Open tasks without an estimate (not in the hours).",
                              (Alert("above", "warn", zero),)),
    }  # fmt: skip


def _department_columns(settings: RollupSettings) -> tuple[Column, ...]:
    shared = _shared_columns(settings)
    zero = Decimal(0)
    return (
        Column("department", "Department", Kind.TEXT, "The department doing the work."),
        shared["capacity"], shared["open_tasks"], shared["open_h"], shared["due_soon_h"],
        shared["load"],
        Column("weeks", "Weeks of work", Kind.NUMBER, "Open (h) / Capacity (h/week)."),
        shared["overdue"], shared["blocked"],
        Column("unassigned", "Unassigned", Kind.INT, "Open tasks with no assignee.",
               (Alert("above", "warn", zero),)),
        Column("unassigned_h", "Unassigned (h)", Kind.HOURS,
               "Estimate hours of the open tasks with no assignee."),
        shared["unestimated"],
    )  # fmt: skip


def _people_columns(settings: RollupSettings) -> tuple[Column, ...]:
    shared = _shared_columns(settings)
    return (
        Column("person", "Person", Kind.TEXT, "The assignee's email; (unassigned): nobody."),
        Column("department", "Department", Kind.TEXT,
               "The department most of their open tasks are in."),
        shared["capacity"], shared["open_tasks"], shared["open_h"], shared["due_soon_h"],
        shared["load"], shared["overdue"], shared["blocked"], shared["unestimated"],
    )  # fmt: skip
