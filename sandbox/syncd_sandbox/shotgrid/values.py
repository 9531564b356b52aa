"""Wire formats: datetimes and dates as ShotGrid writes and reads them, links as dicts.

Reads use `YYYY-MM-DDTHH:MM:SSZ` (UTC, second precision) and `YYYY-MM-DD`. A create's reply
uses `YYYY-MM-DD HH:MM:SS UTC` instead (recorded in the create cassettes), and webhook events
use `YYYY-MM-DD HH:MM:SS.ffffff`. Written datetimes may carry an offset (normalised to UTC),
no zone (taken as UTC) or be a bare date (midnight UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from .schema import FieldDef
from .store import Link, Store

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def fmt_datetime(moment: datetime) -> str:
    """`2021-06-15T09:06:29Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_create_datetime(moment: datetime) -> str:
    """`2021-06-16 08:55:53 UTC`, the format a create's reply uses."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_event_datetime(moment: datetime) -> str:
    """`2022-02-01 20:53:08.523887`, the format of a webhook event's `created_at`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def parse_datetime(text: str) -> datetime:
    """Parse a written datetime to UTC at second precision; ValueError if malformed."""
    if _DATE.match(text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def parse_date(text: str) -> date:
    """Parse `YYYY-MM-DD` strictly; ValueError for anything else (timestamps included)."""
    if not _DATE.match(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def link_dict(store: Store, link: Link) -> dict[str, Any]:
    """`{"id", "name", "type"}`, the shape of an entity value on the wire."""
    return {"id": link[1], "name": store.link_name(link), "type": link[0]}


def wire(store: Store, f: FieldDef, value: Any) -> Any:
    """A stored value in its read format."""
    if value is None:
        return [] if f.data_type == "multi_entity" else None
    if f.data_type == "date_time":
        return fmt_datetime(value)
    if f.data_type == "date":
        return value.isoformat()
    if f.data_type == "entity":
        return link_dict(store, value)
    if f.data_type == "multi_entity":
        return [link_dict(store, link) for link in value]
    return value


def ruby_class(value: Any) -> str:
    """The Ruby class name the site's type errors quote for a JSON value."""
    if value is None:
        return "NilClass"
    if isinstance(value, bool):
        return "TrueClass" if value else "FalseClass"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Hash"
