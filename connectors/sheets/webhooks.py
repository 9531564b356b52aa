"""Deliveries of the shipped Apps Script trigger (docs/apps-script/syncd-trigger.gs).

Signed with Standard Webhooks v1 (`webhook-id`, `webhook-timestamp`, `webhook-signature`);
the id is the same for every retry of one event, so it is the delivery's dedupe key. Two
payloads: `sheet.edit` (a person changed a block of cells) and `sheet.change` (rows
inserted, removed, sorted...). Either way the event says "this tab changed": rows move, so
syncd re-reads the tab and matches rows by key, never by the row numbers in the payload.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from syncd.connector import WebhookEvent
from syncd.signatures import SignatureError, verify_standard

log = logging.getLogger(__name__)


class TriggerEvent(BaseModel):
    """What both payloads carry that syncd uses (the rest is ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: Literal["sheet.edit", "sheet.change"]
    spreadsheetId: str
    sheetName: str
    user: str | None = None


def parse_delivery(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str | None,
    secret_setting: str,
    now: float,
    spreadsheet_id: str,
    tabs: Collection[str],
) -> list[WebhookEvent]:
    """Verify one delivery and say which synced tab changed (none: another tab or sheet).

    Raises SignatureError for a missing secret or a bad, stale or absent signature, and
    ValueError for a body that is not a trigger event.
    """
    if not secret:
        raise SignatureError(f"the webhook secret is not set: set {secret_setting}")
    delivery_id = verify_standard(headers, body, secret, now=now)
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"the webhook body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError("the webhook body is not a JSON object")
    try:
        event = TriggerEvent.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"not a sheet.edit or sheet.change event ({problems})") from None
    if event.spreadsheetId != spreadsheet_id:
        log.info("ignoring delivery %s for another spreadsheet", delivery_id)
        return []
    if event.sheetName not in tabs:
        return []  # a tab syncd does not sync (notes, rollups...): nothing to refresh
    return [
        WebhookEvent(
            delivery_id=delivery_id,
            entity=event.sheetName,
            external_id=None,
            author=event.user,
        )
    ]
