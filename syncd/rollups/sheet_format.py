"""How rollup values look in Google Sheets: typed cell values, number formats, alert colours.

Numbers are written as numbers (`numberValue`), never as text, so producers can sort and
sum them; dates and times as serial numbers (days since 1899-12-30, times in the
spreadsheet's time zone) with a date format; money with the reporting currency's symbol.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncd.rollups.model import Alert, Kind, Link, Scalar, Tone, Typed, Value

SHEETS_EPOCH = date(1899, 12, 30)
DATE_PATTERN = "yyyy-mm-dd"
DATETIME_PATTERN = "yyyy-mm-dd hh:mm"
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
_NO_CENTS = frozenset({"JPY", "KRW"})
TONE_COLOURS: dict[Tone, tuple[dict[str, float], dict[str, float]]] = {
    # (background, text)
    "bad": ({"red": 0.96, "green": 0.8, "blue": 0.8}, {"red": 0.6, "green": 0.0, "blue": 0.0}),
    "warn": ({"red": 1.0, "green": 0.93, "blue": 0.75}, {"red": 0.5, "green": 0.35, "blue": 0.0}),
    "good": ({"red": 0.85, "green": 0.94, "blue": 0.83}, {"red": 0.1, "green": 0.4, "blue": 0.1}),
}
HEADER_BACKGROUND = {"red": 0.9, "green": 0.9, "blue": 0.9}
NOTE_COLOUR = {"red": 0.4, "green": 0.4, "blue": 0.4}


def money_pattern(currency: str) -> str:
    """A CURRENCY pattern with the currency's symbol: "$"#,##0.00, "¥"#,##0, #,##0.00 "CHF"."""
    digits = "#,##0" if currency in _NO_CENTS else "#,##0.00"
    symbol = _SYMBOLS.get(currency)
    return f'"{symbol}"{digits}' if symbol else f'{digits} "{currency}"'


def number_format(kind: Kind, currency: str) -> dict[str, str] | None:
    """The numberFormat of a kind, None for text-like kinds."""
    formats = {
        Kind.INT: {"type": "NUMBER", "pattern": "#,##0"},
        Kind.NUMBER: {"type": "NUMBER", "pattern": "#,##0.00"},
        Kind.HOURS: {"type": "NUMBER", "pattern": "#,##0.0"},
        Kind.MONEY: {"type": "CURRENCY", "pattern": money_pattern(currency)},
        Kind.PERCENT: {"type": "PERCENT", "pattern": "0.00%"},  # ratios are kept to 0.01 %
        Kind.DATE: {"type": "DATE", "pattern": DATE_PATTERN},
        Kind.DATETIME: {"type": "DATE_TIME", "pattern": DATETIME_PATTERN},
    }
    return formats.get(kind)


def cell_format(kind: Kind, currency: str) -> dict[str, Any]:
    """userEnteredFormat of a value cell of that kind."""
    fmt: dict[str, Any] = {}
    number = number_format(kind, currency)
    if number is not None:
        fmt["numberFormat"] = number
    if kind is Kind.STATUS:
        fmt["horizontalAlignment"] = "CENTER"
    return fmt


def sheet_zone(name: str | None) -> tzinfo:
    """The spreadsheet's time zone (UTC when unknown)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def serial(value: date, zone: tzinfo = UTC) -> float | int:
    """A date (whole days) or a datetime (in `zone`) as a Sheets serial number."""
    if isinstance(value, datetime):
        local = value.astimezone(zone).replace(tzinfo=None)
        delta = local - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86_400
    return (value - SHEETS_EPOCH).days


def plain(value: Value) -> tuple[Kind | None, Scalar]:
    """A value's own kind (None: the column's) and its scalar."""
    if isinstance(value, Typed):
        return value.kind, value.value
    return None, value


def extended_value(value: Scalar, kind: Kind, zone: tzinfo) -> dict[str, Any] | None:
    """The userEnteredValue of a scalar, None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, Link):
        return {"stringValue": value.text}
    if isinstance(value, date):  # datetime is a date too
        return {"numberValue": serial(value, zone)}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"numberValue": value}
    if isinstance(value, Decimal):
        number = float(value)
        return {"numberValue": int(number) if number.is_integer() else number}
    if kind is Kind.INT and value.lstrip("-").isdigit():
        return {"numberValue": int(value)}
    return {"stringValue": value}


def cell_data(
    value: Value, column_kind: Kind, currency: str, zone: tzinfo, *, column_format: bool = False
) -> dict[str, Any]:
    """CellData for one value: its typed value, and its format unless the column carries it.

    `column_format`: the column's format is applied to the whole column at once (one
    `repeatCell`), so a plain value of the column's kind carries no format of its own.
    """
    own, scalar = plain(value)
    kind = own or column_kind
    if isinstance(scalar, date) and kind not in (Kind.DATE, Kind.DATETIME):
        kind = Kind.DATETIME if isinstance(scalar, datetime) else Kind.DATE
    data: dict[str, Any] = {}
    entered = extended_value(scalar, kind, zone)
    if entered is not None:
        data["userEnteredValue"] = entered
    inherited = column_format and own is None and kind is column_kind
    fmt = {} if inherited else cell_format(kind, currency)
    if isinstance(scalar, Link) and scalar.url:
        fmt["textFormat"] = {"link": {"uri": scalar.url}}
    if fmt:
        data["userEnteredFormat"] = fmt
    return data


def condition(alert: Alert) -> dict[str, Any]:
    """The BooleanCondition of one alert (one word for `is` alerts: see `conditions`)."""
    if alert.when == "is":
        raise ValueError("an 'is' alert has one condition per word: use conditions()")
    kind = "NUMBER_GREATER" if alert.when == "above" else "NUMBER_LESS"
    return {"type": kind, "values": [{"userEnteredValue": format(alert.threshold, "f")}]}


def conditions(alert: Alert) -> list[dict[str, Any]]:
    """The BooleanConditions of an alert: one per word for `is`, else one."""
    if alert.when == "is":
        return [{"type": "TEXT_EQ", "values": [{"userEnteredValue": w}]} for w in alert.words]
    return [condition(alert)]


def tone_format(tone: Tone) -> dict[str, Any]:
    """The format a firing alert applies."""
    background, text = TONE_COLOURS[tone]
    return {"backgroundColor": background, "textFormat": {"foregroundColor": text, "bold": True}}
