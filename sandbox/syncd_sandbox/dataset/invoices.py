"""The "Invoices" tab as a coordinator keeps it: chronological, hand-typed, a little messy.

Planted mess (each recorded in `InvoiceSheet.notes`): a duplicated row, blank rows, an
amount of "TBD", a status no mapping knows, a budget line that does not exist, and every
amount and date style at least once. Random rows add more of the same styles.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from syncd_sandbox.dataset.budget import BudgetLine
from syncd_sandbox.dataset.draw import Draw, Weighted
from syncd_sandbox.dataset.schedule import Calendar
from syncd_sandbox.dataset.vendors import (
    AMOUNT_STYLES,
    DATE_STYLES,
    INVOICE_HEADER,
    INVOICE_NOTES,
    MEANT_BUDGET_LINE,
    NON_NUMERIC_AMOUNT,
    UNKNOWN_BUDGET_LINE,
    UNMAPPED_INVOICE_STATUS,
    USD_PER_UNIT,
    VENDORS,
    Vendor,
    format_amount,
    format_date,
)
from syncd_sandbox.production import SheetTab

INVOICES_TITLE = "Invoices"
MIN_INVOICES = 20  # room for every planted row
# Vendors and styles of the rows planted so every written form of an amount is present.
PLANTED_AMOUNTS: tuple[tuple[str, str, str], ...] = (
    ("amount_usd_symbol", "Northbeam Art Partners", "symbol"),  # $1,200.50
    ("amount_eur_symbol", "Studio Łódź Sp. z o.o.", "symbol"),  # 1.200,50 €
    ("amount_gbp_symbol", "Pixel Harbour Ltd", "symbol"),  # £950
    ("amount_jpy_symbol", "Ōkami Audio 株式会社", "symbol"),  # ¥150,000
    ("amount_cad_symbol", "Motion Hall Montréal", "symbol"),  # CA$2,300.00
    ("amount_plain", "Booth Nine Voice Studio", "plain"),  # 1200.5
    ("amount_code", "Émile & Fils", "code"),  # EUR 3,400.00
)
_OTHER_PLANTS = (
    "date_iso", "date_slash", "date_month", "duplicate_invoice", "non_numeric_amount_invoice",
    "unmapped_invoice_status_invoice",
)  # fmt: skip
_PAID_BY_NOW: Weighted[str] = Weighted(
    (("Paid", 78), ("Approved", 6), ("Disputed", 5), ("Void", 3), ("Submitted", 4),
     (UNMAPPED_INVOICE_STATUS, 2))
)  # fmt: skip
_OPEN: Weighted[str] = Weighted(
    (("Submitted", 35), ("Approved", 28), ("Draft", 14), ("Paid", 12), ("Disputed", 5),
     ("Void", 3), (UNMAPPED_INVOICE_STATUS, 3))
)  # fmt: skip
_AMOUNT_STYLE = Weighted(zip(AMOUNT_STYLES, (60, 20, 20), strict=True))
_DATE_STYLE = Weighted(zip(DATE_STYLES, (45, 35, 20), strict=True))
_PAYMENT_TERMS = (14, 30, 30, 45, 60)


@dataclass(slots=True)
class _Invoice:
    """One invoice before it is typed into cells."""

    issued: int  # days from the epoch
    vendor: Vendor
    line: BudgetLine
    amount: float  # in the vendor's currency
    plant: str = ""  # which planted mess this row carries, if any
    amount_style: str = "symbol"
    date_style: str = "iso"


@dataclass(slots=True)
class InvoiceSheet:
    """The tab, what each budget line was invoiced in USD, and where the mess is."""

    tab: SheetTab
    invoiced_usd: dict[str, float]
    notes: dict[str, str] = field(default_factory=dict)


def build_invoices(
    draw: Draw, calendar: Calendar, lines: tuple[BudgetLine, ...], count: int, blank_rows: int
) -> InvoiceSheet:
    """`count` invoice rows (one of them a duplicate) with `blank_rows` blank rows among them."""
    if count < MIN_INVOICES:
        raise ValueError(f"need at least {MIN_INVOICES} invoices for the planted rows, got {count}")
    writer = _Writer(draw, calendar, lines)
    invoices = [writer.planted_amount(*planted) for planted in PLANTED_AMOUNTS]
    invoices.append(writer.misfiled())
    invoices += [writer.random_invoice() for _ in range(count - 1 - len(invoices))]
    invoices.sort(key=lambda invoice: invoice.issued)  # logged as they arrive
    unplanted = [i for i, invoice in enumerate(invoices) if not invoice.plant]
    for plant, index in zip(_OTHER_PLANTS, draw.sample(unplanted, len(_OTHER_PLANTS)), strict=True):
        invoices[index] = writer.plant(invoices[index], plant)
    return writer.typed(invoices, blank_rows)


class _Writer:
    """Draws invoices and types them into rows."""

    def __init__(self, draw: Draw, calendar: Calendar, lines: tuple[BudgetLine, ...]) -> None:
        self._draw, self._calendar = draw, calendar
        self._lines_of: dict[str, list[BudgetLine]] = defaultdict(list)
        for line in lines:
            self._lines_of[line.category.name].append(line)
        self._vendors = {vendor.name: vendor for vendor in VENDORS}
        self._line_named = {line.name: line for line in lines}
        # Lines of milestones long past have been billed most; future ones only deposits.
        self._lines = Weighted((line, self._line_weight(line)) for line in lines)
        self._vendors_of: dict[str, list[Vendor]] = defaultdict(list)
        for vendor in VENDORS:
            self._vendors_of[vendor.category].append(vendor)

    def random_invoice(self, line: BudgetLine | None = None) -> _Invoice:
        """An invoice on `line` (default: drawn by weight) from one of the line's vendors."""
        draw = self._draw
        line = line or self._lines.draw(draw)
        invoice = self._invoice(draw.pick(self._vendors_of[line.category.name]), line)
        invoice.amount_style = _AMOUNT_STYLE.draw(draw)
        invoice.date_style = _DATE_STYLE.draw(draw)
        return invoice

    def planted_amount(self, plant: str, vendor_name: str, style: str) -> _Invoice:
        """An invoice from a named vendor whose amount is typed in `style`."""
        vendor = self._vendors[vendor_name]
        invoice = self._invoice(vendor, self._draw.pick(self._lines_of[vendor.category]))
        invoice.plant, invoice.amount_style = plant, style
        invoice.date_style = _DATE_STYLE.draw(self._draw)
        return invoice

    def misfiled(self) -> _Invoice:
        """An invoice for the line someone meant, typed later with a typo in the line name."""
        invoice = self.random_invoice(self._line_named[MEANT_BUDGET_LINE])
        invoice.plant = "unknown_budget_line_invoice"
        return invoice

    def plant(self, invoice: _Invoice, plant: str) -> _Invoice:
        """The same invoice carrying `plant` (a date style is planted by setting it)."""
        date_style = plant.removeprefix("date_") if plant.startswith("date_") else None
        return replace(invoice, plant=plant, date_style=date_style or invoice.date_style)

    def typed(self, invoices: list[_Invoice], blank_rows: int) -> InvoiceSheet:
        """Number the invoices per year, type them into rows, add the duplicate and blanks."""
        draw, notes = self._draw, {}
        invoiced: dict[str, float] = defaultdict(float)
        per_year: dict[int, int] = defaultdict(int)
        rows: list[tuple[str, ...]] = []
        duplicate: tuple[str, ...] = ()
        for invoice in invoices:
            issued = self._calendar.day(invoice.issued)
            per_year[issued.year] += 1
            number = f"INV-{issued.year}-{per_year[issued.year]:04d}"
            row, status = self._row(invoice, number)
            rows.append(row)
            if invoice.plant:
                notes[invoice.plant] = number
            if invoice.plant == "duplicate_invoice":
                duplicate = row
            if status != "Void" and invoice.plant != "non_numeric_amount_invoice":
                invoiced[row[8]] += invoice.amount * USD_PER_UNIT[invoice.vendor.currency]
        source = rows.index(duplicate)
        at = min(source + draw.between(1, 6), len(rows))  # pasted again a few rows later
        rows.insert(at, duplicate)
        blanks = sorted(draw.sample(range(1, len(rows)), blank_rows), reverse=True)
        for position in blanks:  # inserting from the bottom keeps earlier positions valid
            rows.insert(position, ("",) * len(INVOICE_HEADER))
        # Sheet row numbers: the header is row 1, so rows[i] sits on row i + 2.
        notes["duplicate_invoice_rows"] = ",".join(
            str(i + 2) for i, row in enumerate(rows) if row is duplicate
        )
        notes["blank_invoice_rows"] = ",".join(
            str(i + 2) for i, row in enumerate(rows) if not any(row)
        )
        notes["unmapped_invoice_status"] = UNMAPPED_INVOICE_STATUS
        notes["unknown_budget_line"] = UNKNOWN_BUDGET_LINE
        tab = SheetTab(title=INVOICES_TITLE, rows=(INVOICE_HEADER, *rows))
        return InvoiceSheet(tab=tab, invoiced_usd=dict(invoiced), notes=notes)

    def _row(self, invoice: _Invoice, number: str) -> tuple[tuple[str, ...], str]:
        """The typed cells and the status."""
        draw, vendor, plant = self._draw, invoice.vendor, invoice.plant
        terms = draw.pick(_PAYMENT_TERMS)
        due = invoice.issued + terms
        status = (_PAID_BY_NOW if due < -10 else _OPEN).draw(draw)
        if plant == "unmapped_invoice_status_invoice":
            status = UNMAPPED_INVOICE_STATUS
        elif plant == "non_numeric_amount_invoice":
            status = "Draft"  # nobody approves an amount still to be decided
        amount = format_amount(invoice.amount, vendor.currency, invoice.amount_style)
        line = invoice.line
        milestone = line.milestone.name if line.milestone else ""
        po = f"PO-{draw.between(4100, 9899)}" if vendor.uses_po and draw.chance(0.9) else ""
        note = draw.pick(INVOICE_NOTES) if draw.chance(0.2) else ""
        style = invoice.date_style
        cells = (
            number,
            vendor.name,
            NON_NUMERIC_AMOUNT if plant == "non_numeric_amount_invoice" else amount,
            vendor.currency,
            status,
            format_date(self._calendar.day(invoice.issued), style),
            format_date(self._calendar.day(due), style),
            milestone,
            UNKNOWN_BUDGET_LINE if plant == "unknown_budget_line_invoice" else line.name,
            po,
            note,
        )
        return cells, status

    def _invoice(self, vendor: Vendor, line: BudgetLine) -> _Invoice:
        """Issue date inside the line's window, amount in the vendor's currency."""
        draw = self._draw
        low, high = self._window(line)
        low_usd, high_usd = line.category.usd_range
        usd = low_usd + (high_usd - low_usd) * draw.random() ** 1.6  # most invoices are small
        amount = usd / USD_PER_UNIT[vendor.currency]
        if vendor.currency == "JPY":
            amount = float(round(amount, -2))
        elif draw.chance(0.45):
            amount = float(round(amount))
        else:
            amount = round(amount, 2)
        return _Invoice(issued=draw.between(low, high), vendor=vendor, line=line, amount=amount)

    def _window(self, line: BudgetLine) -> tuple[int, int]:
        """Days (from the epoch) when invoices against `line` arrive; never after the epoch."""
        if line.milestone is None:
            return -280, -1
        due = self._calendar.offset(line.milestone.due)
        low, high = max(due - 75, -280), min(due + 20, -1)
        return (low, high) if low < high else (-30, -1)  # future line: deposits only

    def _line_weight(self, line: BudgetLine) -> float:
        if line.milestone is None:
            return 2.0
        due = self._calendar.offset(line.milestone.due)
        return 3.0 if due < -30 else 2.0 if due <= 30 else 0.7
