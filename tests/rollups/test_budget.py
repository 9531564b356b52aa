"""Budget per line and per milestone, and overdue invoices, on small hand-made inputs."""

from __future__ import annotations

from decimal import Decimal

from syncd.rollups.budget import budget_tab, line_spend, milestone_spend, overdue_invoices
from syncd.rollups.definitions import Converter
from tests.rollups.build import data, days, invoice, line, rows, settings

RATES = Converter.of("USD", {"EUR": 1.08, "JPY": 0.0067})
PLAN = settings(milestones={"Alpha": days(-18), "Beta": days(95)}, rates={"EUR": 1.08})


def test_no_data_gives_an_empty_budget_and_a_zero_total():
    assert line_spend(data(), RATES) == []
    [(name, total)] = milestone_spend(data(), RATES, PLAN)
    assert name == "Total" and total.budget is None and total.approved == 0


def test_invoiced_approved_paid_variance_and_burn():
    lines = (line("Mocap (Alpha)", amount=10_000, currency="USD", milestone="Alpha"),)
    invoices = (
        invoice(1, amount=1000, currency="EUR", status="paid", budget_line="Mocap (Alpha)"),
        invoice(2, amount=2000, currency="USD", status="approved", budget_line="Mocap (Alpha)"),
        invoice(3, amount=300, currency="USD", status="submitted", budget_line="Mocap (Alpha)"),
        invoice(4, amount=400, currency="USD", status="disputed", budget_line="Mocap (Alpha)"),
        invoice(5, amount=500, currency="USD", status="draft", budget_line="Mocap (Alpha)"),
        invoice(6, amount=9999, currency="USD", status="void", budget_line="Mocap (Alpha)"),
        invoice(7, amount=150_000, currency="JPY", status="paid", budget_line="Mocap (Alpha)"),
    )
    [mocap] = line_spend(data(budget_lines=lines, invoices=invoices), RATES)
    spend = mocap.spend
    paid = Decimal("1080") + Decimal("1005.0000")  # 1000 EUR x 1.08 + 150,000 JPY x 0.0067
    assert spend.paid == paid
    assert spend.approved == paid + 2000
    assert spend.invoiced == paid + 2000 + 300 + 400  # drafts are not invoiced yet
    assert spend.invoices == 6  # the void one counts nowhere
    assert spend.variance == Decimal("10000") - paid - 2000
    assert spend.burn == Decimal("0.4085")
    assert spend.not_counted == []


def test_unknown_currency_is_flagged_never_converted_one_to_one():
    lines = (line("Tools", amount=5000, currency="CHF"),)
    invoices = (
        invoice(1, amount=100, currency="CHF", status="paid", budget_line="Tools"),
        invoice(2, amount=50, currency="USD", status="paid", budget_line="Tools"),
    )
    [tools] = line_spend(data(budget_lines=lines, invoices=invoices), RATES)
    assert tools.spend.budget is None  # a CHF budget without a rate: no budget figure
    assert tools.spend.paid == Decimal(50)
    assert tools.spend.not_counted == [
        "budget (CHF 5,000.00: no rate)",
        "INV-1 (CHF 100.00: no rate)",
    ]
    assert tools.spend.variance is None and tools.spend.burn is None


def test_unreadable_amounts_and_statuses_are_named_not_guessed():
    lines = (line("VO", amount=1000, currency="USD"),)
    invoices = (
        invoice(1, currency="USD", status="draft", budget_line="VO"),  # amount "TBD"
        invoice(2, amount=10, currency="USD", budget_line="VO"),  # status "Partially Paid"
    )
    [vo] = line_spend(data(budget_lines=lines, invoices=invoices), RATES)
    assert vo.spend.not_counted == ["INV-1 (no amount)", "INV-2 (status unreadable)"]
    assert vo.spend.invoiced == 0 and vo.spend.invoices == 2


def test_invoices_on_unknown_lines_get_their_own_rows():
    lines = (line("Art Outsourcing (Alpha)", amount=100, currency="USD"),)
    invoices = (
        invoice(1, amount=10, currency="USD", status="paid", budget_line="Art Outsorcing (Alpha)"),
        invoice(2, amount=20, currency="USD", status="paid"),
    )
    names = [row.name for row in line_spend(data(budget_lines=lines, invoices=invoices), RATES)]
    assert names == [
        "Art Outsourcing (Alpha)",
        "(unknown line) Art Outsorcing (Alpha)",
        "(no line)",
    ]


