"""Named value transforms a mapping file can reference: each a pure (pull, push) pair.

A transform is a name, never an expression: anything clever lives here, unit-tested. Pull
turns a source value into a record value; push turns it back. A transform that cannot be
reversed has no push side, and validation refuses it on a field that pushes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from syncd.mapping.spec import FieldSpec


class UnknownValue(ValueError):
    """A source value the mapping has no translation for (flagged on the record, not fatal)."""


@dataclass(frozen=True, slots=True)
class TransformContext:
    """What a transform may look at besides the value: the field's options and the people."""

    connector: str
    field: FieldSpec
    people: Mapping[str, str]  # this connector's user id -> email, learned from the tool


PullFn = Callable[[Any, TransformContext], Any]
PushFn = Callable[[Any, TransformContext], Any]


@dataclass(frozen=True, slots=True)
class Transform:
    """A named transform and its two directions (push None: pull only)."""

    name: str
    pull: PullFn
    push: PushFn | None
    doc: str


_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "C$": "CAD", "CA$": "CAD"}
_NUMBER = re.compile(r"[-+]?[\d.,'\s]*\d")


def parse_money(text: Any) -> Decimal | None:
    """Parse "$1,200.50", "1.200,50 €", "EUR 3,400.00", "1200.5" or a number into a Decimal.

    The decimal separator is the last "," or "." when it is followed by one or two digits
    (or by three with the other separator before it); otherwise both are thousands marks.
    """
    if text is None or text == "":
        return None
    if isinstance(text, int | float | Decimal) and not isinstance(text, bool):
        return Decimal(repr(text)) if isinstance(text, float) else Decimal(text)
    raw = str(text).strip()
    negative = raw.startswith("-") or (raw.startswith("(") and raw.endswith(")"))
    match = _NUMBER.search(raw)
    if not match:
        raise ValueError(f"{raw!r} is not an amount")
    digits = re.sub(r"[\s']", "", match.group(0).lstrip("+-"))
    last_comma, last_dot = digits.rfind(","), digits.rfind(".")
    decimal_at = max(last_comma, last_dot)
    if decimal_at >= 0:
        tail = len(digits) - decimal_at - 1
        both = last_comma >= 0 and last_dot >= 0
        if tail in (1, 2) or (both and tail == 3) or (tail > 3):
            whole = re.sub(r"[.,]", "", digits[:decimal_at])
            digits = f"{whole}.{digits[decimal_at + 1 :]}"
        else:  # "1,200" or "1.200": thousands separators only
            digits = re.sub(r"[.,]", "", digits)
    try:
        value = Decimal(digits)
    except InvalidOperation as exc:
        raise ValueError(f"{raw!r} is not an amount") from exc
    return -value if negative else value


def currency_of(text: Any) -> str | None:
    """The ISO 4217 code written in a money text ("$", "€", "EUR"...), or None."""
    if text is None:
        return None
    raw = str(text).strip()
    code = re.search(r"\b([A-Z]{3})\b", raw)
    if code:
        return code.group(1)
    for sign in sorted(_CURRENCY_SIGNS, key=len, reverse=True):
        if sign in raw:
            return _CURRENCY_SIGNS[sign]
    return None


_SHEETS_EPOCH = date(1899, 12, 30)
DEFAULT_DATE_FORMATS = ["%Y-%m-%d"]


def parse_date(value: Any, formats: list[str]) -> date | None:
    """Parse a date in any of `formats`; also ISO datetimes and spreadsheet serial numbers."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _SHEETS_EPOCH + timedelta(days=int(value))
    return _parse_date_text(str(value).strip(), tuple(formats))


@lru_cache(maxsize=4096)
def _parse_date_text(text: str, formats: tuple[str, ...]) -> date:
    # Cached: a production's dates repeat (milestones, due dates), and strptime is slow.
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a date in any of the formats {list(formats)}")


def parse_datetime(value: Any) -> datetime | None:
    """Parse an ISO 8601 or Jira-style (+0000) timestamp into an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text)  # 3.11+: "Z" and "+0000" included
        except ValueError:
            text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text.replace("Z", "+00:00"))
            parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _formats(ctx: TransformContext) -> list[str]:
    return ctx.field.formats or DEFAULT_DATE_FORMATS


def _date_pull(value: Any, ctx: TransformContext) -> Any:
    return parse_date(value, _formats(ctx))


