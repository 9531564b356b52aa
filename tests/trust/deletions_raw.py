"""The budget figures a producer should see, computed from the sheet's raw cells alone.

Written from docs/rollups.md and docs/producers/deletions-and-duplicates.md, without any
of syncd's code: the invoice rows as the sandbox holds them (display text), plain parsing
and sums. Only US dollar invoices are counted (the stack has no exchange rates, and the
documented rule is "an amount with no rate is not counted"). A key held by two rows counts
with the values last agreed for it (`Agreed`), never with either row.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from syncd_sandbox.stack import Stack

INVOICES, BUDGET = "Invoices", "Budget"
KEY, LINE, AMOUNT, CURRENCY, STATUS = "Invoice #", "Budget Line", "Amount", "Currency", "Status"
INVOICED = {"submitted", "approved", "paid", "disputed"}
APPROVED = {"approved", "paid"}
STATUSES = {"draft", "submitted", "approved", "paid", "disputed", "void"}
Row = dict[str, str]
Figures = dict[str, tuple[str, str, str]]  # line -> (invoiced, approved, paid), as displayed


def wait_for(check: Callable[[], bool], timeout: float = 45.0, what: str = "condition") -> None:
    """Poll until `check()` holds (a deadline, not a timed assertion: it only bounds a hang)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached in {timeout} s")


def tab(stack: Stack, title: str) -> list[list[str]]:
    """A tab's displayed values, as the sandbox holds them."""
    values = stack.box.sheets.values(stack.production.spreadsheet_id, f"'{title}'")
    return [[str(v) for v in row] for row in values]


def rows_of(values: Sequence[Sequence[str]]) -> list[tuple[int, Row]]:
    """(sheet row number, header -> text) of every non-blank row below the header."""
    header = [h.strip() for h in values[0]]
    out = []
    for offset, raw in enumerate(values[1:]):
        if not any(str(v).strip() for v in raw):
            continue
        cells = {h: (str(raw[i]) if i < len(raw) else "") for i, h in enumerate(header) if h}
        out.append((offset + 2, cells))
    return out


def places(rows: Sequence[tuple[int, Row]]) -> dict[str, list[int]]:
    """Key -> the sheet rows holding it."""
    found: dict[str, list[int]] = {}
    for number, row in rows:
        key = row.get(KEY, "").strip()
        if key:
            found.setdefault(key, []).append(number)
    return found


@dataclass
class Agreed:
    """The values last agreed for each invoice number, as a producer would track them."""

    rows: dict[str, Row] = field(default_factory=dict)

    def read(self, values: Sequence[Sequence[str]]) -> None:
        """Take a new state of the tab: a number on one row agrees on that row; a number on
        several rows keeps what it had; a number on no row is gone."""
        rows = rows_of(values)
        where = places(rows)
        by_number = dict(rows)
        agreed: dict[str, Row] = {}
        for key, numbers in where.items():
            if len(numbers) == 1:
                agreed[key] = by_number[numbers[0]]
            elif key in self.rows:
                agreed[key] = self.rows[key]
        self.rows = agreed


def money(text: str) -> Decimal | None:
    """An amount as a person wrote it ("$1,200.50", "1.200,50", "USD 30", "1200.5")."""
    digits = re.sub(r"[^0-9.,-]", "", text)
    if not re.search(r"\d", digits):
        return None
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    if last_comma > last_dot and len(digits) - last_comma - 1 in (1, 2):
        digits = digits.replace(".", "").replace(",", ".")  # 1.200,50
    else:
        digits = digits.replace(",", "")  # 1,200.50
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def in_dollars(row: Row) -> bool:
    """Whether an invoice is in US dollars (the reporting currency), by its Currency cell."""
    code = row.get(CURRENCY, "").strip().upper()
    return code in {"USD", "$", "US$"}


def shown(amount: Decimal) -> str:
    """A dollar amount as the rollup tab displays it."""
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"${cents:,.2f}"


def expected_figures(agreed: Agreed, budget: Sequence[Sequence[str]]) -> Figures:
    """Invoiced, approved and paid per budget line, from the agreed invoice values."""
    lines = [row.get(LINE, "").strip() for _, row in rows_of(budget)]
    sums: dict[str, list[Decimal]] = {line: [Decimal(0)] * 3 for line in lines if line}
    for row in agreed.rows.values():
        status = row.get(STATUS, "").strip().lower()
        amount = money(row.get(AMOUNT, ""))
        if status not in STATUSES or amount is None or not in_dollars(row):
            continue  # not counted (named in "Not counted" instead)
        line = row.get(LINE, "").strip()
        if line not in sums:
            continue  # an unknown line gets a row of its own; not compared here
        totals = sums[line]
        for index, counted in enumerate((INVOICED, APPROVED, {"paid"})):
            if status in counted:
                totals[index] += amount
    return {line: (shown(a), shown(b), shown(c)) for line, (a, b, c) in sums.items()}


def shown_figures(stack: Stack) -> Figures | None:
    """Invoiced, approved and paid per budget line as the rollup tab shows them (None: not
    written yet)."""
    title = f"{stack.settings.rollup.tab_prefix}Budget"
    try:
        values = tab(stack, title)
    except Exception:  # the tab is not there yet
        return None
    header_at = next((i for i, r in enumerate(values) if r[:1] == ["Budget line"]), None)
    if header_at is None:
        return None
    header = values[header_at]
    columns = [header.index(h) for h in ("Invoiced", "Approved", "Paid")]
    out: Figures = {}
    for row in values[header_at + 1 :]:
        if not row or not row[0] or len(row) <= max(columns):
            break
        a, b, c = (row[i] for i in columns)
        out[row[0]] = (a, b, c)
    return out


def matches(stack: Stack, expected: Mapping[str, Any]) -> Callable[[], bool]:
    """A check that the rollup tab shows `expected` for every line it names."""

    def check() -> bool:
        figures = shown_figures(stack)
        return figures is not None and all(figures.get(k) == v for k, v in expected.items())

    return check
