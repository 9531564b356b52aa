"""Contract harness for the Google Sheets connector: the Sheets sandbox on loopback, seeded small.

The seeded Invoices tab is the generated production's (about 60 rows, blank rows included)
without its planted duplicate row: the contract suite counts every record a pull yields,
and a duplicate comes out as a problem record (`SourceRecord.problem`). Duplicates and
blank keys are covered by tests/connectors/test_sheets.py instead.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sheets import SheetsConfig, SheetsConnector
from connectors.sheets.a1 import column_letters
from connectors.sheets.config import DEFAULT_KEYS
from syncd.connector import PushItem, SourceRecord
from syncd_sandbox.dataset import MIN_ISSUES, generate
from syncd_sandbox.production import Production, SheetTab
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.sheets import QuotaLimits, SheetsSandbox
from tests.contract.harness import ContractHarness

BATCH_SIZE = 25  # rows per yielded batch: ~60 invoices make 3 batches
WEBHOOK_SECRET = "whsec_Y29udHJhY3Qtc2hlZXRzLXdlYmhvb2stc2VjcmV0"
# One values:batchGet returns a whole tab: the floor of a full pull is one call, whatever N.
ROWS_PER_CALL = 10_000_000


def fast_sleep(seconds: float) -> None:
    """Retries wait a little, not what backoff says (the suite runs often)."""
    time.sleep(min(seconds, 0.02))


def without_duplicate(production: Production) -> Production:
    """The production with its planted duplicate invoice row taken out."""
    rows = production.invoices.rows
    second = int(production.notes["duplicate_invoice_rows"].split(",")[1])
    kept = rows[: second - 1] + rows[second:]  # sheet row n is rows[n - 1]
    return dataclasses.replace(production, invoices=SheetTab(production.invoices.title, kept))


class Receiver:
    """A loopback endpoint that keeps the webhook deliveries the sandbox sends it."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []

        async def hook(request: Request) -> Response:
            self.deliveries.append((dict(request.headers), await request.body()))
            return Response(status_code=204)

        self.server = ServedApp.start(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        """Where the sandbox should deliver."""
        return f"{self.server.url}/hook"

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()


class SheetsHarness:
    """The Sheets sandbox seeded with a small production, and a connector against it."""

    name = "sheets"
    entity = "Invoices"

    def __init__(
        self,
        *,
        seed: int = 5,
        issues: int = MIN_ISSUES,
        invoices: int | None = None,
        clean: bool = True,
        quotas: QuotaLimits | None = None,
        **sandbox_options: Any,
    ) -> None:
        production = generate(seed=seed, issues=issues, invoices=invoices)
        self.production = without_duplicate(production) if clean else production
        # Google's quotas are off unless a test turns them on: the client's own bucket is
        # what keeps a real sync under them, and tests here make calls faster than 60/min.
        self.sandbox = SheetsSandbox(quotas=quotas or QuotaLimits(enabled=False), **sandbox_options)
        self._server: ServedApp | None = None
        self._control: httpx.Client | None = None
        self._connector: SheetsConnector | None = None
        self._receiver: Receiver | None = None
        self._edits = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self.sandbox.seed(self.production)
        self._server = ServedApp.start(self.sandbox.create_app())
        self._control = httpx.Client(base_url=self._server.url, timeout=10)

    def stop(self) -> None:
        if self._connector is not None:
            self._connector.close()
        if self._control is not None:
            self._control.close()
        if self._server is not None:
            self._server.stop()
        if self._receiver is not None:
            self._receiver.stop()
        self.sandbox.close()

    @property
    def url(self) -> str:
        """The sandbox's base URL."""
        assert self._server is not None, "start() first"
        return self._server.url

    @property
    def control(self) -> httpx.Client:
        """An httpx client on the sandbox (for its /_sandbox control routes)."""
        assert self._control is not None, "start() first"
        return self._control

    @property
    def spreadsheet_id(self) -> str:
        """The seeded spreadsheet."""
        return self.production.spreadsheet_id

    def service_account_info(self) -> dict[str, str]:
        """The sandbox's key JSON, exchanging tokens at the sandbox's /token."""
        return self.sandbox.service_account_info(f"{self.url}/token")

    def config(self, **overrides: Any) -> SheetsConfig:
        """A connector config for this sandbox."""
        values: dict[str, Any] = {
            "spreadsheet_id": self.spreadsheet_id,
            "service_account_info": json.dumps(self.service_account_info()),
            "api_base_url": self.url,
            "webhook_secret": WEBHOOK_SECRET,
            "batch_size": BATCH_SIZE,
            # Generous buckets: tests call faster than Google's 60 a minute would allow.
            "read_quota_per_minute": 6000,
            "write_quota_per_minute": 6000,
            **overrides,
        }
        return SheetsConfig.model_validate(values)

    def connector(self) -> SheetsConnector:
        if self._connector is None:
            self._connector = self.make_connector()
        return self._connector

    def make_connector(
        self, *, deps: dict[str, Any] | None = None, **config: Any
    ) -> SheetsConnector:
        """A new connector on this sandbox (the caller closes it), with config overrides."""
        return SheetsConnector.from_config(
            "sheets", self.config(**config), **{"sleep": fast_sleep, **(deps or {})}
        )

    # -- the sandbox's side ---------------------------------------------------------------
    def values(self, tab: str | None = None) -> list[list[str]]:
        """A tab's cells as displayed, read without the API (no call is counted)."""
        rows = self.sandbox.values(self.spreadsheet_id, f"'{tab or self.entity}'")
        return [[str(v) for v in row] for row in rows]

    def header(self, tab: str | None = None) -> list[str]:
        """The header row of a tab."""
        return self.values(tab)[0]

    def keys(self, tab: str | None = None) -> dict[str, int]:
        """Key -> sheet row of every keyed row (the first of duplicates)."""
        tab = tab or self.entity
        key = DEFAULT_KEYS[tab]
        values = self.values(tab)
        column = values[0].index(key)
        found: dict[str, int] = {}
        for number, row in enumerate(values[1:], start=2):
            if column < len(row) and row[column].strip():
                found.setdefault(row[column].strip(), number)
        return found

    def cell(self, external_id: str, header: str, tab: str | None = None) -> str:
        """What the row with this key shows in a column."""
        values = self.values(tab)
        row = values[self.keys(tab)[external_id] - 1]
        column = values[0].index(header)
        return row[column] if column < len(row) else ""

    def expected_ids(self) -> set[str]:
        return set(self.keys())

    def id_of(self, record: SourceRecord) -> str:
        return str(record.external_id)

    def person(self) -> str:
        """The email of a person who edits the sheet in the browser."""
        return self.production.people[1].email

    def type_as_person(self, range_: str, values: list[list[Any]]) -> list[dict[str, Any]]:
        """A person types a block of values (USER_ENTERED); returns the trigger events."""
        reply = self.control.post(
            f"/_sandbox/spreadsheets/{self.spreadsheet_id}/edit",
            json={"as": self.person(), "range": range_, "values": values},
        )
        reply.raise_for_status()
        events: list[dict[str, Any]] = reply.json()["events"]
        return events

    def rows_as_person(self, **action: Any) -> list[dict[str, Any]]:
        """A person inserts, deletes or sorts rows (`action="insert"|"delete"|"sort"`)."""
        reply = self.control.post(
            f"/_sandbox/spreadsheets/{self.spreadsheet_id}/rows",
            json={"as": self.person(), "sheet": self.entity, **action},
        )
        reply.raise_for_status()
        events: list[dict[str, Any]] = reply.json()["events"]
        return events

    def edit_as_person(self, external_id: str, header: str = "Notes", text: str = "") -> None:
        self._edits += 1
        row = self.keys()[external_id]
        column = column_letters(self.header().index(header))
        self.type_as_person(
            f"'{self.entity}'!{column}{row}", [[text or f"checked by a person #{self._edits}"]]
        )

    def push_item(self, external_id: str) -> tuple[PushItem, Callable[[SourceRecord], bool]]:
        payload = {"Sync Status": f"synced {external_id}", "Synced At": "2026-02-01 10:00"}

        def shows_it(record: SourceRecord) -> bool:
            return all(record.data.get(k) == v for k, v in payload.items())

        return PushItem(external_id=external_id, payload=payload), shows_it

    def receiver(self) -> Receiver:
        """Point the sandbox's Apps Script webhooks at a loopback receiver."""
        if self._receiver is None:
            self._receiver = Receiver()
        self.control.put(
            "/_sandbox/webhook", json={"url": self._receiver.url, "secret": WEBHOOK_SECRET}
        ).raise_for_status()
        return self._receiver

    def webhook(self, external_id: str) -> tuple[dict[str, str], bytes]:
        """Edit the row as a person and keep the Apps Script delivery it triggers."""
        receiver = self.receiver()
        before = len(receiver.deliveries)
        self.edit_as_person(external_id)
        self.control.post("/_sandbox/webhook/flush").raise_for_status()
        assert len(receiver.deliveries) > before, "the sandbox sent no webhook"
        return receiver.deliveries[-1]

    def turn_knobs(self, **knobs: Any) -> None:
        self.control.patch("/_sandbox/knobs", json=knobs).raise_for_status()

    def calls(self) -> dict[str, int]:
        reply = self.control.get("/_sandbox/calls")
        reply.raise_for_status()
        calls: dict[str, int] = reply.json()
        return calls

    def page_size(self) -> int:
        return ROWS_PER_CALL


def make_harness() -> ContractHarness:
    """The Sheets harness the contract suite drives."""
    return SheetsHarness()
