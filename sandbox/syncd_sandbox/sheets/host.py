"""What the emulator's HTTP layer needs of the sandbox that serves it.

The routes (`app`, `api_*`, `control`) are typed against this, not against `SheetsSandbox`,
so the sandbox can build its app without the two modules importing each other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from syncd_sandbox.knobs import CallLog, Knobs
from syncd_sandbox.sheets.auth import Authenticator
from syncd_sandbox.sheets.people import CellInput
from syncd_sandbox.sheets.quotas import Quotas
from syncd_sandbox.sheets.state import Spreadsheet
from syncd_sandbox.webhooks import WebhookSender


class SheetsHost(Protocol):
    """The sandbox's state and actions, as the routes use them."""

    knobs: Knobs
    calls: CallLog
    webhooks: WebhookSender
    auth: Authenticator
    quotas: Quotas
    lock: threading.RLock
    spreadsheets: dict[str, Spreadsheet]
    time_zone: str
    currency_symbols: str
    clock: Callable[[], datetime]

    def service_account_info(self, token_uri: str = ...) -> dict[str, str]: ...
    def expire_tokens(self) -> None: ...
    def share(self, spreadsheet_id: str, email: str, *, shared: bool = True) -> None: ...
    def new_spreadsheet_id(self) -> str: ...
    def record(self, actor: str, spreadsheet_id: str, action: str, detail: str) -> None: ...

    def person_edit(
        self,
        spreadsheet_id: str,
        *,
        as_: str | None,
        range_: str,
        values: Sequence[Sequence[CellInput]],
    ) -> dict[str, Any]: ...

    def person_insert_rows(
        self,
        spreadsheet_id: str,
        *,
        as_: str | None,
        sheet: str,
        at: int,
        values: Sequence[Sequence[CellInput]] | None = None,
        count: int | None = None,
    ) -> list[dict[str, Any]]: ...

    def person_delete_rows(
        self, spreadsheet_id: str, *, as_: str | None, sheet: str, at: int, count: int = 1
    ) -> list[dict[str, Any]]: ...

    def person_sort(
        self,
        spreadsheet_id: str,
        *,
        as_: str | None,
        sheet: str,
        column: str | int,
        descending: bool = False,
        header_rows: int = 1,
    ) -> list[dict[str, Any]]: ...
