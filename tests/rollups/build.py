"""Small hand-made rollup inputs for the unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from syncd.model import Asset, BudgetLine, Invoice, Task
from syncd.rollups.model import (
    Entry,
    FieldFlag,
    RollupInput,
    RollupTable,
    SourceRef,
    TaskEntry,
    Typed,
)
from syncd.settings import RollupSettings

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def days(n: int) -> date:
    """The date n days from today (negative: before)."""
    return TODAY + timedelta(days=n)


def task(
    n: int,
    *,
    done_days_ago: float | None = None,
    step: str | None = None,
    sources: tuple[SourceRef, ...] = (),
    flags: tuple[FieldFlag, ...] = (),
    **fields: Any,
) -> TaskEntry:
    """A task; `done_days_ago` sets when its status took its value."""
    changed = {} if done_days_ago is None else {"status": NOW - timedelta(days=done_days_ago)}
    return TaskEntry(f"task-{n}", Task(**fields), sources, flags, changed, step)


def invoice(
    n: int,
    *,
    sources: tuple[SourceRef, ...] = (),
    flags: tuple[FieldFlag, ...] = (),
    **fields: Any,
) -> Entry[Invoice]:
    """An invoice numbered INV-n."""
    return Entry(f"invoice-{n}", Invoice(number=f"INV-{n}", **fields), sources, flags)


def line(name: str, **fields: Any) -> Entry[BudgetLine]:
    """A budget line."""
    return Entry(f"line-{name}", BudgetLine(name=name, **fields))


def asset(name: str, flags: tuple[FieldFlag, ...] = (), **fields: Any) -> Entry[Asset]:
    """An asset or shot."""
    return Entry(f"asset-{name}", Asset(name=name, **fields), flags=flags)


def data(**parts: Any) -> RollupInput:
    """A rollup input at NOW."""
    return RollupInput(now=NOW, **parts)


def settings(**values: Any) -> RollupSettings:
    """Rollup settings with a few overrides."""
    return RollupSettings(**values)


def rows(table: RollupTable) -> list[dict[str, Any]]:
    """A table's rows as dicts by column key, typed values unwrapped."""
    return [
        {
            c.key: (v.value if isinstance(v, Typed) else v)
            for c, v in zip(table.columns, row, strict=True)
        }
        for row in table.rows
    ]
