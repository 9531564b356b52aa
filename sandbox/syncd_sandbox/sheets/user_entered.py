"""USER_ENTERED parsing: turn what a person types into a value and, sometimes, a number format.

Mirrors the en_US behaviour of Sheets for the cases syncd meets: plain and grouped numbers,
percentages, `$` currency, ISO and US dates (optionally with a time), times, booleans,
formulas and the leading-apostrophe "keep as text". Anything else stays text - so
"1.200,50 €" in an en_US spreadsheet is a string, exactly the mess a real sheet holds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from syncd_sandbox.sheets.cells import Entered

SERIAL_EPOCH = datetime(1899, 12, 30)
Parsed = tuple[Entered, dict[str, Any] | None]
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?"
_PLAIN = re.compile(rf"^([+-]?)({_NUMBER})(?:[eE]([+-]?\d+))?$")
_PERCENT = re.compile(rf"^([+-]?)({_NUMBER})\s*%$")
_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?")
# (regex, date pattern Sheets shows afterwards, group order)
_DATES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})"), "yyyy-mm-dd", "ymd"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})"), "yyyy/mm/dd", "ymd"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})"), "M/d/yyyy", "mdy"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2})(?!\d)"), "M/d/yy", "mdy"),
    (re.compile(r"^([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})"), "mmm d, yyyy", "Mdy"),
    (re.compile(r"^(\d{1,2})[ -]([A-Za-z]{3,9})[ -](\d{4})"), "d mmm yyyy", "dMy"),
]


def to_serial(moment: datetime) -> float:
    """A naive date-time as a Sheets serial number (days since 1899-12-30)."""
    delta = moment - SERIAL_EPOCH
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000


def from_serial(serial: float) -> datetime:
    """A serial number back to a naive date-time (to the nearest second)."""
    days = int(serial // 1)
    seconds = round((serial - days) * 86400)
    return SERIAL_EPOCH + timedelta(days=days, seconds=seconds)


def parse_user_entered(
    text: str, *, currency_symbols: str = "$"
) -> tuple[Entered | None, dict[str, Any] | None]:
    """Interpret typed text; return (value, numberFormat it implies or None)."""
    if text == "":
        return None, None
    if text.startswith("'"):
        return Entered("string", text[1:]), None
    if text.startswith("=") and len(text) > 1:
        return Entered("formula", text), None
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return Entered("bool", stripped.upper() == "TRUE"), None
    if not any(char.isdigit() for char in stripped):
        return Entered("string", text), None  # no digit, no number: the common case, fast
    for parse in (_number, _percent, _currency(currency_symbols), _date_time, _time_only):
        parsed = parse(stripped)
        if parsed is not None:
            return parsed
    return Entered("string", text), None


def _to_float(sign: str, digits: str) -> float | None:
    if not re.search(r"\d", digits):
        return None
    value = float(digits.replace(",", ""))
    return -value if sign == "-" else value


def _decimals(digits: str) -> int:
    return len(digits.partition(".")[2])


def _number(text: str) -> Parsed | None:
    match = _PLAIN.match(text)
    if not match:
        return None
    sign, digits, exponent = match.groups()
    value = _to_float(sign, digits)
    if value is None:
        return None
    if exponent is not None:
        return Entered("number", value * 10 ** int(exponent)), {
            "type": "SCIENTIFIC",
            "pattern": "0.00E+00",
        }
    if "," in digits:
        decimals = _decimals(digits)
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return Entered("number", value), {"type": "NUMBER", "pattern": pattern}
    return Entered("number", value), None


def _percent(text: str) -> Parsed | None:
    match = _PERCENT.match(text)
    if not match:
        return None
    value = _to_float(*match.groups())
    if value is None:
        return None
    pattern = "0.00%" if _decimals(match.group(2)) else "0%"
    return Entered("number", value / 100), {"type": "PERCENT", "pattern": pattern}


@functools.lru_cache(maxsize=8)
def _currency(symbols: str) -> Callable[[str], Parsed | None]:
    escaped = re.escape(symbols)
    forms = [
        re.compile(rf"^([+-]?)([{escaped}])\s*([+-]?)({_NUMBER})$"),
        re.compile(rf"^\(([{escaped}])\s*({_NUMBER})\)$"),
    ]

    def parse(text: str) -> Parsed | None:
        if not symbols:
            return None
        match = forms[0].match(text)
        if match:
            sign_before, symbol, sign_after, digits = match.groups()
            negative = (sign_before == "-") != (sign_after == "-")
        else:
            match = forms[1].match(text)
            if not match:
                return None
            symbol, digits = match.groups()
            negative = True
        value = _to_float("-" if negative else "", digits)
        if value is None:
            return None
        decimals = ".00" if _decimals(digits) else ""
        pattern = f'"{symbol}"#,##0{decimals}'
        return Entered("number", value), {"type": "CURRENCY", "pattern": pattern}

    return parse


def _date_time(text: str) -> Parsed | None:
    for regex, pattern, order in _DATES:
        match = regex.match(text)
        if not match:
            continue
        day = _make_date(match.groups(), order)
        rest = text[match.end() :].strip()
        if day is None:
            return None
        if not rest:
            return Entered("number", to_serial(datetime.combine(day, time()))), {
                "type": "DATE",
                "pattern": pattern,
            }
        moment = _parse_time(rest.removeprefix("T").strip())
        if moment is None:
            return None
        clock, time_pattern = moment
        return Entered("number", to_serial(datetime.combine(day, clock))), {
            "type": "DATE_TIME",
            "pattern": f"{pattern} {time_pattern}",
        }
    return None


def _make_date(groups: tuple[str, ...], order: str) -> date | None:
    parts = dict(zip(order, groups, strict=True))
    try:
        year = int(parts["y"])
        if len(parts["y"]) == 2:
            year += 2000 if year < 30 else 1900  # Sheets' two-digit year pivot
        month = _MONTHS.get(parts["M"].lower(), 0) if "M" in parts else int(parts["m"])
        return date(year, month, int(parts["d"]))
    except (ValueError, KeyError):
        return None


def _parse_time(text: str) -> tuple[time, str] | None:
    match = _TIME.fullmatch(text)
    if not match:
        return None
    hour, minute, second, meridiem = match.groups()
    h, m, s = int(hour), int(minute), int(second or 0)
    if meridiem:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if meridiem.lower() == "pm" else 0)
    if h > 23 or m > 59 or s > 59:
        return None
    pattern = "h:mm" + (":ss" if second else "") + (" am/pm" if meridiem else "")
    return time(h, m, s), pattern


def _time_only(text: str) -> Parsed | None:
    parsed = _parse_time(text)
    if parsed is None:
        return None
    clock, pattern = parsed
    serial = (clock.hour * 3600 + clock.minute * 60 + clock.second) / 86400
    return Entered("number", serial), {"type": "TIME", "pattern": pattern}
