"""Jira's value formats: timestamps, dates, time-tracking durations, Atlassian Document Format."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from typing import Any

# Jira's time tracking defaults: a working day is 8 hours, a working week 5 days.
SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 8 * SECONDS_PER_HOUR
SECONDS_PER_WEEK = 5 * SECONDS_PER_DAY
_UNIT_SECONDS = {
    "w": SECONDS_PER_WEEK,
    "d": SECONDS_PER_DAY,
    "h": SECONDS_PER_HOUR,
    "m": SECONDS_PER_MINUTE,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])", re.IGNORECASE)


def to_millis(moment: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the sandbox keeps time zone-aware UTC")
    delta = moment - _EPOCH  # integer arithmetic: exact, and much faster than float timestamps
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_millis(millis: int, zone: tzinfo = UTC) -> datetime:
    """The aware datetime for epoch milliseconds, in `zone`."""
    return datetime.fromtimestamp(millis / 1000, zone)


def format_timestamp(millis: int, zone: tzinfo) -> str:
    """Jira's timestamp: `2025-01-10T12:34:56.789+0000` (milliseconds, offset without colon)."""
    # isoformat() of a whole-second datetime is `2025-01-10T12:34:56+00:00`; splice in the
    # milliseconds and drop the offset's colon (several times faster than strftime).
    text = datetime.fromtimestamp(millis // 1000, zone).isoformat()
    return f"{text[:19]}.{millis % 1000:03d}{text[19:22]}{text[23:25]}"


def format_date(day: date | None) -> str | None:
    """Jira's date-only value, `2025-02-01`."""
    return day.isoformat() if day else None


def parse_date(text: str) -> date:
    """A `YYYY-MM-DD` date as Jira accepts it in `duedate`; ValueError otherwise."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return date.fromisoformat(text)


def parse_duration(text: str) -> int:
    """Seconds for a Jira duration such as `2d 4h` or `90` (bare numbers are minutes)."""
    cleaned = text.strip()
    if re.fullmatch(r"\d+", cleaned):
        return int(cleaned) * SECONDS_PER_MINUTE
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            raise ValueError(text)
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        position = match.end()
    if position == 0 or cleaned[position:].strip():
        raise ValueError(text)
    return round(total)


def format_duration(seconds: int) -> str:
    """Jira's rendering of a duration: `1w 2d 3h 30m`, `0m` for zero."""
    parts: list[str] = []
    remaining = seconds
    for unit, size in _UNIT_SECONDS.items():
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


def adf_from_text(text: str | None) -> dict[str, Any] | None:
    """An Atlassian Document Format doc for plain text: one paragraph per blank-line block."""
    if text is None:
        return None
    content: list[dict[str, Any]] = []
    for block in text.split("\n\n"):
        nodes: list[dict[str, Any]] = []
        for index, line in enumerate(block.split("\n")):
            if index:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def text_from_adf(document: Any) -> str:
    """The plain text of an ADF doc; ValueError when `document` is not one."""
    if not isinstance(document, dict) or document.get("type") != "doc":
        raise ValueError("not an Atlassian Document")
    blocks = [_inline_text(node) for node in document.get("content") or []]
    return "\n\n".join(blocks)


def _inline_text(node: Any) -> str:
    if not isinstance(node, dict):
        raise ValueError("not an Atlassian Document node")
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    return "".join(_inline_text(child) for child in node.get("content") or [])
