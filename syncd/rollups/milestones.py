"""Milestone progress: how far each milestone is, and whether it finishes on time.

For each milestone (the configured ones in due-date order, or every milestone a task
names), over its in-scope tasks (omitted tasks excluded):

- tasks / done / done %: task counts; estimate / done / remaining hours: estimate hours of
  all, done and open tasks; hours done % = done hours / estimate hours.
- burn rate = estimate hours of the milestone's tasks that became done in the window
  (now - `burn_window_days` days, now], divided by `burn_window_days`. When a task became
  done is when its status took the value `done` (the tool's clock); a done task with no
  such time counts as done but not in any window.
- forecast finish = today + ceil(remaining hours / burn rate) days; slack = due - forecast.
- status: `no tasks`; `complete` (nothing open); `unestimated` (open tasks, none
  estimated); `overdue` (due date passed, work open); `stalled` (no burn in the window);
  `no date` (no due date configured); `on course` (forecast <= due) or `behind`.

The burn-up follows the next milestone (the first one due today or later with open work):
cumulative done hours at the end of each past week against its scope (today's estimate
hours), then the projection at the current burn rate (capped at the scope) up to its due
date.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from syncd.rollups.definitions import (
    hours,
    in_scope,
    is_blocked,
    is_done,
    is_open,
    is_overdue,
    overdue_meaning,
    ratio,
    round_hours,
    sum_hours,
    total_hours,
)
from syncd.rollups.in_conflict import in_conflict
from syncd.rollups.model import (
    Alert,
    Chart,
    Column,
    Kind,
    RollupInput,
    RollupTab,
    RollupTable,
    TaskEntry,
    Value,
)
from syncd.settings import RollupSettings

MAX_PROJECTED_WEEKS = 26
LATE = ("behind", "overdue", "stalled")
GOOD = ("on course", "complete")


@dataclass(frozen=True, slots=True)
class MilestoneProgress:
    """The figures of one milestone (see the module docstring for each definition)."""

    name: str
    due: date | None
    tasks: int
    done: int
    estimate_h: Decimal
    done_h: Decimal
    done_h_ratio: Decimal | None  # done / estimate hours, from the exact sums
    remaining_h: Decimal
    unestimated: int
    overdue: int
    blocked: int
    burn_per_day: Decimal  # shown, to 0.01
    burned_h: Decimal  # estimate hours done in the window (exact: forecasts use it)
    forecast: date | None
    status: str

    @property
    def slack_days(self) -> int | None:
        """Days between the forecast finish and the due date (negative: late)."""
        if self.due is None or self.forecast is None:
            return None
        return (self.due - self.forecast).days


@dataclass(frozen=True, slots=True)
class BurnupPoint:
    """One week of the burn-up: done hours so far (past) or projected (future)."""

    day: date
    done_h: Decimal | None
    scope_h: Decimal
    projected_h: Decimal | None


def done_at(entry: TaskEntry) -> datetime | None:
    """When a done task became done (its status time), None when unknown."""
    return entry.changed_at.get("status") if is_done(entry.record) else None


def milestone_order(data: RollupInput, settings: RollupSettings) -> list[tuple[str, date | None]]:
    """The milestones shown: configured ones by due date, else every one tasks name."""
    if settings.milestones:
        return sorted(settings.milestones.items(), key=lambda item: (item[1], item[0]))
    names = {e.record.milestone for e in data.tasks if e.record.milestone and in_scope(e.record)}
    return [(name, None) for name in sorted(names)]


def progress(
    name: str,
    due: date | None,
    entries: Sequence[TaskEntry],
    data: RollupInput,
    settings: RollupSettings,
) -> MilestoneProgress:
    """The figures of one milestone from its tasks (omitted ones are dropped here)."""
    window = settings.burn_window_days
    scoped = [e for e in entries if in_scope(e.record)]
    tasks = [e.record for e in scoped]
    open_tasks = [t for t in tasks if is_open(t)]
    since = data.now - timedelta(days=window)
    burned = sum(
        (hours(e.record) for e in scoped if (at := done_at(e)) and since < at <= data.now),
        Decimal(0),
    )
    remaining = sum((hours(t) for t in open_tasks), Decimal(0))
    forecast = None
    if remaining > 0 and burned > 0:
        forecast = data.today + timedelta(days=math.ceil(remaining * window / burned))
    counts = (len(tasks), len(open_tasks))
    status = _status(due, data.today, counts, remaining, burned, forecast)
    return MilestoneProgress(
        name=name,
        due=due,
        tasks=len(tasks),
        done=sum(1 for t in tasks if is_done(t)),
        estimate_h=total_hours(tasks),
        done_h=total_hours(t for t in tasks if is_done(t)),
        done_h_ratio=ratio(sum_hours(t for t in tasks if is_done(t)), sum_hours(tasks)),
        remaining_h=round_hours(remaining),
        unestimated=sum(1 for t in open_tasks if t.estimate_hours is None),
        overdue=sum(1 for t in tasks if is_overdue(t, data.today, settings.overdue_after_days)),
        blocked=sum(1 for t in tasks if is_blocked(t)),
        burn_per_day=round_hours(burned / window),
        burned_h=burned,
        forecast=forecast,
        status=status,
    )


def _status(
    due: date | None,
    today: date,
    counts: tuple[int, int],
    remaining: Decimal,
    burned: Decimal,
    forecast: date | None,
) -> str:
    tasks, open_count = counts
    if not tasks:
        return "no tasks"
    if not open_count:
        return "complete"
    if remaining == 0:
        return "unestimated"
    if due is not None and due < today:
        return "overdue"
    if burned == 0:
        return "stalled"
    if due is None or forecast is None:
        return "no date"
    return "on course" if forecast <= due else "behind"


def all_progress(data: RollupInput, settings: RollupSettings) -> list[MilestoneProgress]:
    """Progress of every milestone shown, in order."""
    by_name: dict[str, list[TaskEntry]] = {}
    for entry in data.tasks:
        if entry.record.milestone:
            by_name.setdefault(entry.record.milestone, []).append(entry)
    return [
        progress(name, due, by_name.get(name, []), data, settings)
        for name, due in milestone_order(data, settings)
    ]


def next_milestone(rows: Sequence[MilestoneProgress], today: date) -> MilestoneProgress | None:
    """The first milestone due today or later with open work (else the first with open work)."""
    pending = [r for r in rows if r.status not in ("complete", "no tasks")]
    ahead = [r for r in pending if r.due is None or r.due >= today]
    candidates = ahead or pending
    return candidates[0] if candidates else None


def burnup(
    milestone: MilestoneProgress, data: RollupInput, settings: RollupSettings
) -> list[BurnupPoint]:
    """Weekly burn-up of one milestone: past weeks, today, then projected weeks to its due date."""
    entries = [e for e in data.tasks if e.record.milestone == milestone.name and in_scope(e.record)]
    scope = total_hours(e.record for e in entries)
    done = [(done_at(e), hours(e.record)) for e in entries if is_done(e.record)]
    points = []
    for weeks_ago in range(settings.burnup_weeks - 1, -1, -1):
        day = data.today - timedelta(days=7 * weeks_ago)
        so_far = sum((h for at, h in done if at is None or at.date() <= day), Decimal(0))
        projected = round_hours(so_far) if weeks_ago == 0 else None
        points.append(BurnupPoint(day, round_hours(so_far), scope, projected))
    if milestone.due is not None and milestone.due > data.today:
        done_now = sum((h for _, h in done), Decimal(0))
        window = settings.burn_window_days
        weeks = min(math.ceil((milestone.due - data.today).days / 7), MAX_PROJECTED_WEEKS)
        for ahead in range(1, weeks + 1):
            day = data.today + timedelta(days=7 * ahead)
            projected = min(scope, done_now + milestone.burned_h * 7 * ahead / window)
            points.append(BurnupPoint(day, None, scope, round_hours(projected)))
    return points


def milestones_tab(
    rows: Sequence[MilestoneProgress],
    focus: MilestoneProgress | None,
    points: Sequence[BurnupPoint],
    data: RollupInput,
    settings: RollupSettings,
) -> RollupTab:
    """The milestones tab: progress per milestone, then the next milestone's burn-up."""
    tables = [_progress_table(rows, data, settings)]
    if focus is not None:
        tables.append(_burnup_table(focus, points))
    return RollupTab(
        key="milestones",
        title="Milestones",
        question="Are we on course for the next milestone?",
        tables=tuple(tables),
    )


