"""The summary: the handful of figures a producer reads first, each with a line of detail.

Every figure comes from the other rollups (same definitions), so the summary never
disagrees with the tab it summarises: the next milestone and whether it is on course, its
progress, overdue and blocked work and who owns it, overloaded departments, unassigned
work, budget burn, lines over budget, invoices overdue for payment, open conflicts,
unreadable values and the last successful sync.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from syncd.rollups.budget import LineSpend, OverdueInvoice, Spend
from syncd.rollups.definitions import (
    NO_DEPARTMENT,
    UNASSIGNED,
    Converter,
    is_blocked,
    is_open,
    is_overdue,
    round_money,
    total_hours,
)
from syncd.rollups.health import connector_status
from syncd.rollups.load import Load
from syncd.rollups.milestones import LATE, MilestoneProgress
from syncd.rollups.model import (
    Alert,
    Column,
    Kind,
    RollupInput,
    RollupTab,
    RollupTable,
    Typed,
    Value,
)
from syncd.settings import RollupSettings

ABOVE_ZERO = (Alert("above", "bad", Decimal(0)),)
TOP = 3


@dataclass(frozen=True, slots=True)
class SummaryInputs:
    """The other rollups' results the summary reads."""

    focus: MilestoneProgress | None
    departments: Sequence[Load]
    lines: Sequence[LineSpend]
    total: Spend
    overdue_invoices: Sequence[OverdueInvoice]
    problems: int


def _top(counter: Counter[str]) -> str:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return ", ".join(f"{name} ({n})" for name, n in ranked)


def _money(amount: Decimal | None, converter: Converter) -> str:
    if amount is None:
        return "-"
    return f"{converter.currency} {round_money(amount):,.2f}"


def _days(day: date, today: date) -> str:
    delta = (day - today).days
    if delta == 0:
        return "today"
    return f"in {delta} days" if delta > 0 else f"{-delta} days ago"


def summary_tab(
    data: RollupInput, parts: SummaryInputs, converter: Converter, settings: RollupSettings
) -> RollupTab:
    """The summary tab: one row per figure (figure, value, detail)."""
    rows: list[tuple[Value, ...]] = []
    rows += _milestone_rows(parts.focus, data.today)
    rows += _work_rows(data, parts.departments, settings)
    rows += _budget_rows(parts, converter, settings)
    rows += _health_rows(data, parts.problems, settings)
    columns = (
        Column("figure", "Figure", Kind.TEXT, "What the row measures."),
        Column("value", "Value", Kind.TEXT, "The figure (red: needs attention)."),
        Column("detail", "Detail", Kind.TEXT, "Where it comes from, or who owns it."),
    )
    table = RollupTable(key="summary", title="Summary", columns=columns, rows=tuple(rows))
    return RollupTab(
        key="summary",
        title="Summary",
        question="What needs my attention today?",
        tables=(table,),
    )


def _milestone_rows(focus: MilestoneProgress | None, today: date) -> list[tuple[Value, ...]]:
    if focus is None:
        return [("Next milestone", Typed(Kind.TEXT, None), "no milestone has open work")]
    due = f"due {focus.due.isoformat()} ({_days(focus.due, today)})" if focus.due else "no due date"
    if focus.forecast is None:
        course = "no forecast: no estimate hours done recently"
    else:
        slack = focus.slack_days
        course = f"forecast finish {focus.forecast.isoformat()}"
        if slack is not None:
            course += f", {abs(slack)} days " + ("to spare" if slack >= 0 else "late")
    status_alerts = (Alert("is", "bad", words=LATE), Alert("is", "good", words=("on course",)))
    progress = (
        f"{focus.done_h:,.2f} of {focus.estimate_h:,.2f} estimate hours; "
        f"{focus.done} of {focus.tasks} tasks"
    )
    return [
        ("Next milestone", Typed(Kind.TEXT, focus.name), due),
        ("On course?", Typed(Kind.STATUS, focus.status, status_alerts), course),
        ("Next milestone done", Typed(Kind.PERCENT, focus.done_h_ratio),
         progress),
    ]  # fmt: skip


