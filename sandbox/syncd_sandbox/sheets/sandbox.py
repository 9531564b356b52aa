"""`SheetsSandbox`: the Google Sheets API v4 emulator syncd runs against (sandbox, demo, tests)."""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from syncd_sandbox.knobs import CallLog, Knobs
from syncd_sandbox.production import Production, SheetTab
from syncd_sandbox.sheets import people
from syncd_sandbox.sheets.a1 import absolute
from syncd_sandbox.sheets.app import build_app
from syncd_sandbox.sheets.auth import (
    GOOGLE_TOKEN_URI,
    SCOPE_PREFIX,
    Authenticator,
    Principal,
    ServiceAccount,
)
from syncd_sandbox.sheets.drive import drive_time
from syncd_sandbox.sheets.errors import not_found
from syncd_sandbox.sheets.protection import check_editable
from syncd_sandbox.sheets.quotas import QuotaLimits, Quotas
from syncd_sandbox.sheets.render import ValueRender
from syncd_sandbox.sheets.state import DEFAULT_COLUMNS, DEFAULT_ROWS, Spreadsheet
from syncd_sandbox.sheets.trigger import make_sender
from syncd_sandbox.sheets.values import ReadOptions, apply_write, plan_write, read
from syncd_sandbox.webhooks import WebhookConfig, WebhookSender

DEFAULT_SERVICE_ACCOUNT = "syncd-sandbox@syncd-sandbox.iam.gserviceaccount.com"
CellInput = people.CellInput


@dataclass(frozen=True, slots=True)
class EditRecord:
    """Who changed what, when: API writes are the service account's, person edits the person's."""

    at: datetime
    actor: str
    spreadsheet_id: str
    action: str
    detail: str


