"""`syncd rollup --print`: the rollups as rich tables in the terminal.

The same `RollupSet` as the sheet: one section per tab (its question as the heading), one
table per rollup table, numbers right-aligned and formatted like the sheet's number
formats, and the values an alert fires on in colour (red: bad, yellow: warn, green: good).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from syncd.rollups.model import (
    Column,
    Kind,
    Link,
    RollupSet,
    RollupTab,
    RollupTable,
    Scalar,
    Typed,
    Value,
)

TONE_STYLES = {"bad": "bold red", "warn": "yellow", "good": "green"}
_NUMERIC = frozenset({Kind.INT, Kind.NUMBER, Kind.HOURS, Kind.MONEY, Kind.PERCENT})


def format_value(value: Scalar, kind: Kind, currency: str) -> str:
    """A value as text, the way the sheet's number format shows it."""
    if value is None:
        return ""
    if isinstance(value, Link):
        return value.text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    number = Decimal(value)
    if kind is Kind.PERCENT:
        return f"{number * 100:.2f}%"  # the ratio is kept to 0.01 %: show all of it
    if kind is Kind.MONEY:
        sign = "-" if number < 0 else ""
        return f"{sign}{currency} {abs(number):,.2f}"
    if kind is Kind.HOURS:
        return f"{number:,.1f}"
    if kind is Kind.NUMBER:
        return f"{number:,.2f}"
    return f"{number:,.0f}"


def _cell(value: Value, column: Column, currency: str) -> Text:
    if isinstance(value, Typed):
        kind, scalar, alerts = value.kind, value.value, value.alerts + column.alerts
    else:
        kind, scalar, alerts = column.kind, value, column.alerts
    style = next((TONE_STYLES[a.tone] for a in alerts if a.matches(value)), "")
    return Text(format_value(scalar, kind, currency), style=style)


def render_table(table: RollupTable, currency: str) -> Table:
    """One rollup table as a rich Table."""
    out = Table(title=table.title, title_justify="left", header_style="bold")
    for column in table.columns:
        out.add_column(column.header, justify="right" if column.kind in _NUMERIC else "left")
    for row in table.rows:
        out.add_row(*(_cell(v, c, currency) for v, c in zip(row, table.columns, strict=True)))
    if table.notes:
        out.caption = "\n".join(table.notes)
        out.caption_justify = "left"
    return out


def print_tab(tab: RollupTab, currency: str, console: Console) -> None:
    """One tab: its question as a rule, then its tables."""
    console.rule(f"[bold]{tab.title}[/bold] — {tab.question}")
    for table in tab.tables:
        console.print(render_table(table, currency))


def print_rollups(rollups: RollupSet, console: Console) -> None:
    """Every tab of the rollups, the summary first."""
    for tab in rollups.tabs:
        print_tab(tab, rollups.currency, console)
    console.print(f"[dim]computed {rollups.computed_at:%Y-%m-%d %H:%M %Z}[/dim]")