def _work_rows(
    data: RollupInput, departments: Sequence[Load], settings: RollupSettings
) -> list[tuple[Value, ...]]:
    open_tasks = [e.record for e in data.tasks if is_open(e.record)]
    overdue = [t for t in open_tasks if is_overdue(t, data.today, settings.overdue_after_days)]
    blocked = [t for t in open_tasks if is_blocked(t)]
    unassigned = [t for t in open_tasks if not t.assignee]
    limit = Decimal(str(settings.overloaded_at))
    overloaded = [d for d in departments if d.load is not None and d.load > limit]
    by_owner = Counter(t.assignee or UNASSIGNED for t in overdue)
    by_department = Counter(t.department or NO_DEPARTMENT for t in blocked)
    return [
        ("Overdue tasks", Typed(Kind.INT, len(overdue), ABOVE_ZERO),
         f"most: {_top(by_owner)}" if overdue else "none"),
        ("Blocked tasks", Typed(Kind.INT, len(blocked), ABOVE_ZERO),
         f"most: {_top(by_department)}" if blocked else "none"),
        ("Overloaded departments", Typed(Kind.INT, len(overloaded), ABOVE_ZERO),
         ", ".join(f"{d.name} ({d.load:.0%})" for d in overloaded) or "none"),
        ("Unassigned open tasks", Typed(Kind.INT, len(unassigned)),
         f"{total_hours(unassigned):,.2f} estimate hours"),
    ]  # fmt: skip


def _budget_rows(
    parts: SummaryInputs, converter: Converter, settings: RollupSettings
) -> list[tuple[Value, ...]]:
    total = parts.total
    limit = Decimal(str(settings.over_budget_at))
    over = [line for line in parts.lines if line.spend.burn is not None and line.spend.burn > limit]
    burn_detail = (
        f"{_money(total.approved, converter)} approved of {_money(total.budget, converter)}; "
        f"{_money(total.invoiced, converter)} invoiced, {_money(total.paid, converter)} paid"
    )
    overdue_amount = sum((i.amount for i in parts.overdue_invoices if i.amount), Decimal(0))
    return [
        ("Budget burn", Typed(Kind.PERCENT, total.burn, (Alert("above", "bad", limit),)),
         burn_detail),
        ("Lines over budget", Typed(Kind.INT, len(over), ABOVE_ZERO),
         ", ".join(line.name for line in over[:TOP]) or "none"),
        ("Invoices overdue for payment", Typed(Kind.INT, len(parts.overdue_invoices), ABOVE_ZERO),
         f"{_money(overdue_amount, converter)} unpaid past due"),
    ]  # fmt: skip


def _health_rows(
    data: RollupInput, problems: int, settings: RollupSettings
) -> list[tuple[Value, ...]]:
    runs = sorted(data.runs, key=lambda r: r.connector)
    statuses = [
        (run.connector, connector_status(run, data.now, settings.stale_sync_hours)) for run in runs
    ]
    successes = [run.last_success for run in runs]
    oldest: datetime | None = None
    if successes and all(s is not None for s in successes):
        oldest = min(s for s in successes if s is not None)
    fields = Counter(c.field for c in data.conflicts)
    return [
        ("Open conflicts", Typed(Kind.INT, len(data.conflicts), ABOVE_ZERO),
         f"fields: {_top(fields)}" if fields else "none"),
        ("Unreadable values", Typed(Kind.INT, problems, ABOVE_ZERO),
         "see the sync health tab" if problems else "none"),
        ("Last sync (oldest connector)", Typed(Kind.DATETIME, oldest),
         " · ".join(f"{name} {status}" for name, status in statuses) or "no sync yet"),
    ]  # fmt: skip
