"""The JQL the connector sends, and its cursor: pure functions, no I/O.

The cursor is the latest `updated` seen so far, as an ISO 8601 UTC string with milliseconds
(so it sorts as text the way it sorts in time). JQL date literals are minute-granular and
read in the searching user's time zone: an incremental pull asks for
`updated >= "<cursor minus the overlap, in that zone, floored to the minute>"`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo

# Keyset order: `updated` first (the cursor), the key as tie-break, so pages never shift.
ORDER = "ORDER BY updated ASC, key ASC"
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*$")


def quote(value: str) -> str:
    """A JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pull_jql(projects: Sequence[str], since: datetime | None, zone: tzinfo | None) -> str:
    """Issues of the projects updated at or after `since` (every one when None), in order."""
    where = f"project in ({', '.join(quote(p) for p in projects)})"
    if since is not None:
        where += f' AND updated >= "{local_minute(since, zone or UTC)}"'
    return f"{where} {ORDER}"


def local_minute(moment: datetime, zone: tzinfo) -> str:
    """`moment` as a JQL date in `zone`, floored to the minute, never later than `moment`.

    A wall time the zone lives twice (clocks going back) or skips (going forward) could be
    read an hour late; then the literal names the hour before, which only reads more.
    """
    local = moment.astimezone(zone)
    naive = local.replace(tzinfo=None)
    earlier = naive.replace(tzinfo=zone, fold=0).utcoffset()
    later = naive.replace(tzinfo=zone, fold=1).utcoffset()
    if earlier != later:
        local = (moment - timedelta(hours=1)).astimezone(zone)
    return f"{local:%Y/%m/%d %H:%M}"


def keys_jql(keys: Sequence[str]) -> str:
    """The issues with these keys."""
    return f"key in ({', '.join(quote(k) for k in keys)})"


def is_issue_key(value: str) -> bool:
    """Whether `value` looks like an issue key ("HRB-12"); anything else cannot exist."""
    return bool(ISSUE_KEY.match(value))


def parse_timestamp(value: str) -> datetime:
    """A Jira timestamp (`2026-10-01T09:30:00.123+0000`) or ISO 8601 string, as aware UTC."""
    text = value.strip().replace("Z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_cursor(moment: datetime) -> str:
    """The cursor text for a moment."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_cursor(cursor: str | None) -> datetime | None:
    """The moment a cursor names; None for no cursor. ValueError when it is not one of ours."""
    if cursor is None or not cursor.strip():
        return None
    return parse_timestamp(cursor)


def since_for(cursor: datetime | None, overlap: timedelta) -> datetime | None:
    """Where an incremental pull starts reading: the cursor minus the overlap window."""
    return None if cursor is None else cursor - overlap
