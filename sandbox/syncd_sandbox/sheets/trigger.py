"""What the shipped Apps Script (docs/apps-script/syncd-trigger.gs) sends, and how it signs.

Only people's edits produce them: Apps Script triggers do not fire for Sheets API writes, so
syncd's own writes never echo back. Deliveries are signed with Standard Webhooks v1
(`webhook-id`, `webhook-timestamp`, `webhook-signature`); the id is `msg_<32 hex>`.

`sheet.edit` (installable onEdit): the edited block, 1-based and inclusive like Apps Script's
`Range.getRow()/getLastRow()/getColumn()/getLastColumn()`; `range` is `getA1Notation()`
(no sheet name). `sheet.change` (installable onChange): structure changed (rows inserted,
removed, sorted...); Apps Script gives no range for it, so syncd re-reads the sheet.
`user` is the editor's email, or null when Google withholds it (other domains).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from syncd_sandbox.signing import sign_standard
from syncd_sandbox.webhooks import WebhookConfig, WebhookSender

ChangeType = Literal[
    "EDIT",
    "INSERT_ROW",
    "INSERT_COLUMN",
    "REMOVE_ROW",
    "REMOVE_COLUMN",
    "INSERT_GRID",
    "REMOVE_GRID",
    "FORMAT",
    "OTHER",
]
# The script retries these (and network failures) from its PropertiesService queue.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class SheetEditEvent(BaseModel):
    """`sheet.edit`: a person changed the values of a block of cells."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["sheet.edit"] = "sheet.edit"
    spreadsheetId: str
    sheetId: int
    sheetName: str
    range: str
    rowStart: int
    rowEnd: int
    columnStart: int
    columnEnd: int
    user: str | None
    editedAt: str


class SheetChangeEvent(BaseModel):
    """`sheet.change`: a person changed the structure (rows inserted, removed, sorted...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["sheet.change"] = "sheet.change"
    spreadsheetId: str
    sheetId: int
    sheetName: str
    changeType: ChangeType
    user: str | None
    editedAt: str


def apps_script_time(moment: datetime) -> str:
    """`new Date().toISOString()`: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_sender(config: WebhookConfig | None, clock: Callable[[], datetime]) -> WebhookSender:
    """A sender that signs each delivery the way the Apps Script does."""

    def sign(body: bytes, secret: str) -> dict[str, str]:
        msg_id = f"msg_{uuid.uuid4().hex}"
        return sign_standard(body, secret, msg_id=msg_id, timestamp=int(clock().timestamp()))

    return WebhookSender(name="sheets", sign=sign, retry_statuses=RETRY_STATUSES, config=config)
