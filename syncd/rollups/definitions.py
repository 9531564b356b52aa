"""The definitions every rollup shares, each in one place.

- A task is **in scope** unless it is omitted (cut from scope): omitted tasks count nowhere.
- A task is **done** when its status is `done`; **open** when in scope and not done. A task
  whose status could not be read (an unmapped tool status, flagged) is open: work nobody
  has confirmed finished is not finished.
- An open task is **overdue** when its due date is more than `overdue_after_days` days
  before today (with 0: from the day after its due date).
- **Hours** are estimate hours; a task without an estimate adds no hours (tables count
  such tasks separately, as "unestimated", so missing estimates are visible).
- **Money** is converted to the reporting currency with the configured rate table (units of
  reporting currency per unit). An amount in a currency with no rate is never converted:
  `Converter.convert` returns None and the tables show it as unconverted.
- Rounding happens once, on the figure shown: money and hours to 0.01, ratios to 0.0001
  (half to even). Ratios and forecasts are computed from the exact sums, never from
  rounded figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from syncd.model import Invoice, InvoiceStatus, Task, TaskStatus

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
NO_MILESTONE = "(no milestone)"
NO_DEPARTMENT = "(no department)"
UNASSIGNED = "(unassigned)"

# Invoice statuses by what they count as (void counts nowhere, draft only as a draft).
INVOICED = frozenset(
    {InvoiceStatus.SUBMITTED, InvoiceStatus.APPROVED, InvoiceStatus.PAID, InvoiceStatus.DISPUTED}
)
COMMITTED = frozenset({InvoiceStatus.APPROVED, InvoiceStatus.PAID})
UNPAID = frozenset({InvoiceStatus.SUBMITTED, InvoiceStatus.APPROVED, InvoiceStatus.DISPUTED})


def in_scope(task: Task) -> bool:
    """Not omitted (cut from scope)."""
    return task.status != TaskStatus.OMITTED


def is_done(task: Task) -> bool:
    """Done: counts as complete in every rollup."""
    return task.status == TaskStatus.DONE


def is_open(task: Task) -> bool:
    """In scope and not done (an unreadable status counts as open)."""
    return task.status not in (TaskStatus.DONE, TaskStatus.OMITTED)


def is_blocked(task: Task) -> bool:
    """Blocked: cannot go on until something else moves."""
    return task.status == TaskStatus.BLOCKED


def overdue_before(today: date, after_days: int) -> date:
    """Due dates before this day are overdue."""
    return today - timedelta(days=after_days)


def is_overdue(task: Task, today: date, after_days: int) -> bool:
    """Open, with a due date more than `after_days` days ago."""
    due = task.due_date
    return is_open(task) and due is not None and due < overdue_before(today, after_days)


def overdue_meaning(after_days: int) -> str:
    """How a table explains "overdue" with the configured grace."""
    if after_days == 0:
        return "past their due date"
    return f"more than {after_days} days past their due date"


def days_late(due: date, today: date) -> int:
    """Days from a due date to today."""
    return (today - due).days


def hours(task: Task) -> Decimal:
    """The task's estimate hours (0 without an estimate)."""
    return task.estimate_hours if task.estimate_hours is not None else Decimal(0)


def sum_hours(tasks: Iterable[Task]) -> Decimal:
    """Estimate hours of the tasks, exact (ratios are computed from exact sums)."""
    return sum((hours(task) for task in tasks), Decimal(0))


def total_hours(tasks: Iterable[Task]) -> Decimal:
    """Estimate hours of the tasks as shown, rounded to 0.01."""
    return round_hours(sum_hours(tasks))


def _round(value: Decimal, step: Decimal) -> Decimal:
    rounded = value.quantize(step, rounding=ROUND_HALF_EVEN)
    return abs(rounded) if rounded == 0 else rounded  # never "-0.00"


def round_hours(value: Decimal) -> Decimal:
    """Hours as shown: to 0.01 (half to even)."""
    return _round(value, CENT)


def round_money(value: Decimal) -> Decimal:
    """Money as shown: to 0.01 (half to even)."""
    return _round(value, CENT)


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole to 0.0001, None when the whole is not positive (nothing to divide by)."""
    if whole <= 0:
        return None
    return _round(Decimal(part) / Decimal(whole), RATIO)


@dataclass(frozen=True, slots=True)
class Converter:
    """Converts amounts to the reporting currency with a rate table; no rate, no conversion."""

    currency: str
    rates: Mapping[str, Decimal]

    @classmethod
    def of(cls, currency: str, rates: Mapping[str, float]) -> Converter:
        """From settings: rates are units of reporting currency per unit (floats in TOML)."""
        table = {code.upper(): Decimal(str(rate)) for code, rate in rates.items()}
        table[currency.upper()] = Decimal(1)
        return cls(currency.upper(), table)

    def convert(self, amount: Decimal, currency: str | None) -> Decimal | None:
        """The amount in the reporting currency (unrounded), None when there is no rate."""
        rate = self.rates.get((currency or "").upper())
        return None if rate is None else amount * rate


def invoice_counts(invoice: Invoice) -> bool:
    """Whether an invoice counts in budget figures at all (void invoices never do)."""
    return invoice.status != InvoiceStatus.VOID
