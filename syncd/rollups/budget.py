"""Budget: per budget line and per milestone, what is budgeted, invoiced, committed and paid.

Every amount is converted to the reporting currency (see `definitions.Converter`). Void
invoices count nowhere. For the invoices of a line (their `budget_line` names it):

- invoiced = submitted + approved + paid + disputed invoices (drafts are not invoiced yet);
- approved (committed) = approved + paid invoices; paid = paid invoices;
- variance = budget - approved (negative: over budget); burn % = approved / budget.

An invoice that cannot be counted (no readable amount, an unreadable status, a currency
with no rate) is named in the line's "Not counted" column instead of being guessed.
Invoices naming a budget line that does not exist get a row of their own, "(unknown line)
<name>", so a typo shows instead of vanishing. Per milestone, an invoice counts for its own
milestone, else its budget line's; lines and invoices with neither are "(project-wide)".

Overdue invoices: submitted, approved or disputed invoices more than
`invoice_overdue_after_days` days past their due date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from syncd.model import BudgetLine, Invoice, InvoiceStatus
from syncd.rollups.definitions import (
    COMMITTED,
    INVOICED,
    UNPAID,
    Converter,
    days_late,
    invoice_counts,
    overdue_before,
    overdue_meaning,
    ratio,
    round_money,
)
from syncd.rollups.model import (
    Alert,
    Chart,
    Column,
    Kind,
    RollupInput,
    RollupTab,
    RollupTable,
    Value,
)
from syncd.settings import RollupSettings

PROJECT_WIDE = "(project-wide)"
NO_LINE = "(no line)"
UNKNOWN_LINE = "(unknown line) "
TOTAL = "Total"


@dataclass(slots=True)
class Spend:
    """Sums of one budget line, milestone or total, in the reporting currency (unrounded)."""

    budget: Decimal | None = None
    invoiced: Decimal = Decimal(0)
    approved: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    invoices: int = 0
    not_counted: list[str] = field(default_factory=list)

    def add_budget(self, amount: Decimal) -> None:
        """Add a converted budget amount."""
        self.budget = amount if self.budget is None else self.budget + amount

    @property
    def variance(self) -> Decimal | None:
        """Budget - approved, to the cent; None without a budget."""
        return None if self.budget is None else round_money(self.budget - self.approved)

    @property
    def burn(self) -> Decimal | None:
        """Approved / budget."""
        return None if self.budget is None else ratio(self.approved, self.budget)


@dataclass(frozen=True, slots=True)
class LineSpend:
    """One row of the lines table."""

    name: str
    department: str | None
    milestone: str | None
    spend: Spend


def money_text(amount: Decimal | None, currency: str | None) -> str:
    """An amount as billed: "EUR 1,200.50"."""
    if amount is None:
        return "no amount"
    return f"{currency or '???'} {amount:,.2f}"


def _count(spend: Spend, invoice: Invoice, converter: Converter) -> None:
    """Add one non-void invoice to a Spend, or name it as not counted."""
    spend.invoices += 1
    number = invoice.number or "?"
    if invoice.amount is None:
        spend.not_counted.append(f"{number} (no amount)")
        return
    if invoice.status is None:
        spend.not_counted.append(f"{number} (status unreadable)")
        return
    amount = converter.convert(invoice.amount, invoice.currency)
    if amount is None:
        text = money_text(invoice.amount, invoice.currency)
        spend.not_counted.append(f"{number} ({text}: no rate)")
        return
    status = InvoiceStatus(invoice.status)
    if status in INVOICED:
        spend.invoiced += amount
    if status in COMMITTED:
        spend.approved += amount
    if status == InvoiceStatus.PAID:
        spend.paid += amount


def _budget(spend: Spend, line: BudgetLine, converter: Converter) -> None:
    if line.amount is None:
        spend.not_counted.append("budget (no amount)")
        return
    amount = converter.convert(line.amount, line.currency)
    if amount is None:
        spend.not_counted.append(f"budget ({money_text(line.amount, line.currency)}: no rate)")
        return
    spend.add_budget(amount)


def _invoices(data: RollupInput) -> list[Invoice]:
    """Invoices that count, by number (so "not counted" lists are in a stable order)."""
    entries = sorted(data.invoices, key=lambda e: (e.record.number or "", e.id))
    return [e.record for e in entries if invoice_counts(e.record)]


def _lines(data: RollupInput) -> dict[str, BudgetLine]:
    lines: dict[str, BudgetLine] = {}
    for entry in sorted(data.budget_lines, key=lambda e: e.id):
        if entry.record.name:
            lines.setdefault(entry.record.name, entry.record)
    return lines


def line_spend(data: RollupInput, converter: Converter) -> list[LineSpend]:
    """One row per budget line (by name), then unknown lines, then invoices with no line."""
    lines = _lines(data)
    spends = {name: Spend() for name in lines}
    for name, line in lines.items():
        _budget(spends[name], line, converter)
    extra: dict[str, Spend] = {}
    for invoice in _invoices(data):
        named = invoice.budget_line
        if named in spends:
            _count(spends[named], invoice, converter)
            continue
        label = f"{UNKNOWN_LINE}{named}" if named else NO_LINE
        _count(extra.setdefault(label, Spend()), invoice, converter)
    rows = [
        LineSpend(name, lines[name].department, lines[name].milestone, spends[name])
        for name in sorted(lines)
    ]
    unknown = sorted(label for label in extra if label != NO_LINE)
    rows += [LineSpend(label, None, None, extra[label]) for label in unknown]
    if NO_LINE in extra:
        rows.append(LineSpend(NO_LINE, None, None, extra[NO_LINE]))
    return rows


def milestone_spend(
    data: RollupInput, converter: Converter, settings: RollupSettings
) -> list[tuple[str, Spend]]:
    """Per milestone (configured order, then others by name, then project-wide), and a total."""
    lines = _lines(data)
    spends: dict[str, Spend] = {}
    total = Spend()
    for line in lines.values():
        _budget(spends.setdefault(line.milestone or PROJECT_WIDE, Spend()), line, converter)
        _budget(total, line, converter)
    for invoice in _invoices(data):
        named = lines.get(invoice.budget_line or "")
        milestone = invoice.milestone or (named.milestone if named else None) or PROJECT_WIDE
        _count(spends.setdefault(milestone, Spend()), invoice, converter)
        _count(total, invoice, converter)
    configured = sorted(settings.milestones, key=lambda name: (settings.milestones[name], name))
    order = [name for name in configured if name in spends]
    order += sorted(set(spends) - set(order) - {PROJECT_WIDE})
    if PROJECT_WIDE in spends:
        order.append(PROJECT_WIDE)
    return [(name, spends[name]) for name in order] + [(TOTAL, total)]


@dataclass(frozen=True, slots=True)
class OverdueInvoice:
    """An unpaid invoice past its due date."""

    number: str
    vendor: str | None
    budget_line: str | None
    status: str
    due: date
    days: int
    amount: Decimal | None  # reporting currency, None without a rate or amount
    billed: str


def overdue_invoices(
    data: RollupInput, converter: Converter, settings: RollupSettings
) -> list[OverdueInvoice]:
    """Unpaid invoices past due (plus the grace), most overdue first."""
    before = overdue_before(data.today, settings.invoice_overdue_after_days)
    rows = []
    for entry in data.invoices:
        invoice = entry.record
        if invoice.status not in UNPAID or invoice.due is None or invoice.due >= before:
            continue
        amount = None
        if invoice.amount is not None:
            converted = converter.convert(invoice.amount, invoice.currency)
            amount = None if converted is None else round_money(converted)
        rows.append(
            OverdueInvoice(
                number=invoice.number or entry.id,
                vendor=invoice.vendor,
                budget_line=invoice.budget_line,
                status=str(invoice.status),
                due=invoice.due,
                days=days_late(invoice.due, data.today),
                amount=amount,
                billed=money_text(invoice.amount, invoice.currency),
            )
        )
    rows.sort(key=lambda row: (-row.days, row.number))
    return rows


def budget_tab(
    lines: Sequence[LineSpend],
    milestones: Sequence[tuple[str, Spend]],
    overdue: Sequence[OverdueInvoice],
    converter: Converter,
    settings: RollupSettings,
) -> RollupTab:
    """The budget tab: lines (with the burn chart), milestones, overdue invoices."""
    money = _money_columns(converter.currency, settings)
    line_columns = (
        Column("line", "Budget line", Kind.TEXT, "The budget line, as named in the budget tab."),
        Column("department", "Department", Kind.TEXT, "The line's department."),
        Column("milestone", "Milestone", Kind.TEXT, "The line's milestone (blank: project-wide)."),
        *money,
        Column("invoices", "Invoices", Kind.INT, "Invoices on the line (void excluded)."),
        Column("not_counted", "Not counted", Kind.TEXT,
               "Invoices (or the budget) left out of the sums, and why."),
    )  # fmt: skip
    line_rows = tuple(
        (
            row.name,
            row.department,
            row.milestone,
            *_money_values(row.spend),
            row.spend.invoices,
            "; ".join(row.spend.not_counted) or None,
        )
        for row in lines
    )
    milestone_columns = (
        Column("milestone", "Milestone", Kind.TEXT, "The milestone; Total: the whole project."),
        *money,
    )
    milestone_rows = tuple((name, *_money_values(spend)) for name, spend in milestones)
    return RollupTab(
        key="budget",
        title="Budget",
        question="How much is spent, committed, invoiced and paid per line, and the variance?",
        tables=(
            RollupTable(
                key="budget_lines",
                title="Budget lines",
                columns=line_columns,
                rows=line_rows,
                notes=_notes(converter),
                chart=Chart(
                    title="Budget burn per line",
                    type="BAR",
                    domain="line",
                    series=("budget", "approved", "paid"),
                ),
            ),
            RollupTable(
                key="budget_milestones",
                title="Budget per milestone",
                columns=milestone_columns,
                rows=milestone_rows,
            ),
            _overdue_table(overdue, settings),
        ),
    )


def _notes(converter: Converter) -> tuple[str, ...]:
    rates = ", ".join(
        f"{code} {rate}"
        for code, rate in sorted(converter.rates.items())
        if code != converter.currency
    )
    currency = converter.currency
    return (
        f"Amounts in {currency}; rates ({currency} per unit): {rates or 'none'}.",
        "Void invoices count nowhere; drafts only in the invoice count.",
    )


def _money_columns(currency: str, settings: RollupSettings) -> tuple[Column, ...]:
    limit = Decimal(str(settings.over_budget_at))
    return (
        Column("budget", "Budget", Kind.MONEY, f"The budget, in {currency}."),
        Column("invoiced", "Invoiced", Kind.MONEY, "Submitted + approved + paid + disputed."),
        Column("approved", "Approved", Kind.MONEY, "Committed: approved + paid invoices."),
        Column("paid", "Paid", Kind.MONEY, "Paid invoices."),
        Column("variance", "Variance", Kind.MONEY, "Budget - Approved; negative: over budget.",
               (Alert("below", "bad", Decimal(0)),)),
        Column("burn", "Burn %", Kind.PERCENT, "Approved / Budget.",
               (Alert("above", "bad", limit),)),
    )  # fmt: skip


def _money_values(spend: Spend) -> tuple[Value, ...]:
    budget = None if spend.budget is None else round_money(spend.budget)
    return (
        budget, round_money(spend.invoiced), round_money(spend.approved),
        round_money(spend.paid), spend.variance, spend.burn,
    )  # fmt: skip


def _overdue_table(overdue: Sequence[OverdueInvoice], settings: RollupSettings) -> RollupTable:
    grace = settings.invoice_overdue_after_days
    columns = (
        Column("invoice", "Invoice", Kind.TEXT, "The invoice number."),
        Column("vendor", "Vendor", Kind.TEXT, "Who billed it."),
        Column("line", "Budget line", Kind.TEXT, "The budget line it names."),
        Column("status", "Status", Kind.STATUS, "submitted, approved or disputed.",
               (Alert("is", "warn", words=("disputed",)),)),
        Column("due", "Due", Kind.DATE, "Its due date."),
        Column("days", "Days overdue", Kind.INT,
               f"Days since it was due (listed: unpaid, {overdue_meaning(grace)}).",
               (Alert("above", "bad", Decimal(0)),)),
        Column("amount", "Amount", Kind.MONEY, "In the reporting currency (blank: no rate)."),
        Column("billed", "As billed", Kind.TEXT, "The amount in the invoice's currency."),
    )  # fmt: skip
    rows = tuple(
        (r.number, r.vendor, r.budget_line, r.status, r.due, r.days, r.amount, r.billed)
        for r in overdue
    )
    return RollupTable(
        key="overdue_invoices",
        title="Invoices overdue for payment",
        columns=columns,
        rows=rows,
    )


def totals(milestones: Iterable[tuple[str, Spend]]) -> Spend:
    """The Total row of the per-milestone figures."""
    return next(spend for name, spend in milestones if name == TOTAL)
