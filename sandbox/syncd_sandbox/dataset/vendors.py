"""Outsourcing vendors and freelancers, the budget lines they bill, and how people type money.

Amounts and dates are written the way the person logging the invoice typed them, so the
sheet holds "$1,200.50", "1.200,50 €" and "Mar 14, 2026" side by side: the sheets mapping
has to parse all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

REPORTING_CURRENCY = "USD"
# Fixed reporting rates (USD per unit): budget lines are planned in USD with these.
USD_PER_UNIT: dict[str, float] = {
    "USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "JPY": 0.0067,
}  # fmt: skip

INVOICE_HEADER = (
    "Invoice #", "Vendor", "Amount", "Currency", "Status", "Issued", "Due",
    "Milestone", "Budget Line", "PO", "Notes",
)  # fmt: skip
BUDGET_HEADER = ("Budget Line", "Department", "Milestone", "Budget", "Currency", "Owner")

INVOICE_STATUSES = ("Draft", "Submitted", "Approved", "Paid", "Disputed", "Void")
UNMAPPED_INVOICE_STATUS = "Partially Paid"
NON_NUMERIC_AMOUNT = "TBD"
# A typo of a real line: the invoice names a budget line that does not exist.
MEANT_BUDGET_LINE = "Art Outsourcing (Alpha)"
UNKNOWN_BUDGET_LINE = "Art Outsorcing (Alpha)"


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of external spend: one budget line per milestone it spans."""

    name: str
    department: str
    milestones: tuple[str, ...]  # milestone keys; () means one line for the whole project
    usd_range: tuple[int, int]  # typical invoice, in USD
    budget_currency: str = REPORTING_CURRENCY


CATEGORIES: tuple[Category, ...] = (
    Category("Art Outsourcing", "Art", ("M2", "M3", "M4"), (3_000, 45_000)),
    Category("Freelance Concept Art", "Art", ("M1", "M2"), (400, 6_000)),
    Category("Audio — VO", "Audio", ("M3", "M4", "M5"), (300, 4_000)),
    Category("Music & SFX", "Audio", ("M3", "M5"), (1_000, 15_000)),
    Category("Mocap", "Animation", ("M2", "M3", "M4"), (5_000, 40_000)),
    Category("VFX Outsourcing", "VFX", ("M4", "M5"), (3_000, 30_000)),
    Category("Localization", "Production", ("M5", "M6"), (1_000, 20_000), "EUR"),
    Category("External QA", "QA", ("M3", "M5", "M6"), (2_000, 25_000)),
    Category("Playtest & User Research", "Design", ("M2", "M3"), (1_500, 12_000)),
    Category("Tools & Licenses", "Engineering", (), (200, 12_000)),
)


@dataclass(frozen=True, slots=True)
class Vendor:
    """Someone who bills the studio, in their own currency, with or without purchase orders."""

    name: str
    category: str
    currency: str
    uses_po: bool = True