def _progress_table(
    rows: Sequence[MilestoneProgress], data: RollupInput, settings: RollupSettings
) -> RollupTable:
    window = settings.burn_window_days
    values: list[tuple[Value, ...]] = [
        (
            r.name,
            r.due,
            r.status,
            r.forecast,
            r.slack_days,
            r.tasks,
            r.done,
            ratio(r.done, r.tasks),
            r.estimate_h,
            r.done_h,
            r.done_h_ratio,
            r.remaining_h,
            r.burn_per_day,
            r.overdue,
            r.blocked,
            r.unestimated,
        )
        for r in rows
    ]
    return RollupTable(
        key="milestone_progress",
        title="Milestone progress",
        columns=_progress_columns(window, settings.overdue_after_days),
        rows=tuple(values),
        notes=_notes(data, settings, window),
    )


def _progress_columns(window: int, grace: int) -> tuple[Column, ...]:
    zero = Decimal(0)
    late = (Alert("is", "bad", words=LATE), Alert("is", "good", words=GOOD))
    return (
        Column("milestone", "Milestone", Kind.TEXT, "The milestone's name."),
        Column("due", "Due", Kind.DATE, "Its due date (from the configuration)."),
        Column("status", "Status", Kind.STATUS, "complete, on course, behind, overdue, "
               "stalled (no burn), unestimated, no date or no tasks.", late),
        Column("forecast", "Forecast finish", Kind.DATE,
               "Today + remaining hours / burn rate, in days rounded up."),
        Column("slack", "Slack (days)", Kind.INT, "Due date - forecast finish; negative: late.",
               (Alert("below", "bad", zero),)),
        Column("tasks", "Tasks", Kind.INT, "Tasks in scope (omitted tasks excluded)."),
        Column("done", "Done", Kind.INT, "Tasks done."),
        Column("done_pct", "Done %", Kind.PERCENT, "Done / Tasks."),
        Column("estimate_h", "Estimate (h)", Kind.HOURS, "Estimate hours of the tasks."),
        Column("done_h", "Done (h)", Kind.HOURS, "Estimate hours of the tasks done."),
        Column("done_h_pct", "Hours done %", Kind.PERCENT, "Done (h) / Estimate (h)."),
        Column("remaining_h", "Remaining (h)", Kind.HOURS, "Estimate hours of the open tasks."),
        Column("burn", "Burn (h/day)", Kind.HOURS,
               f"Estimate hours of tasks done in the last {window} days / {window}."),
        Column("overdue", "Overdue", Kind.INT,
               f"Open tasks {overdue_meaning(grace)}.",
               (Alert("above", "bad", zero),)),
        Column("blocked", "Blocked", Kind.INT, "Tasks blocked.", (Alert("above", "warn", zero),)),
        Column("unestimated", "Unestimated", Kind.INT,
               "Open tasks without an estimate (not in the hours).",
               (Alert("above", "warn", zero),)),
    )  # fmt: skip


