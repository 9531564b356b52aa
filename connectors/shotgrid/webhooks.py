"""ShotGrid webhook deliveries: check the signature, then say which records changed.

A delivery is `{"data": <event>, "timestamp"}`, or with "Deliver in Batched Format"
`{"data": {"deliveries": [<event>, ...]}, "timestamp"}` (up to 50). An event names its
`event_type` (`Shotgun_<Type>_New|Change|Retirement|Revival`), the `entity` ({type, id}),
the `project`, the `user` who made the change (an ApiUser for script writes) and its own
`delivery_id`. The signature is `X-SG-SIGNATURE: sha1=<hex HMAC-SHA1(secret token, body)>`
over the raw bytes; ShotGrid signs only when the webhook has a secret token, so syncd
refuses every delivery until one is configured. Only the body is signed, so an event's
dedupe key comes from it (its `delivery_id`, else its `event_log_entry_id`), never from the
`x-sg-delivery-id` header, which whoever replays a captured body could change at will.

An attribute change carries the new value (`meta.new_value`), so `apply_events` can bring a
stored record up to date without re-reading it, where the order of events is certain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from syncd.connector import WebhookEvent
from syncd.signatures import SignatureError, verify_shotgrid

from .paging import format_time, parse_time

EVENT_TYPE = re.compile(
    r"^Shotgun_(?P<entity>[A-Za-z][A-Za-z0-9]*)_(?P<op>New|Change|Retirement|Revival)$"
)


def author_of(user: Any) -> str | None:
    """`"<type>:<id>"` of an event's `user` (HumanUser and ApiUser ids overlap)."""
    if isinstance(user, Mapping) and user.get("type") and user.get("id") is not None:
        return f"{user['type']}:{user['id']}"
    return None


def parse_deliveries(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str | None,
    secret_setting: str,
    entities: Collection[str],
    project_id: int,
) -> list[WebhookEvent]:
    """Verify one webhook request and turn its events into `WebhookEvent`s.

    Raises `SignatureError` for a missing secret or a bad signature, `ValueError` for a body
    that is not a ShotGrid delivery. Events of entity types outside `entities`, or of
    another project, are left out.
    """
    if not secret:
        raise SignatureError(
            f"{secret_setting} is not set: ShotGrid deliveries cannot be verified, "
            "so every one is refused"
        )
    verify_shotgrid(headers, body, secret)
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"ShotGrid webhook body is not JSON: {exc}") from None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise ValueError('ShotGrid webhook body has no "data" object')
    batched = "deliveries" in data
    deliveries = data["deliveries"] if batched else [data]
    if not isinstance(deliveries, list):
        raise ValueError('"data.deliveries" of a batched ShotGrid webhook is not a list')
    events = []
    for index, delivery in enumerate(deliveries):
        event = _event(delivery, index, entities, project_id)
        if event is not None:
            events.append(event)
    return events


def _event(
    delivery: Any,
    index: int,
    entities: Collection[str],
    project_id: int,
) -> WebhookEvent | None:
    where = f"ShotGrid delivery {index}"
    if not isinstance(delivery, dict):
        raise ValueError(f"{where} is not an object")
    event_type = delivery.get("event_type")
    match = EVENT_TYPE.match(event_type) if isinstance(event_type, str) else None
    if match is None:
        raise ValueError(
            f"{where} has an unknown event_type {event_type!r} "
            "(expected Shotgun_<Type>_New|Change|Retirement|Revival)"
        )
    entity = delivery.get("entity")
    if (
        not isinstance(entity, dict)
        or not isinstance(entity.get("id"), int)
        or isinstance(entity.get("id"), bool)
    ):
        raise ValueError(f"{where} ({event_type}) names no entity {{type, id}}")
    entity_type = str(entity.get("type") or match["entity"])
    if entity_type not in entities:
        return None  # a webhook for a type syncd does not map: not an error
    project = delivery.get("project")
    if isinstance(project, dict) and project.get("id") not in (None, project_id):
        return None  # another project's record
    return WebhookEvent(
        delivery_id=event_key(delivery, where, str(event_type)),
        entity=entity_type,
        external_id=str(entity["id"]),
        deleted=match["op"] == "Retirement",
        author=author_of(delivery.get("user")),
    )


