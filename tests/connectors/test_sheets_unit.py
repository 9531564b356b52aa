"""Sheets connector units, no sockets: config, rows, webhooks, and the wire policy.

gspread sends through `requests`, not httpx, so respx cannot see its calls; the wire tests
hand gspread's real `HTTPClient` a `requests.Session` whose adapter is a function
(`FakeGoogle`), the requests twin of httpx's MockTransport.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.oauth2.credentials
import gspread
import pytest
import requests
from gspread.utils import column_letter_to_index
from pydantic import ValidationError
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from connectors.sheets import SheetsConfig, SheetsConnector
from connectors.sheets.a1 import Bounds, bounds_of, cell, column_letters, whole_column, whole_tab
from connectors.sheets.rows import Tab
from connectors.sheets.webhooks import parse_delivery
from connectors.sheets.writes import Located, cell_value, displayed
from syncd.connector import PushItem
from syncd.errors import AuthError, PermanentError, TransientError
from syncd.signatures import SignatureError
from syncd_sandbox.signing import sign_standard

SID = "1UnitSheet"
EMAIL = "syncd@studio-project.iam.gserviceaccount.com"
KEY_TEXT = "-----BEGIN PRIVATE KEY-----\nTOP-SECRET-KEY-MATERIAL\n-----END PRIVATE KEY-----\n"
INFO = json.dumps({"type": "service_account", "client_email": EMAIL, "private_key": KEY_TEXT})
HEADER = ["Invoice #", "Vendor", "Amount", "Status"]
TAB = {
    "range": "Invoices!A1:Z1000",
    "majorDimension": "ROWS",
    "values": [HEADER, ["INV-1", "Acme", "$10.00", "Paid"], ["INV-2", "Böse", "1,00 €"]],
}
Reply = tuple[int, Any] | Exception
UNUSED_AUTH = google.oauth2.credentials.Credentials(token="unused")  # the session does the sending


def google_error(code: int, status: str, message: str) -> dict[str, Any]:
    """Google's error envelope."""
    return {"error": {"code": code, "message": message, "status": status}}


class FakeGoogle(BaseAdapter):
    """A requests adapter answering from a list of replies (or a function of the request)."""

    def __init__(self, replies: list[Reply] | Callable[[requests.PreparedRequest], Reply]):
        super().__init__()
        self.replies = replies
        self.sent: list[requests.PreparedRequest] = []
        self.timeouts: list[Any] = []

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        self.sent.append(request)
        self.timeouts.append(timeout)
        reply = self.replies(request) if callable(self.replies) else self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        status, body = reply
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.headers = CaseInsensitiveDict({"content-type": "application/json"})
        response.url, response.request = str(request.url), request
        return response

    def close(self) -> None:
        """Nothing to release."""