def _notes(data: RollupInput, settings: RollupSettings, window: int) -> tuple[str, ...]:
    notes = [
        f"Burn rate: estimate hours of the milestone's tasks done in the last {window} days, "
        f"per day. Forecast finish: today + remaining hours / burn rate."
    ]
    scoped = [e.record for e in data.tasks if in_scope(e.record)]
    no_milestone = sum(1 for t in scoped if not t.milestone)
    if no_milestone:
        notes.append(f"{no_milestone} tasks name no milestone and are not in this table.")
    if settings.milestones:
        unlisted = Counter(
            t.milestone for t in scoped if t.milestone and t.milestone not in settings.milestones
        )
        if unlisted:
            listed = ", ".join(f"{name} ({n})" for name, n in sorted(unlisted.items()))
            notes.append(f"Tasks naming milestones missing from [rollup.milestones]: {listed}.")
    disputed = in_conflict(data, "status")
    if disputed:
        notes.append(
            f"{disputed} tasks have their status in conflict: they count with the status the "
            "tools last agreed on (unknown, so open, if they never agreed) until a person "
            "decides; see the sync health tab."
        )
    return tuple(notes)


def _burnup_table(focus: MilestoneProgress, points: Sequence[BurnupPoint]) -> RollupTable:
    columns = (
        Column("week", "Week ending", Kind.DATE, "Today, and the same weekday before and after."),
        Column("done_h", "Done (h)", Kind.HOURS,
               "Estimate hours of the milestone's tasks done by that day."),
        Column("scope_h", "Scope (h)", Kind.HOURS,
               "Estimate hours of the milestone's tasks in scope today."),
        Column("projected_h", "Projected (h)", Kind.HOURS,
               "Done hours today + burn rate x days ahead, at most the scope."),
    )  # fmt: skip
    rows = tuple((p.day, p.done_h, p.scope_h, p.projected_h) for p in points)
    return RollupTable(
        key="burnup",
        title=f"Burn-up: {focus.name}",
        columns=columns,
        rows=rows,
        chart=Chart(
            title=f"Burn-up: {focus.name}",
            type="LINE",
            domain="week",
            series=("done_h", "scope_h", "projected_h"),
        ),
    )