def test_per_milestone_uses_the_invoices_milestone_then_its_lines():
    lines = (
        line("A (Alpha)", amount=100, currency="USD", milestone="Alpha"),
        line("B (Beta)", amount=200, currency="USD", milestone="Beta"),
        line("Tools", amount=50, currency="USD"),
    )
    invoices = (
        invoice(1, amount=10, currency="USD", status="paid", budget_line="A (Alpha)"),
        invoice(2, amount=20, currency="USD", status="paid", budget_line="A (Alpha)",
                milestone="Beta"),
        invoice(3, amount=5, currency="USD", status="approved", budget_line="Tools"),
        invoice(4, amount=7, currency="USD", status="approved", milestone="Gold"),
    )  # fmt: skip
    spends = milestone_spend(data(budget_lines=lines, invoices=invoices), RATES, PLAN)
    figures = {name: (s.budget, s.approved) for name, s in spends}
    assert list(figures) == ["Alpha", "Beta", "Gold", "(project-wide)", "Total"]
    assert figures["Alpha"] == (Decimal(100), Decimal(10))
    assert figures["Beta"] == (Decimal(200), Decimal(20))
    assert figures["Gold"] == (None, Decimal(7))
    assert figures["(project-wide)"] == (Decimal(50), Decimal(5))
    assert figures["Total"] == (Decimal(350), Decimal(42))


def test_overdue_invoices_are_unpaid_and_past_due_most_overdue_first():
    invoices = (
        invoice(1, amount=100, currency="EUR", status="approved", due=days(-3), vendor="Émile"),
        invoice(2, amount=100, currency="USD", status="submitted", due=days(-30)),
        invoice(3, amount=100, currency="USD", status="disputed", due=days(-1)),
        invoice(4, amount=100, currency="USD", status="paid", due=days(-40)),
        invoice(5, amount=100, currency="USD", status="draft", due=days(-40)),
        invoice(6, amount=100, currency="USD", status="void", due=days(-40)),
        invoice(7, amount=100, currency="USD", status="approved", due=days(0)),
        invoice(8, amount=100, currency="CHF", status="approved", due=days(-2)),
    )
    overdue = overdue_invoices(data(invoices=invoices), RATES, settings())
    assert [(o.number, o.days) for o in overdue] == [
        ("INV-2", 30), ("INV-1", 3), ("INV-8", 2), ("INV-3", 1),
    ]  # fmt: skip
    assert overdue[1].amount == Decimal("108.00") and overdue[1].billed == "EUR 100.00"
    assert overdue[2].amount is None  # no CHF rate
    grace = overdue_invoices(data(invoices=invoices), RATES, settings(invoice_overdue_after_days=2))
    assert [o.number for o in grace] == ["INV-2", "INV-1"]


def test_tab_rows_are_rounded_and_alerts_fire_over_budget():
    lines = (line("L", amount=100, currency="USD"),)
    invoices = (invoice(1, amount="100.505", currency="USD", status="paid", budget_line="L"),)
    input_data = data(budget_lines=lines, invoices=invoices)
    config = settings(over_budget_at=1.0)
    tab = budget_tab(
        line_spend(input_data, RATES), milestone_spend(input_data, RATES, config),
        overdue_invoices(input_data, RATES, config), RATES, config,
    )  # fmt: skip
    [row] = rows(tab.tables[0])
    assert row["paid"] == Decimal("100.50") and row["variance"] == Decimal("-0.50")  # half even
    assert row["burn"] == Decimal("1.0050")  # from the unrounded sums
    burn = tab.tables[0].column("burn")
    assert burn.alerts[0].matches(row["burn"])
    assert tab.tables[0].chart is not None and tab.tables[0].chart.series == (
        "budget", "approved", "paid",
    )  # fmt: skip


def test_rounding_never_shows_minus_zero():
    lines = (line("L", amount=100, currency="USD"),)
    invoices = (invoice(1, amount="100.004", currency="USD", status="paid", budget_line="L"),)
    [row] = line_spend(data(budget_lines=lines, invoices=invoices), RATES)
    assert str(row.spend.variance) == "0.00"