class Sleeps(list[float]):
    """An injected sleep that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connector_on(
    adapter: FakeGoogle, sleeps: Sleeps | None = None, **config: Any
) -> SheetsConnector:
    session = requests.Session()
    session.mount("https://", adapter)
    gc = gspread.Client(auth=UNUSED_AUTH, session=session)
    values = {"spreadsheet_id": SID, "service_account_info": INFO, **config}
    return SheetsConnector.from_config(
        "sheets",
        SheetsConfig.model_validate(values),
        gspread_client=gc,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def batch(*value_ranges: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"spreadsheetId": SID, "valueRanges": list(value_ranges)}


def pull_ids(connector: SheetsConnector) -> list[str | None]:
    return [r.external_id for b in connector.pull("Invoices", None, fields=[]) for r in b.records]


# -- the wire policy ----------------------------------------------------------------------


def test_429_without_retry_after_backs_off_then_succeeds() -> None:
    quota = google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read'")
    adapter, sleeps = FakeGoogle([(429, quota), batch(TAB)]), Sleeps()
    connector = connector_on(adapter, sleeps)
    assert pull_ids(connector) == ["INV-1", "INV-2"]
    assert len(adapter.sent) == 2 and len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.5  # exponential backoff's first step: Google sends no Retry-After
    request = adapter.sent[0]
    assert request.method == "GET" and request.url is not None
    assert request.url.startswith(
        f"https://sheets.googleapis.com/v4/spreadsheets/{SID}/values:batchGet"
    )
    assert (
        "ranges=%27Invoices%27" in request.url
        and "valueRenderOption=FORMATTED_VALUE" in request.url
    )


def test_401_is_an_auth_error_naming_the_setting_without_the_key() -> None:
    refused = google_error(
        401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
    )
    connector = connector_on(FakeGoogle([(401, refused)]))
    with pytest.raises(AuthError) as caught:
        pull_ids(connector)
    assert caught.value.setting == "connectors.sheets.service_account_info"
    assert "invalid authentication credentials" in str(caught.value)
    assert "TOP-SECRET" not in str(caught.value)


def test_a_refused_token_exchange_names_the_setting_and_a_flaky_one_is_retried() -> None:
    refused = google.auth.exceptions.RefreshError(
        "invalid_grant: Invalid JWT Signature.",
        {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
        retryable=False,
    )
    with pytest.raises(AuthError, match=r"invalid_grant.*service_account_info"):
        pull_ids(connector_on(FakeGoogle([refused])))
    flaky = google.auth.exceptions.RefreshError("Internal error", retryable=True)
    sleeps = Sleeps()
    assert pull_ids(connector_on(FakeGoogle([flaky, batch(TAB)]), sleeps)) == ["INV-1", "INV-2"]
    assert len(sleeps) == 1


def test_timeouts_are_retried_and_every_call_carries_the_timeout() -> None:
    adapter, sleeps = FakeGoogle([requests.ReadTimeout("slow"), batch(TAB)]), Sleeps()
    assert pull_ids(connector_on(adapter, sleeps, timeout_seconds=7)) == ["INV-1", "INV-2"]
    assert adapter.timeouts == [7, 7] and len(sleeps) == 1


def test_a_network_that_stays_down_ends_in_a_transient_error_after_six_tries() -> None:
    adapter = FakeGoogle(lambda _: requests.ConnectionError("refused"))
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="network error: ConnectionError"):
        # A quota whose burst covers six reads: only the retry policy sleeps here.
        pull_ids(connector_on(adapter, sleeps, read_quota_per_minute=600))
    assert len(adapter.sent) == 6 and len(sleeps) == 5


def test_a_5xx_with_a_non_json_body_is_still_transient() -> None:
    adapter = FakeGoogle([(502, b"<html>Bad Gateway</html>"), batch(TAB)])
    assert pull_ids(connector_on(adapter)) == ["INV-1", "INV-2"]


@pytest.mark.parametrize(
    ("status", "reason", "hint"),
    [
        (403, "PERMISSION_DENIED", f"share spreadsheet '{SID}' with {EMAIL}"),
        (404, "NOT_FOUND", "check connectors.sheets.spreadsheet_id"),
    ],
)
def test_403_and_404_say_what_to_fix(status: int, reason: str, hint: str) -> None:
    adapter = FakeGoogle([(status, google_error(status, reason, "Nope."))])
    with pytest.raises(PermanentError) as caught:
        pull_ids(connector_on(adapter))
    assert hint in str(caught.value) and len(adapter.sent) == 1  # never retried


def test_reads_and_writes_wait_on_separate_quota_buckets() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    adapter = FakeGoogle(lambda _: batch(TAB))
    session = requests.Session()
    session.mount("https://", adapter)
    connector = SheetsConnector(
        "sheets",
        SheetsConfig(spreadsheet_id=SID, service_account_info=INFO),
        gspread_client=gspread.Client(auth=UNUSED_AUTH, session=session),
        clock=lambda: now[0],
        sleep=sleep,
    )
    for _ in range(5):  # the burst: a twelfth of the minute's 60
        pull_ids(connector)
    assert sleeps == []
    pull_ids(connector)
    # Then 55 a minute: the burst and a minute's refill make Google's 60 a clock minute.
    assert sleeps == [pytest.approx(60 / 55)]
    assert connector.client.limiters["write"].waited == 0


def test_push_sends_one_user_entered_batch_update_and_keeps_text_text() -> None:
    header_and_columns = batch(
        {"range": "Invoices!A1:Z1", "values": [HEADER]},
        {"range": "Invoices!A1:A1000", "values": [["Invoice #"], ["INV-1"], ["INV-2"]]},
    )
    adapter = FakeGoogle([batch(TAB), header_and_columns, (200, {"spreadsheetId": SID})])
    connector = connector_on(adapter)
    pull_ids(connector)
    result = connector.push(
        "Invoices",
        [
            PushItem(external_id="INV-2", payload={"Sync Status": "=1+1", "Synced At": None}),
            PushItem(external_id="INV-1", payload={"Sync Status": {"nested": 1}}),
        ],
    )
    assert result.written == ["INV-2"]
    assert result.rejected == {"INV-1": "'Sync Status': a dict cannot be written into a cell"}
    read, write = adapter.sent[1], adapter.sent[2]
    assert read.url is not None and "ranges=%27Invoices%27%211%3A1" in read.url
    assert "ranges=%27Invoices%27%21A%3AA" in read.url  # the key column, where it was
    assert write.method == "POST" and write.url is not None
    assert write.url.endswith(f"/v4/spreadsheets/{SID}/values:batchUpdate")
    assert write.body is not None
    assert json.loads(write.body) == {
        "valueInputOption": "USER_ENTERED",
        "data": [
            {"range": "'Invoices'!E1", "values": [["Synced At"]]},
            {"range": "'Invoices'!F1", "values": [["Sync Status"]]},
            {"range": "'Invoices'!F3", "values": [["'=1+1"]]},
        ],  # "Synced At" = None on a new, empty column: nothing to clear
    }


# -- config ---------------------------------------------------------------------------------


def test_the_example_config_table_validates() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    table = tomllib.loads(example.read_text())["connectors"]["sheets"]
    config = SheetsConfig.model_validate(table)
    assert config.keys == {"Invoices": "Invoice #", "Budget": "Budget Line"}
    assert config.write_back_columns("Invoices") == ["Synced At", "Sync Status"]
    assert (config.read_quota_per_minute, config.write_quota_per_minute) == (60, 60)
    assert config.header_row == 1 and config.batch_size == 500 and config.api_base_url is None


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"service_account_info": None}, "exactly one of service_account_file"),
        ({"service_account_file": "/k.json"}, "exactly one of service_account_file"),
        ({"service_account_info": "{not json " + KEY_TEXT}, "not valid JSON"),
        ({"service_account_info": '{"private_key": "x"}'}, "has no client_email"),
        ({"api_base_url": "http://sheets.example.com"}, "for the local sandbox"),
        ({"keys": {"Invoices": " "}}, "must not be blank"),
        ({"write_back": {"Invoices": ["Invoice #"]}}, "names its key column"),
        ({"batch_size": 501}, "less than or equal to 500"),
        ({"spreadsheet": "typo"}, "Extra inputs"),
    ],
)
def test_bad_config_is_refused_without_echoing_secrets(changes: dict[str, Any], error: str) -> None:
    values = {"spreadsheet_id": SID, "service_account_info": INFO, **changes}
    with pytest.raises(ValueError, match=error) as caught:
        SheetsConfig.model_validate(values)
    assert "TOP-SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    "secret",
    [
        "plain text, not whsec",  # no prefix
        "whsec_c2VjcmV0",  # base64 of 6 bytes: too short to be a key
        "whsec_not base64!",  # not base64 at all
    ],
)
def test_a_webhook_secret_that_is_not_a_standard_webhooks_key_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SheetsConfig.model_validate(
            {"spreadsheet_id": SID, "service_account_info": INFO, "webhook_secret": secret}
        )
    assert "webhook_secret" in str(caught.value) and "whsec_" in str(caught.value)
    assert secret not in str(caught.value)  # the refused secret is not echoed


def test_secrets_stay_masked_and_loopback_urls_are_accepted() -> None:
    config = SheetsConfig.model_validate(
        {
            "spreadsheet_id": SID,
            "service_account_info": INFO,
            "webhook_secret": "whsec_YSBzaXh0ZWVuKyBieXRlIHNlY3JldA==",
            "api_base_url": "http://127.0.0.1:8765/",
        }
    )
    assert "TOP-SECRET" not in repr(config) and "YSBzaXh0ZWVuKyBieXRlIHNlY3JldA==" not in str(
        config.model_dump()
    )
    assert config.api_base_url == "http://127.0.0.1:8765"


# -- rows -----------------------------------------------------------------------------------


def test_a1_helpers() -> None:
    assert [column_letters(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert all(column_letter_to_index(column_letters(i)) == i + 1 for i in range(2000))
    assert whole_tab("Bob's tab") == "'Bob''s tab'"
    assert whole_column("Invoices", 27) == "'Invoices'!AB:AB"
    assert cell("A1", 12, 26) == "'A1'!AA12"
    bounds = bounds_of({"range": "'My!tab'!C5:AB1000"})
    assert (bounds.first_row, bounds.first_column, bounds.last_column) == (5, 2, 27)
    assert bounds_of({"range": "Invoices!A1"}).last_column == 0
    assert bounds_of({}).first_row == 1
    # Whole rows and columns, open ends and absolute references, as Google may send them.
    assert bounds_of({"range": "T!3:4"}) == Bounds(3, 0, None)
    assert bounds_of({"range": "T!$B$2:$D"}) == Bounds(2, 1, 3)
    assert bounds_of({"range": "T!not a range"}) == Bounds(1, 0, None)


TWICE = (
    "Invoices rows 3 and 8 have the same Invoice # INV-1: none of them is synced (the record "
    "keeps its last agreed values) until only one row has it"
)


def test_rows_become_records_with_problems_for_blank_and_repeated_keys() -> None:
    value_range = {
        "range": "Invoices!A1:Z1000",
        "values": [
            ["Notes", "Here"],  # above the header row: ignored
            ["Invoice #", "Vendor", "", "Vendor"],
            [" INV-1 ", "Acme"],
            [],
            ["", "   "],
            ["", "No number", "x"],
            ["INV-2", "Böse", "", "second vendor column"],
            ["INV-1", "Acme again"],
        ],
    }
    tab = Tab.read("Invoices", value_range, header_row=2)
    assert tab.duplicate_headers() == ["Vendor"]
    records = tab.records("Invoice #")
    assert [(r.external_id, r.data, r.row, r.problem) for r in records] == [
        ("INV-1", {"Invoice #": " INV-1 ", "Vendor": "Acme"}, 3, TWICE),
        (
            None,
            {"Invoice #": "", "Vendor": "No number"},
            6,
            "Invoices row 6 has no Invoice #",
        ),
        ("INV-2", {"Invoice #": "INV-2", "Vendor": "Böse"}, 7, None),
        (
            "INV-1",
            {"Invoice #": "INV-1", "Vendor": "Acme again"},
            8,
            TWICE,
        ),
    ]
    kept = tab.records("Invoice #", keep={"Amount"})
    assert (kept[0].data, kept[0].row) == ({"Invoice #": " INV-1 "}, 3)


def test_an_empty_tab_has_no_rows() -> None:
    tab = Tab.read("Budget", {"range": "Budget!A1:Z1000"}, header_row=1)
    assert tab.header == [] and tab.rows == [] and tab.columns() == {}


# -- webhooks -------------------------------------------------------------------------------

EVENT = {
    "type": "sheet.change",
    "spreadsheetId": SID,
    "sheetId": 3,
    "sheetName": "Budget",
    "changeType": "INSERT_ROW",
    "user": "mia@studio.example",
    "editedAt": "2026-02-01T10:00:00.000Z",
}


def _deliver(body: bytes, *, now: float = 1_800_000_000.0, **kw: Any) -> list[Any]:
    headers = sign_standard(body, "whsec_dGVzdA==", msg_id="msg_abc", timestamp=1_800_000_000)
    options: dict[str, Any] = {
        "secret": "whsec_dGVzdA==",
        "secret_setting": "connectors.sheets.webhook_secret",
        "now": now,
        "spreadsheet_id": SID,
        "tabs": {"Invoices", "Budget"},
        **kw,
    }
    return parse_delivery(headers, body, **options)


def test_a_change_event_names_the_tab_and_its_author() -> None:
    [event] = _deliver(json.dumps(EVENT).encode())
    assert (event.delivery_id, event.entity, event.external_id) == ("msg_abc", "Budget", None)
    assert event.author == "mia@studio.example"


def test_webhook_refusals() -> None:
    body = json.dumps(EVENT).encode()
    with pytest.raises(SignatureError, match="not set"):
        _deliver(body, secret=None)
    with pytest.raises(SignatureError, match="replay"):
        _deliver(body, now=1_800_000_000.0 + 301)
    with pytest.raises(ValueError, match="not a JSON object"):
        _deliver(b"[1, 2]")
    with pytest.raises(ValueError, match="sheetName: Field required"):
        _deliver(json.dumps({k: v for k, v in EVENT.items() if k != "sheetName"}).encode())
    assert _deliver(json.dumps({**EVENT, "sheetName": "Notes"}).encode()) == []


def test_write_plans_skip_cells_that_hold_the_value_and_add_headers_at_the_end() -> None:
    value_range = {
        "range": "Invoices!A1:F1000",
        "values": [
            ["Invoice #", "Vendor", "", "Sync Status"],
            ["INV-1", "Acme", "", "ok"],
            ["INV-2", "Böse", "", "TRUE"],
            ["INV-1", "again"],
        ],
    }
    tab = Tab.read("Invoices", value_range, header_row=1)
    where = Located.from_tab(tab, "Invoice #", ["Sync Status", "Synced At"])
    assert where.rows == {"INV-1": 2, "INV-2": 3}  # the first of a repeated key
    assert where.add_headers("Invoices", 1, ["Sync Status", "Synced At"]) == [
        {"range": "'Invoices'!E1", "values": [["Synced At"]]}
    ]
    assert where.columns_short() == 0
    assert where.blocks("Invoices", 2, {"Sync Status": "ok", "Synced At": "today"}) == [
        {"range": "'Invoices'!E2", "values": [["today"]]}
    ]
    assert where.blocks("Invoices", 3, {"Sync Status": True}) == []
    assert where.add_headers("Invoices", 1, ["A", "B"]) and where.columns_short() == 1
    assert [cell_value(v) for v in (None, 3, 1.5, False, "=SUM(A1)", "x")] == [
        "",
        3,
        1.5,
        False,
        "'=SUM(A1)",
        "x",
    ]
    assert displayed(cell_value("=SUM(A1)")) == "=SUM(A1)" and displayed(False) == "FALSE"