class SheetsSandbox:
    """In-memory Google Sheets: v4 REST API, token endpoint, quotas, Apps Script webhooks."""

    def __init__(
        self,
        *,
        knobs: Knobs | None = None,
        webhook: WebhookConfig | None = None,
        clock: Callable[[], datetime] | None = None,
        quotas: QuotaLimits | None = None,
        service_account_email: str = DEFAULT_SERVICE_ACCOUNT,
        project_id: str = "syncd-sandbox",
        private_key: rsa.RSAPrivateKey | None = None,
        time_zone: str = "Etc/GMT",
        currency_symbols: str = "$",
    ) -> None:
        self.knobs = knobs or Knobs()
        self.calls = CallLog()
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.webhooks: WebhookSender = make_sender(webhook, self.clock)
        self.auth = Authenticator(self.clock)
        self.project_id = project_id
        self.service_account = ServiceAccount(
            service_account_email, project_id=project_id, private_key=private_key
        )
        self.auth.add_account(self.service_account)
        self.quotas = Quotas(quotas or QuotaLimits(), self.knobs, lambda: self.clock().timestamp())
        self.time_zone, self.currency_symbols = time_zone, currency_symbols
        self.lock = threading.RLock()
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.history: deque[EditRecord] = deque(maxlen=10_000)

    # -- setup -------------------------------------------------------------------------------

    def service_account_info(self, token_uri: str = GOOGLE_TOKEN_URI) -> dict[str, str]:
        """The service-account JSON key (see `local_http_client` for keeping it on loopback)."""
        self.auth.accept_audience(token_uri)
        return self.service_account.info(token_uri)

    def write_service_account_file(self, path: Path, token_uri: str = GOOGLE_TOKEN_URI) -> Path:
        """Write the key JSON (mode 0600) where `gspread.service_account(filename=...)` reads it."""
        path.write_text(json.dumps(self.service_account_info(token_uri), indent=2))
        path.chmod(0o600)
        return path

    def add_service_account(
        self, email: str, *, private_key: rsa.RSAPrivateKey | None = None
    ) -> ServiceAccount:
        """Another service account of the same project (a second quota "user")."""
        account = ServiceAccount(email, project_id=self.project_id, private_key=private_key)
        self.auth.add_account(account)
        return account

    def issue_token(self, *, read_only: bool = False) -> str:
        """An access token for the service account without the JWT exchange.

        For clients built on static credentials:
        `gspread.Client(google.oauth2.credentials.Credentials(token), http_client=...)`.
        """
        scope = SCOPE_PREFIX + ("spreadsheets.readonly" if read_only else "spreadsheets")
        return self.auth.issue(Principal(self.service_account.email, frozenset({scope})))

    def expire_tokens(self) -> None:
        """Expire all access tokens now; clients get 401 and must exchange a new assertion."""
        self.auth.expire_tokens()

    def seed(self, production: Production) -> None:
        """Create the production's spreadsheet: invoices and budget tabs as a person typed them."""
        self.add_spreadsheet(
            production.spreadsheet_id,
            production.spreadsheet_title,
            [production.invoices, production.budget],
        )

    def add_spreadsheet(
        self,
        spreadsheet_id: str,
        title: str,
        tabs: Iterable[SheetTab] = (),
        *,
        shared: bool = True,
        frozen_header: bool = True,
        owner: str | None = None,
    ) -> Spreadsheet:
        """Create (or replace) a spreadsheet; `shared=False`: the service account gets 403;
        `owner`: the account Drive names as owner (None: a person outside the sandbox)."""
        spreadsheet = Spreadsheet(
            spreadsheet_id,
            title,
            time_zone=self.time_zone,
            owner=owner,
            created_time=drive_time(self.clock()),
        )
        if shared:
            spreadsheet.shared_with.add(self.service_account.email)
        for tab in list(tabs) or [SheetTab("Sheet1", ())]:
            width = max((len(row) for row in tab.rows), default=0)
            grid: dict[str, Any] = {
                "rowCount": max(DEFAULT_ROWS, len(tab.rows)),
                "columnCount": max(DEFAULT_COLUMNS, width),
            }
            if frozen_header and tab.rows:
                grid["frozenRowCount"] = 1
            sheet = spreadsheet.add_sheet({"title": tab.title, "gridProperties": grid})
            if tab.rows:
                write = plan_write(
                    spreadsheet, absolute(sheet.title, "A1"), [list(r) for r in tab.rows], "ROWS"
                )
                apply_write(write, "USER_ENTERED", currency_symbols=self.currency_symbols)
        with self.lock:
            self.spreadsheets[spreadsheet_id] = spreadsheet
        return spreadsheet

    def share(self, spreadsheet_id: str, email: str, *, shared: bool = True) -> None:
        """Share (or unshare) a spreadsheet with an account."""
        with self.lock:
            spreadsheet = self._get(spreadsheet_id)
            if shared:
                spreadsheet.shared_with.add(email)
            else:
                spreadsheet.shared_with.discard(email)

    def new_spreadsheet_id(self) -> str:
        """An id shaped like Google's (44 URL-safe characters)."""
        return "1" + secrets.token_urlsafe(33)[:43]

    # -- reading (for tests and the demo) -------------------------------------------------------

    def values(
        self, spreadsheet_id: str, range_: str, render: ValueRender = "FORMATTED_VALUE"
    ) -> list[list[Any]]:
        """What `values.get` would return for a range, without auth or quotas."""
        with self.lock:
            result = read(self._get(spreadsheet_id), range_, ReadOptions(render=render))
        values: list[list[Any]] = result.get("values", [])
        return values

    def _get(self, spreadsheet_id: str) -> Spreadsheet:
        spreadsheet = self.spreadsheets.get(spreadsheet_id)
        if spreadsheet is None:
            raise not_found()
        return spreadsheet

    def record(self, actor: str, spreadsheet_id: str, action: str, detail: str) -> None:
        """Append to the edit history; the file's Drive modifiedTime moves on."""
        now = self.clock()
        self.history.append(EditRecord(now, actor, spreadsheet_id, action, detail))
        spreadsheet = self.spreadsheets.get(spreadsheet_id)
        if spreadsheet is not None and not action.startswith("drive.permissions"):
            spreadsheet.modified_time = drive_time(now)

    # -- people editing in the UI (these fire the Apps Script webhook) --------------------------

    def person_edit(
        self,
        spreadsheet_id: str,
        *,
        as_: str | None,
        range_: str,
        values: Sequence[Sequence[CellInput]],
    ) -> dict[str, Any]:
        """A person types `values` at `range_`; sends `sheet.edit`; returns the payload.
        A protected cell the person may not edit refuses the edit (403), as the UI does."""
        with self.lock:
            spreadsheet = self._get(spreadsheet_id)
            planned = plan_write(spreadsheet, range_, [list(r) for r in values], "ROWS")
            area = (
                planned.row,
                planned.row + planned.height,
                planned.col,
                planned.col + planned.width,
            )
            check_editable(spreadsheet, planned.sheet, area, as_)
            _, event = people.type_values(
                spreadsheet,
                range_,
                values,
                user=as_,
                now=self.clock(),
                currency_symbols=self.currency_symbols,
            )
            self.record(
                as_ or "anonymous",
                spreadsheet_id,
                "person.edit",
                f"{event.sheetName}!{event.range}",
            )
        return self._send([event])[0]

    def person_insert_rows(
        self,
        spreadsheet_id: str,
        *,
        as_: str | None,
        sheet: str,
        at: int,
        values: Sequence[Sequence[CellInput]] | None = None,
        count: int | None = None,
    ) -> list[dict[str, Any]]:
        """A person inserts rows above row `at` (1-based) and types `values` into them."""
        with self.lock:
            events = people.insert_rows(
                self._get(spreadsheet_id), sheet, at, values=values, count=count, user=as_,
                now=self.clock(), currency_symbols=self.currency_symbols,
            )  # fmt: skip
            self.record(as_ or "anonymous", spreadsheet_id, "person.insert_rows", f"{sheet}!{at}")
        return self._send(events)

    def person_delete_rows(
        self, spreadsheet_id: str, *, as_: str | None, sheet: str, at: int, count: int = 1
    ) -> list[dict[str, Any]]:
        """A person deletes `count` rows from row `at` (1-based); protected rows the person
        may not edit refuse it (403)."""
        with self.lock:
            spreadsheet = self._get(spreadsheet_id)
            tab = spreadsheet.sheet_by_title(sheet)
            if tab is not None:
                check_editable(spreadsheet, tab, (at - 1, at - 1 + count, 0, tab.column_count), as_)
            events = people.delete_rows(spreadsheet, sheet, at, count, user=as_, now=self.clock())
            self.record(
                as_ or "anonymous", spreadsheet_id, "person.delete_rows", f"{sheet}!{at}+{count}"
            )
        return self._send(events)

    def person_sort(
        self,
        spreadsheet_id: str,
        *,
        as_: str | None,
        sheet: str,
        column: str | int,
        descending: bool = False,
        header_rows: int = 1,
    ) -> list[dict[str, Any]]:
        """A person sorts the sheet by a column: rows move, so row numbers are not identities."""
        with self.lock:
            events = people.sort_sheet(
                self._get(spreadsheet_id), sheet, column, descending=descending,
                header_rows=header_rows, user=as_, now=self.clock(),
            )  # fmt: skip
            self.record(as_ or "anonymous", spreadsheet_id, "person.sort", f"{sheet} by {column}")
        return self._send(events)

    def _send(self, events: Sequence[people.Event]) -> list[dict[str, Any]]:
        payloads = [event.model_dump(mode="json") for event in events]
        for payload in payloads:
            self.webhooks.send(payload)
        return payloads

    # -- serving -------------------------------------------------------------------------------

    def create_app(self) -> FastAPI:
        """The FastAPI app: Sheets v4 routes, /token, knobs, webhook and person control routes."""
        return build_app(self)

    def close(self) -> None:
        """Stop the webhook thread."""
        self.webhooks.close()
