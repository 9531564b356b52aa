"""FORMATTED_VALUE rendering: numbers and dates through a cell's numberFormat pattern.

Covers the patterns USER_ENTERED parsing assigns and the common ones a person picks
(`#,##0.00`, `"$"#,##0.00`, `0%`, `0.00%`, `yyyy-mm-dd`, `M/d/yyyy`, `h:mm am/pm`, ...).
Unknown pattern tokens are printed literally rather than guessed.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from syncd_sandbox.sheets.user_entered import from_serial

DATE_TYPES = frozenset({"DATE", "TIME", "DATE_TIME"})
_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_TOKEN = re.compile(r'"[^"]*"|\\.|am/pm|a/p|([yYmMdDhHsS])\1*', re.IGNORECASE)


def is_date_format(number_format: dict[str, Any] | None) -> bool:
    """True for DATE / TIME / DATE_TIME number formats."""
    return bool(number_format) and (number_format or {}).get("type") in DATE_TYPES


def general_number(value: float) -> str:
    """Sheets' automatic format: integers plainly, else up to 10 significant digits."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.10g}"
    return text.upper() if "e" in text else text


def format_number(value: float, number_format: dict[str, Any] | None) -> str:
    """Render a number with its numberFormat (general when there is none)."""
    if not number_format:
        return general_number(value)
    kind = number_format.get("type")
    return _formatted(value, str(kind) if kind else None, str(number_format.get("pattern") or ""))


@lru_cache(maxsize=65_536)
def _formatted(value: float, kind: str | None, pattern: str) -> str:
    # Cached: a sheet repeats its dates and amounts, and a 5,000-row read renders each cell
    # (the emulator must not add latency of its own beyond the stated one).
    if kind in DATE_TYPES:
        return format_date(value, pattern or _DEFAULT_DATE_PATTERNS[str(kind)])
    if not pattern:
        if kind == "PERCENT":
            pattern = "0.00%"
        elif kind == "CURRENCY":
            pattern = '"$"#,##0.00'
        elif kind == "SCIENTIFIC":
            pattern = "0.00E+00"
        else:
            return general_number(value)
    return format_number_pattern(value, pattern)


_DEFAULT_DATE_PATTERNS = {
    "DATE": "M/d/yyyy",
    "TIME": "h:mm:ss am/pm",
    "DATE_TIME": "M/d/yyyy H:mm:ss",
}


def format_number_pattern(value: float, pattern: str) -> str:
    """Render with a number pattern such as `"$"#,##0.00`, `0%` or `0.00E+00`."""
    section = _split_sections(pattern)[0]
    prefix, core, suffix = _split_core(section)
    if not core:
        return general_number(value)
    if "%" in prefix + suffix:
        value *= 100
    integer, _, fraction = core.partition(".")
    if "E" in core.upper():
        decimals = fraction.upper().split("E")[0].count("0")
        return ("-" if value < 0 else "") + prefix + f"{abs(value):.{decimals}E}" + suffix
    min_decimals = fraction.count("0")
    max_decimals = min_decimals + fraction.count("#")
    grouping = "," in integer
    text = f"{abs(value):{',' if grouping else ''}.{max_decimals}f}"
    if max_decimals > min_decimals and "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(min_decimals, "0")
        text = whole + ("." + frac if frac else "")
    negative = value < 0 and float(text.replace(",", "")) != 0
    return ("-" if negative else "") + prefix + text + suffix


def _split_sections(pattern: str) -> list[str]:
    sections, current, quoted = [], "", False
    for char in pattern:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            sections.append(current)
            current = ""
        else:
            current += char
    return [*sections, current]


def _split_core(section: str) -> tuple[str, str, str]:
    """Literal prefix, numeric core (#0,.E+-), literal suffix; quotes and escapes unwrapped."""
    parts: list[tuple[str, bool]] = []  # (text, is_literal)
    i = 0
    while i < len(section):
        char = section[i]
        if char == '"':
            end = section.find('"', i + 1)
            end = len(section) if end < 0 else end
            parts.append((section[i + 1 : end], True))
            i = end + 1
        elif char == "\\" and i + 1 < len(section):
            parts.append((section[i + 1], True))
            i += 2
        else:
            parts.append((char, char not in "#0,.?Ee+-" or not _in_core(section, i)))
            i += 1
    core_positions = [k for k, (_, literal) in enumerate(parts) if not literal]
    if not core_positions:
        return "".join(t for t, _ in parts), "", ""
    first, last = core_positions[0], core_positions[-1]
    prefix = "".join(t for t, _ in parts[:first])
    core = "".join(t for t, _ in parts[first : last + 1])
    suffix = "".join(t for t, _ in parts[last + 1 :])
    return prefix.replace("*", ""), core.replace("?", "0"), suffix


def _in_core(section: str, index: int) -> bool:
    """`E`, `+` and `-` belong to the number only inside `0.00E+00`; elsewhere they are text."""
    char = section[index]
    if char in "#0,.?":
        return True
    before = section[:index]
    if char in "Ee":
        return (
            bool(before)
            and before[-1] in "0#."
            and index + 1 < len(section)
            and section[index + 1] in "+-"
        )
    return bool(before) and before[-1] in "Ee"


def format_date(serial: float, pattern: str) -> str:
    """Render a serial number with a date/time pattern (`yyyy-mm-dd`, `h:mm am/pm`, ...)."""
    moment = from_serial(serial)
    tokens = [m.group(0) for m in _TOKEN.finditer(pattern)]
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(pattern)]
    twelve_hour = any(t.lower() in ("am/pm", "a/p") for t in tokens)
    kinds = [
        t[0].lower() if t[0].isalpha() and t.lower() not in ("am/pm", "a/p") else "" for t in tokens
    ]
    out, cursor = [], 0
    for index, (token, (start, end)) in enumerate(zip(tokens, spans, strict=True)):
        out.append(pattern[cursor:start])
        cursor = end
        out.append(_render_token(token, kinds, index, moment, twelve_hour))
    out.append(pattern[cursor:])
    return "".join(out)


def _render_token(
    token: str, kinds: list[str], index: int, moment: datetime, twelve_hour: bool
) -> str:
    lower = token.lower()
    if lower.startswith('"'):
        return token[1:-1]
    if lower.startswith("\\"):
        return token[1:]
    if lower in ("am/pm", "a/p"):
        marker = "AM" if moment.hour < 12 else "PM"
        return marker if lower == "am/pm" else marker[0]
    kind, width = lower[0], len(token)
    if kind == "y":
        return f"{moment.year % 100:02d}" if width <= 2 else str(moment.year)
    if kind == "d":
        if width >= 4:
            return _DAY_NAMES[moment.weekday()]
        if width == 3:
            return _DAY_NAMES[moment.weekday()][:3]
        return f"{moment.day:0{width}d}"
    if kind == "h":
        hour = moment.hour % 12 or 12 if twelve_hour else moment.hour
        return f"{hour:0{min(width, 2)}d}"
    if kind == "s":
        return f"{moment.second:0{min(width, 2)}d}"
    # m: minutes right after an hour or right before seconds, months otherwise
    previous = [k for k in kinds[:index] if k][-1:]
    following = [k for k in kinds[index + 1 :] if k][:1]
    is_minute = width <= 2 and (previous == ["h"] or following == ["s"])
    if is_minute:
        return f"{moment.minute:0{width}d}"
    if width >= 4:
        return _MONTH_NAMES[moment.month - 1]
    if width == 3:
        return _MONTH_NAMES[moment.month - 1][:3]
    return f"{moment.month:0{width}d}"
