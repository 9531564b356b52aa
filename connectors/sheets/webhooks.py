"""Deliveries of the shipped Apps Script trigger (docs/apps-script/syncd-trigger.gs).

Signed with Standard Webhooks v1 (`webhook-id`, `webhook-timestamp`, `webhook-signature`);
the id is the same for every retry of one event, so it is the delivery's dedupe key. Two
payloads: `sheet.edit` (a person changed a block of cells) and `sheet.change` (rows
inserted, removed, sorted...). Either way the event says "this tab changed", and rows are
matched by key, never by position. When every delivery waiting for a tab is a cell edit,
`edited_rows` names the rows, and only those (with the header and the key column, which
tell the columns and the duplicate keys) are read: an edit leaves rows where they are, and
whatever moves rows arrives as a `sheet.change`, which has the whole tab re-read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping, Sequence
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
    rowStart: int | None = None  # sheet.edit: the edited block's rows, 1-based, inclusive
    rowEnd: int | None = None


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


def edited_rows(
    bodies: Sequence[bytes], *, spreadsheet_id: str, tab: str, header_row: int, limit: int
) -> list[int] | None:
    """The rows of `tab` that stored (verified) cell-edit deliveries name, in order.

    None when they cannot narrow the read down: a structural change, an edit without rows
    or touching the header, another tab or sheet, or more than `limit` rows in all.
    """
    rows: set[int] = set()
    for body in bodies:
        try:
            event = TriggerEvent.model_validate_json(body)
        except ValidationError:
            return None
        start, end = event.rowStart, event.rowEnd
        if (
            event.type != "sheet.edit"
            or event.spreadsheetId != spreadsheet_id
            or event.sheetName != tab
            or start is None
            or end is None
            or start <= header_row
            or end < start
            or end - start >= limit
        ):
            return None
        rows.update(range(start, end + 1))
        if len(rows) > limit:
            return None
    return sorted(rows) or None
