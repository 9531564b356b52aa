"""ShotGrid webhook deliveries: check the signature, then say which records changed.

A delivery is `{"data": <event>, "timestamp"}`, or with "Deliver in Batched Format"
`{"data": {"deliveries": [<event>, ...]}, "timestamp"}` (up to 50). An event names its
`event_type` (`Shotgun_<Type>_New|Change|Retirement|Revival`), the `entity` ({type, id}),
the `project`, the `user` who made the change (an ApiUser for script writes) and its own
`delivery_id`. The signature is `X-SG-SIGNATURE: sha1=<hex HMAC-SHA1(secret token, body)>`
over the raw bytes; ShotGrid signs only when the webhook has a secret token, so syncd
refuses every delivery until one is configured.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from syncd.connector import WebhookEvent
from syncd.signatures import SignatureError, verify_shotgrid

EVENT_TYPE = re.compile(
    r"^Shotgun_(?P<entity>[A-Za-z][A-Za-z0-9]*)_(?P<op>New|Change|Retirement|Revival)$"
)


def author_of(user: Any) -> str | None:
    """`"<type>:<id>"` of an event's `user` (HumanUser and ApiUser ids overlap)."""
    if isinstance(user, Mapping) and user.get("type") and user.get("id") is not None:
        return f"{user['type']}:{user['id']}"
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


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
    # A non-batched request carries its delivery's id in a header as well.
    header_id = None if batched else _header(headers, "x-sg-delivery-id")
    events = []
    for index, delivery in enumerate(deliveries):
        event = _event(delivery, index, header_id, entities, project_id)
        if event is not None:
            events.append(event)
    return events


def _event(
    delivery: Any,
    index: int,
    header_id: str | None,
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
    delivery_id = delivery.get("delivery_id") or header_id
    if not delivery_id and delivery.get("id"):
        delivery_id = f"event:{delivery['id']}"  # the event log entry id is unique too
    if not delivery_id:
        raise ValueError(f"{where} ({event_type}) has no delivery_id")
    return WebhookEvent(
        delivery_id=str(delivery_id),
        entity=entity_type,
        external_id=str(entity["id"]),
        deleted=match["op"] == "Retirement",
        author=author_of(delivery.get("user")),
    )