def _date_push(value: Any, ctx: TransformContext) -> Any:
    if value is None:
        return None
    return date.fromisoformat(str(value)).strftime(_formats(ctx)[0])


def _datetime_push(value: Any, ctx: TransformContext) -> Any:
    if value is None:
        return None
    moment = parse_datetime(value)
    assert moment is not None
    return moment.strftime(ctx.field.formats[0]) if ctx.field.formats else moment.isoformat()


def _money_pull(value: Any, _: TransformContext) -> Any:
    return parse_money(value)


def _plain(value: Any, _: TransformContext) -> Any:
    return value


def _currency_pull(value: Any, _: TransformContext) -> Any:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    return currency_of(text) or currency_of(text.upper()) or text.upper()


def _seconds_to_hours(value: Any, _: TransformContext) -> Any:
    return None if value is None else Decimal(value) / 3600


def _hours_to_seconds(value: Any, _: TransformContext) -> Any:
    return None if value is None else int(Decimal(str(value)) * 3600)


def _minutes_to_hours(value: Any, _: TransformContext) -> Any:
    return None if value is None else Decimal(value) / 60


def _hours_to_minutes(value: Any, _: TransformContext) -> Any:
    return None if value is None else int(Decimal(str(value)) * 60)


def _first(value: Any, _: TransformContext) -> Any:
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _as_list(value: Any, _: TransformContext) -> Any:
    return [] if value is None else [value]


def _entity_id(value: Any, _: TransformContext) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return str(value["id"])
    return str(value)


def _entity_ref(value: Any, ctx: TransformContext) -> Any:
    if value is None:
        return None
    if not ctx.field.entity_type:
        raise ValueError("the entity_id transform needs entity_type to push")
    return {"type": ctx.field.entity_type, "id": int(value)}


def _entity_name(value: Any, _: TransformContext) -> Any:
    if isinstance(value, Mapping):
        return value.get("name") or value.get("code")
    return value


def _select_value(value: Any, _: TransformContext) -> Any:
    if isinstance(value, Mapping):
        return value.get("value")
    return value


def _select_option(value: Any, _: TransformContext) -> Any:
    return None if value is None else {"value": value}


def _person_pull(value: Any, ctx: TransformContext) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):  # a user object: prefer the email it shows
        email = value.get("emailAddress") or value.get("email")
        if email:
            return str(email).lower()
        value = value.get("accountId") or value.get("id")
    text = str(value)
    if "@" in text:
        return text.lower()
    email = ctx.people.get(text)
    if email is None:
        raise UnknownValue(f"user {text!r} has no known email; add it to the user table")
    return email


def _person_push(value: Any, ctx: TransformContext) -> Any:
    if value is None:
        return None
    for user_id, email in ctx.people.items():
        if email == value:
            return user_id
    raise UnknownValue(f"{value!r} has no account in {ctx.connector}")


def _labels_pull(value: Any, _: TransformContext) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def _labels_push_text(value: Any, _: TransformContext) -> Any:
    return ", ".join(value or [])


def _text_pull(value: Any, _: TransformContext) -> Any:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in [
        Transform("date", _date_pull, _date_push, "date in `formats` (first is written)"),
        Transform(
            "datetime",
            lambda v, _: parse_datetime(v),
            _datetime_push,
            "ISO/Jira timestamp; written in `formats[0]` (UTC)",
        ),
        Transform("money", _money_pull, _plain, 'amount like "$1,200.50" or "1.200,50 €"'),
        Transform("currency", _currency_pull, _plain, 'currency code or sign ("€" -> EUR)'),
        Transform("seconds_to_hours", _seconds_to_hours, _hours_to_seconds, "Jira seconds"),
        Transform("minutes_to_hours", _minutes_to_hours, _hours_to_minutes, "ShotGrid minutes"),
        Transform("first", _first, _as_list, "first item of a list; pushes a one-item list"),
        Transform("entity_id", _entity_id, _entity_ref, "id of a linked entity"),
        Transform("entity_name", _entity_name, None, "name of a linked entity (read only)"),
        Transform("select", _select_value, _select_option, 'Jira select option {"value"}'),
        Transform("person", _person_pull, _person_push, "user id or object <-> email"),
        Transform("labels", _labels_pull, _plain, "list of labels, or comma text"),
        Transform("labels_text", _labels_pull, _labels_push_text, "labels kept as comma text"),
        Transform("text", _text_pull, _plain, "trimmed text; blank is empty"),
    ]
}
