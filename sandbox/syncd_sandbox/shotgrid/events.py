"""ShotGrid webhook deliveries built from committed changes.

Per the webhooks guide: a create is one `Shotgun_<Type>_New` delivery (no per-field update
deliveries for the initial values); an update is one `Shotgun_<Type>_Change` delivery per
changed attribute, as the event log records one entry per field; delete and revive are
`_Retirement` / `_Revival`. `user` is the ApiUser for script writes and the HumanUser for a
person's edit. Multi-entity changes carry `meta.added` / `meta.removed` instead of old/new
values. The events of one write share an `x-sg-event-batch-id`; the optional batched format
sends them as `{"timestamp", "data": {"deliveries": [...]}}`, at most 50 per request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from syncd_sandbox.signing import sign_shotgrid
from syncd_sandbox.webhooks import WebhookConfig, WebhookSender

from .store import Link, Store
from .values import fmt_datetime, fmt_event_datetime, link_dict, wire
from .writes import Change

BATCH_LIMIT = 50
_EVENT_NAMES = {"create": "New", "update": "Change", "delete": "Retirement", "revive": "Revival"}


class ShotGridWebhookSender(WebhookSender):
    """A WebhookSender whose configs default to a single attempt.

    The webhooks guide documents failure accounting but no redelivery, so a config that does not
    set `max_attempts` explicitly (including one PUT to /_sandbox/webhook) gets 1.
    """

    def __init__(self, config: WebhookConfig | None = None) -> None:
        super().__init__(
            name="shotgrid",
            sign=sign_shotgrid,
            # Every failure counts; whether it is retried is up to max_attempts alone.
            retry_statuses=frozenset(range(400, 600)),
            config=config,
        )

    @property
    def config(self) -> WebhookConfig:
        """The delivery config (URL, secret, mode, attempts)."""
        return self._config

    @config.setter
    def config(self, value: WebhookConfig) -> None:
        if "max_attempts" not in value.model_fields_set:
            value = value.model_copy(update={"max_attempts": 1})
        self._config = value


class EventEmitter:
    """Numbers events (monotonic `event_log_entry_id`) and hands deliveries to the sender."""

    def __init__(
        self,
        sender: WebhookSender,
        clock: Callable[[], datetime],
        *,
        batched: bool,
        webhook_id: str,
        site_url: str,
        entity_types: Iterable[str] | None,
        first_event_id: int = 1000,
    ) -> None:
        self.sender, self.clock = sender, clock
        self.batched = batched
        self.webhook_id, self.site_url = webhook_id, site_url
        self.entity_types = frozenset(entity_types) if entity_types is not None else None
        self.last_event_id = first_event_id - 1
        self._batch_id = 0

    def emit(
        self, store: Store, changes: list[Change], actor: Link, session_uuid: str | None
    ) -> None:
        """Turn one write's changes into deliveries (no-op when the actor logs no events)."""
        if not changes or not _logs_events(store, actor):
            return
        now = self.clock()
        self._batch_id += 1
        events = [
            event
            for change in changes
            for event in self._events(store, change, actor, session_uuid, now)
            if self.entity_types is None or change.entity.type in self.entity_types
        ]
        if not events:
            return
        stamp = fmt_datetime(now)
        if self.batched:
            for index, start in enumerate(range(0, len(events), BATCH_LIMIT)):
                chunk = events[start : start + BATCH_LIMIT]
                payload = {"timestamp": stamp, "data": {"deliveries": chunk}}
                self.sender.send(payload, self._headers(str(uuid.uuid4()), len(chunk), index))
            return
        for index, event in enumerate(events):
            headers = self._headers(event["delivery_id"], len(events), index)
            self.sender.send({"data": event, "timestamp": stamp}, headers)

    def _headers(self, delivery_id: str, size: int, index: int) -> dict[str, str]:
        return {
            "x-sg-webhook-id": self.webhook_id,
            "x-sg-delivery-id": delivery_id,
            "x-sg-event-batch-id": str(self._batch_id),
            "x-sg-event-batch-size": str(size),
            "x-sg-event-batch-index": str(index),
            "x-sg-webhook-site-url": self.site_url,
        }

    def _events(
        self,
        store: Store,
        change: Change,
        actor: Link,
        session_uuid: str | None,
        now: datetime,
    ) -> list[dict[str, Any]]:
        entity, record = change.entity, change.record
        event_type = f"Shotgun_{entity.type}_{_EVENT_NAMES[change.kind]}"
        base_meta: dict[str, Any] = {"entity_type": entity.type, "entity_id": record.id}
        if change.kind == "update":
            metas: list[tuple[str | None, dict[str, Any]]] = []
            for fc in change.fields:
                meta = {
                    "type": "attribute_change",
                    **base_meta,
                    "attribute_name": fc.field.name,
                    "field_data_type": fc.field.data_type,
                }
                if fc.field.data_type == "multi_entity":
                    old, new = set(fc.old or ()), set(fc.new or ())
                    meta["added"] = [link_dict(store, x) for x in fc.new or () if x not in old]
                    meta["removed"] = [link_dict(store, x) for x in fc.old or () if x not in new]
                else:
                    meta["old_value"] = wire(store, fc.field, fc.old)
                    meta["new_value"] = wire(store, fc.field, fc.new)
                metas.append((fc.field.name, meta))
        elif change.kind == "create":
            metas = [(None, {"type": "new_entity", **base_meta})]
        else:
            meta = {
                "type": "entity_retirement" if change.kind == "delete" else "entity_revival",
                **base_meta,
                "class_name": entity.type,
                "display_name": store.display_name(entity, record),
            }
            if change.kind == "delete":
                meta["retirement_date"] = fmt_event_datetime(now)
            metas = [(None, meta)]
        events = []
        for attribute, meta in metas:
            self.last_event_id += 1
            events.append(
                {
                    "id": f"{self.last_event_id}.{self._batch_id}.0",
                    "event_log_entry_id": self.last_event_id,
                    "event_type": event_type,
                    "operation": change.kind,
                    "entity": {"type": entity.type, "id": record.id},
                    "project": _ref(change.project),
                    "user": {"type": actor[0], "id": actor[1]},
                    "attribute_name": attribute,
                    "meta": meta,
                    "created_at": fmt_event_datetime(now),
                    "session_uuid": session_uuid,
                    "delivery_id": str(uuid.uuid4()),
                }
            )
        return events


def _ref(link: Link | None) -> dict[str, Any] | None:
    return None if link is None else {"type": link[0], "id": link[1]}


def _logs_events(store: Store, actor: Link) -> bool:
    """A script's writes reach the event log (and webhooks) only if its ApiUser logs them."""
    if actor[0] != "ApiUser":
        return True
    entity = store.schema.entities["ApiUser"]
    record = store.get("ApiUser", actor[1])
    return record is None or bool(record.values[entity.index["generate_event_log_entries"]])
