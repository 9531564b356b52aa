"""Named transforms: the messy values sheets and tools really hold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from syncd.mapping.paths import MISSING, get_path, parse_path, set_path
from syncd.mapping.transforms import currency_of, parse_date, parse_money

FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%b %d, %Y"]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$1,200.50", "1200.50"),
        ("1.200,50 €", "1200.50"),
        ("EUR 3,400.00", "3400.00"),
        ("£950", "950"),
        ("1200.5", "1200.5"),
        ("1,200", "1200"),
        ("1.200", "1200"),
        ("¥120000", "120000"),
        ("-45.10", "-45.10"),
        ("(45.10)", "-45.10"),
        ("1 234,5", "1234.5"),
        (1200.5, "1200.5"),
        (3, "3"),
    ],
)
def test_parse_money(text: object, amount: str) -> None:
    assert parse_money(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["TBD", "n/a", "--"])
def test_parse_money_refuses_words(text: str) -> None:
    with pytest.raises(ValueError, match="is not an amount"):
        parse_money(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("$1,200.50", "USD"),
        ("1.200,50 €", "EUR"),
        ("EUR 3,400.00", "EUR"),
        ("£9", "GBP"),
        ("1200", None),
    ],
)
def test_currency_of(text: str, code: str | None) -> None:
    assert currency_of(text) == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-14", date(2026, 3, 14)),
        ("14/03/2026", date(2026, 3, 14)),
        ("Mar 14, 2026", date(2026, 3, 14)),
        (46095, date(2026, 3, 14)),  # a spreadsheet serial number
        ("", None),
    ],
)
def test_parse_date(text: object, expected: date | None) -> None:
    assert parse_date(text, FORMATS) == expected


def test_parse_date_names_the_formats() -> None:
    with pytest.raises(ValueError, match="not a date in any of the formats"):
        parse_date("next Tuesday", FORMATS)


def test_paths_quote_segments_and_index_lists() -> None:
    data = {"fields": {"Story point estimate": 3, "a.b": 1}, "list": [{"id": 7}]}
    assert get_path(data, parse_path('fields."Story point estimate"')) == 3
    assert get_path(data, parse_path('fields."a.b"')) == 1
    assert get_path(data, parse_path("list.0.id")) == 7
    assert get_path(data, parse_path("fields.nope")) is MISSING
    out: dict[str, object] = {}
    set_path(out, parse_path("fields.assignee.accountId"), "x")
    assert out == {"fields": {"assignee": {"accountId": "x"}}}
    with pytest.raises(ValueError, match="unclosed quote"):
        parse_path('fields."oops')
