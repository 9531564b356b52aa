"""`print_rollups`: every tab as rich tables, alerts in colour."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from rich.console import Console
from rich.text import Text

from syncd.rollups.compute import compute_rollups
from syncd.rollups.definitions import ratio
from syncd.rollups.model import Kind, Link
from syncd.rollups.terminal import format_value, print_rollups, render_table
from tests.rollups.build import data, days, invoice, line, settings, task


def test_values_are_formatted_like_the_sheet():
    assert format_value(Decimal("1234.5"), Kind.MONEY, "USD") == "USD 1,234.50"
    assert format_value(Decimal("-3"), Kind.MONEY, "EUR") == "-EUR 3.00"
    assert format_value(Decimal("0.1234"), Kind.PERCENT, "USD") == "12.34%"
    assert format_value(Decimal("7.25"), Kind.HOURS, "USD") == "7.2"
    assert format_value(1234, Kind.INT, "USD") == "1,234"
    assert format_value(days(0), Kind.DATE, "USD") == "2026-11-02"
    assert format_value(Link("HRB-1", "https://x"), Kind.LINK, "USD") == "HRB-1"
    assert format_value(None, Kind.TEXT, "USD") == ""


def test_print_rollups_shows_every_tab_and_colours_alerts():
    input_data = data(
        tasks=(task(1, milestone="Beta", status="todo", estimate_hours=3, due_date=days(-3)),),
        budget_lines=(line("Art", amount=10, currency="USD"),),
        invoices=(invoice(1, amount=20, currency="USD", status="paid", budget_line="Art"),),
    )
    rollups = compute_rollups(input_data, settings(milestones={"Beta": days(10)}))
    console = Console(record=True, width=220, color_system="truecolor")
    print_rollups(rollups, console)
    text = console.export_text()
    for title in ("Summary", "Milestones", "Load", "Pipeline", "Budget", "Sync health"):
        assert title in text
    assert "USD 20.00" in text and "200.00%" in text
    budget = rollups.tab("budget").tables[0]
    rendered = render_table(budget, "USD")
    variance = rendered.columns[budget.index("variance")]
    [cell] = list(variance.cells)
    assert isinstance(cell, Text)
    assert str(cell) == "-USD 10.00" and "red" in str(cell.style)


def test_a_percentage_is_rounded_once() -> None:
    # 654.8 of 10,000 is 6.548 %: shown as 6.55 % (rounded once, to 0.01 %), never as
    # 6.6 % (rounded to the ratio's 0.0001, then again to one decimal).
    shown = format_value(ratio(6548, 100_000), Kind.PERCENT, "USD")
    exact = Decimal(6548) / Decimal(100_000) * 100
    assert shown == f"{exact.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN)}%" == "6.55%"