def event_key(delivery: Mapping[str, Any], where: str, event_type: str) -> str:
    """The dedupe key of one event, from the signed body: its `delivery_id`, or else its
    `event_log_entry_id` (unique on the site too)."""
    delivery_id = delivery.get("delivery_id")
    if isinstance(delivery_id, str) and delivery_id.strip():
        return delivery_id.strip()
    entry = delivery.get("event_log_entry_id")
    if isinstance(entry, int) and not isinstance(entry, bool):
        return f"event:{entry}"
    raise ValueError(f"{where} ({event_type}) has no delivery_id nor event_log_entry_id")


# Field types whose event values have the shape a REST read gives (others are re-read:
# date_time and multi-entity changes are written differently in the event log).
_PLAIN_TYPES = frozenset(
    {"text", "status_list", "list", "number", "float", "checkbox", "date", "duration", "percent"}
)


def _events_of(body: bytes) -> list[dict[str, Any]]:
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return []
    events = data.get("deliveries", [data])
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _event_time(event: Mapping[str, Any]) -> datetime | None:
    """An event's `created_at` (`2022-02-01 20:53:08.523887`, UTC) to the whole second."""
    text = event.get("created_at")
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).replace(microsecond=0)


def _new_value(event: Mapping[str, Any]) -> tuple[str, Any] | None:
    """(attribute, new value) of an attribute change whose value can be used as read."""
    meta = event.get("meta")
    if not isinstance(meta, Mapping) or meta.get("type") != "attribute_change":
        return None
    attribute = meta.get("attribute_name") or event.get("attribute_name")
    if not isinstance(attribute, str) or "new_value" not in meta:
        return None  # a payload over 1 MB loses its values
    value, kind = meta["new_value"], meta.get("field_data_type")
    if kind in _PLAIN_TYPES:
        return attribute, value
    if kind == "entity" and (value is None or (isinstance(value, Mapping) and "name" in value)):
        link = None if value is None else {k: value.get(k) for k in ("type", "id", "name")}
        return attribute, link
    return None


def apply_events(
    entity: str,
    stored: Mapping[str, Mapping[str, Any]],
    bodies: Sequence[bytes],
    fields: Collection[str],
) -> dict[str, dict[str, Any]]:
    """Stored records with the attribute changes the deliveries report applied.

    ShotGrid's `updated_at` has whole seconds, an event's `created_at` microseconds: an
    event from a later second than the stored `updated_at` is certainly not in the stored
    data, while one from the same second or earlier may be (or be older than it), so its
    record is re-read, as are records with an event of another kind (created, retired),
    a value not in the read shape, or stored data that lacks a field syncd reads.
    """
    events: dict[str, list[Mapping[str, Any]]] = {}
    for body in bodies:
        for event in _events_of(body):
            target = event.get("entity")
            if isinstance(target, Mapping) and target.get("type") == entity:
                key = str(target.get("id"))
                if key in stored:
                    events.setdefault(key, []).append(event)
    out: dict[str, dict[str, Any]] = {}
    for key, found in events.items():
        data = dict(stored[key])
        if not all(name in data for name in fields) or not data.get("updated_at"):
            continue
        try:
            updated = parse_time(str(data["updated_at"]))
        except ValueError:
            continue
        latest, ok = updated, True
        for entry in sorted(found, key=lambda e: _number(e.get("event_log_entry_id"))):
            change, moment = _new_value(entry), _event_time(entry)
            if change is None or moment is None or moment <= updated:
                ok = False
                break
            attribute, value = change
            if attribute in data:  # a field syncd does not read changes only the clock
                data[attribute] = value
            latest = max(latest, moment)
        if ok:
            data["updated_at"] = format_time(latest)
            out[key] = data
    return out


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
