"""The "Budget" tab: one line per spend category and milestone, planned in USD mostly.

Budgets follow what was invoiced against each line, divided by how far the line should be
spent by the epoch, so past lines sit near (or over) budget and future ones well under it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from syncd_sandbox.dataset.draw import Draw
from syncd_sandbox.dataset.schedule import Calendar
from syncd_sandbox.dataset.vendors import (
    BUDGET_HEADER,
    CATEGORIES,
    USD_PER_UNIT,
    Category,
    format_amount,
)
from syncd_sandbox.production import Milestone, Person, SheetTab

BUDGET_TITLE = "Budget"


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One row of the budget: a category, for one milestone or for the whole project."""

    name: str
    category: Category
    milestone: Milestone | None


def budget_lines(milestones: tuple[Milestone, ...]) -> tuple[BudgetLine, ...]:
    """Every budget line, named "<category> (<milestone>)" or just "<category>"."""
    by_key = {milestone.key: milestone for milestone in milestones}
    lines: list[BudgetLine] = []
    for category in CATEGORIES:
        if not category.milestones:
            lines.append(BudgetLine(category.name, category, None))
        for key in category.milestones:
            milestone = by_key[key]
            lines.append(BudgetLine(f"{category.name} ({milestone.name})", category, milestone))
    return tuple(lines)


def build_budget(
    draw: Draw,
    calendar: Calendar,
    lines: tuple[BudgetLine, ...],
    invoiced_usd: Mapping[str, float],
    people: tuple[Person, ...],
) -> SheetTab:
    """The budget tab; `invoiced_usd` is what each line has been invoiced so far, in USD."""
    owners: dict[str, str] = {}
    for person in people:  # the first person of a department is its lead
        owners.setdefault(person.department, person.display_name)
    rows: list[tuple[str, ...]] = [BUDGET_HEADER]
    for line in lines:
        spent_share = _expected_spend(draw, calendar, line)
        usd = max(5_000.0, invoiced_usd.get(line.name, 0.0) / spent_share)
        currency = line.category.budget_currency
        amount = 1_000.0 * math.ceil(usd / USD_PER_UNIT[currency] / 1_000)
        style = "symbol" if draw.chance(0.3) else "plain"
        rows.append(
            (
                line.name,
                line.category.department,
                line.milestone.name if line.milestone else "",
                format_amount(amount, currency, style),
                currency,
                owners.get(line.category.department, owners["Production"]),
            )
        )
    return SheetTab(title=BUDGET_TITLE, rows=tuple(rows))


def _expected_spend(draw: Draw, calendar: Calendar, line: BudgetLine) -> float:
    """Share of the line's budget one expects invoiced by the epoch (over 1: overrun)."""
    if line.milestone is None:
        return draw.uniform(0.6, 0.9)
    due = calendar.offset(line.milestone.due)
    if due < -30:
        return draw.uniform(0.8, 1.15)
    if due <= 30:
        return draw.uniform(0.5, 0.9)
    return draw.uniform(0.15, 0.5)