VENDORS: tuple[Vendor, ...] = (
    Vendor("Studio Łódź Sp. z o.o.", "Art Outsourcing", "EUR"),
    Vendor("Émile & Fils", "Art Outsourcing", "EUR"),
    Vendor("Pixel Harbour Ltd", "Art Outsourcing", "GBP"),
    Vendor("Mondragón Arte S.L.", "Art Outsourcing", "EUR"),
    Vendor("Sài Gòn Pixel Co.", "Art Outsourcing", "USD"),
    Vendor("Northbeam Art Partners", "Art Outsourcing", "USD"),
    Vendor("Chloé Marchand", "Freelance Concept Art", "EUR", uses_po=False),
    Vendor("Jörg Krämer (freelance)", "Freelance Concept Art", "EUR", uses_po=False),
    Vendor("森 健二", "Freelance Concept Art", "JPY", uses_po=False),
    Vendor("Aiyana Redcloud", "Freelance Concept Art", "USD", uses_po=False),
    Vendor("Ōkami Audio 株式会社", "Audio — VO", "JPY"),
    Vendor("Sarah O'Neill (VO)", "Audio — VO", "GBP", uses_po=False),
    Vendor("Voces del Sur S.A.", "Audio — VO", "EUR"),
    Vendor("Booth Nine Voice Studio", "Audio — VO", "USD"),
    Vendor("Nordlys Lyd AS", "Music & SFX", "EUR"),
    Vendor("Foley Factory", "Music & SFX", "GBP"),
    Vendor("Motion Hall Montréal", "Mocap", "CAD"),
    Vendor("CaptureWerk GmbH", "Mocap", "EUR"),
    Vendor("Fumée & Lumière VFX", "VFX Outsourcing", "EUR"),
    Vendor("Ember Sparks Studio", "VFX Outsourcing", "CAD"),
    Vendor("Lingua Nova Localization", "Localization", "USD"),
    Vendor("Babel Übersetzungen GmbH", "Localization", "EUR"),
    Vendor("Tōkyō Loc Works 合同会社", "Localization", "JPY"),
    Vendor("TestForce QA Inc.", "External QA", "USD"),
    Vendor("Kraków QA Labs Sp. z o.o.", "External QA", "EUR"),
    Vendor("Maple Bug Hunters", "External QA", "CAD"),
    Vendor("PlayLab Research Inc.", "Playtest & User Research", "USD"),
    Vendor("Élan UX Studio", "Playtest & User Research", "EUR"),
    Vendor("Depotwise Version Control", "Tools & Licenses", "USD"),
    Vendor("RenderRiver Cloud", "Tools & Licenses", "USD"),
    Vendor("Texel Tools Ltd", "Tools & Licenses", "GBP"),
)

INVOICE_NOTES = (
    "rush fee incl.", "50% deposit", "final payment", "VO pickups — session 3",
    "awaiting signed SOW", "re-issued after currency fix", "see email from Zoë",
    "split across two lines?", "net 30", "paid by wire",
)  # fmt: skip

# Amount styles: "symbol" is the currency's own habit ("$1,200.50", "£950", "1.200,50 €"),
# "plain" a bare number ("1200.5"), "code" an ISO prefix ("EUR 3,400.00").
AMOUNT_STYLES = ("symbol", "plain", "code")
# (currency, style) pairs planted in every production so each written form is present.
PLANTED_AMOUNT_FORMS = (
    ("USD", "symbol"), ("EUR", "symbol"), ("GBP", "symbol"), ("USD", "plain"), ("EUR", "code"),
)  # fmt: skip
# Date styles: slashed dates are day first (DD/MM/YYYY), as a European coordinator types.
DATE_STYLES = ("iso", "slash", "month")
_SYMBOLS = {"USD": "$", "GBP": "£", "CAD": "CA$", "JPY": "¥"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_amount(amount: float, currency: str, style: str) -> str:
    """Type `amount` in `style`: "$1,200.50", "1.200,50 €", "£950", "1200.5", "EUR 3,400.00"."""
    no_cents = currency == "JPY" or amount == int(amount)
    if style == "plain":
        return f"{amount:.0f}" if no_cents else f"{amount:.2f}".rstrip("0").rstrip(".")
    grouped = f"{amount:,.0f}" if currency == "JPY" else f"{amount:,.2f}"
    if style == "code":
        return f"{currency} {grouped}"
    if currency == "EUR":  # continental habit: dot groups, comma decimals, sign after
        return grouped.replace(",", " ").replace(".", ",").replace(" ", ".") + " €"
    if no_cents and currency == "GBP":
        grouped = f"{amount:,.0f}"
    return f"{_SYMBOLS[currency]}{grouped}"


def format_date(day: date, style: str) -> str:
    """Type `day` in `style`: "2026-03-14", "14/03/2026" or "Mar 14, 2026"."""
    if style == "iso":
        return day.isoformat()
    if style == "slash":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
