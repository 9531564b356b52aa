"""The Sheets sandbox seen through the real gspread client over loopback HTTP.

Every test authenticates the way production does: the sandbox's service-account JSON, an
RS256 assertion exchanged at `POST /token`, then bearer calls; `local_http_client` keeps
all of it (Regional Access Boundary lookup included) on 127.0.0.1, which `loopback_only`
enforces.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import google.oauth2.credentials
import gspread
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request, Response

from connectors.sheets.local_http import local_http_client
from syncd.signatures import SignatureError, verify_standard
from syncd_sandbox.production import Production, SheetTab
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.sheets import GOOGLE_TOKEN_URI, QuotaLimits, SheetsSandbox
from syncd_sandbox.webhooks import WebhookConfig

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("loopback_only")]

SHEET_ID = "1SyncdSandboxProductionTracker0000000000000"
SECRET = "whsec_c3luY2Qtc2FuZGJveC1zaGVldHMtc2VjcmV0"
PRODUCER = "mia.krystof@studio.example"


def make_production() -> Production:
    """A small production: invoices typed the messy way people type them, and a budget."""
    return Production(
        name="Sandbox Test",
        seed=7,
        jira_project_key="PRJ",
        jira_project_name="Project",
        sg_project_id=1,
        sg_project_name="Project",
        spreadsheet_id=SHEET_ID,
        spreadsheet_title="Production tracker",
        milestones=(),
        departments=(),
        steps=(),
        people=(),
        assets=(),
        shots=(),
        sg_tasks=(),
        jira_issues=(),
        invoices=SheetTab(
            "Invoices",
            (
                ("Invoice", "Vendor", "Amount", "Date", "Status"),
                ("INV-001", "Acme VFX", "$1,200.50", "2025-01-31", "Paid"),
                ("INV-002", "Böse GmbH", "1.200,50 €", "31/01/2025", "Open"),
                ("INV-003", "Pixel Ltd", "350", "1/15/2025", "Open"),
            ),
        ),
        budget=SheetTab(
            "Budget",
            (
                ("Department", "Planned", "Spent", "Remaining"),
                ("Modeling", "10000", "$2,500", "=B2-C2"),
                ("Rigging", "8000", "1,000", "=B3-C3"),
                ("Total", "=SUM(B2:B3)", "=SUM(C2:C3)", "=SUM(D2:D3)"),
            ),
        ),
        jira_statuses=(),
        sg_status_codes=(),
    )


class FakeClock:
    """An injectable clock starting now; tests move it forward."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Receiver:
    """A webhook receiver on loopback that keeps the raw bytes and headers of each delivery."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        app = FastAPI()

        @app.post("/hooks/sheets")
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self.deliveries.append((dict(request.headers), body))
            return Response(status_code=204)

        self.server = ServedApp.start(app)
        self.url = f"{self.server.url}/hooks/sheets"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(scope="module")
def module_receiver():
    rec = Receiver()
    yield rec
    rec.server.stop()


@pytest.fixture
def receiver(module_receiver):
    module_receiver.deliveries.clear()
    return module_receiver


@pytest.fixture
def sandbox(rsa_key, clock, receiver):
    box = SheetsSandbox(
        private_key=rsa_key,
        clock=clock,
        quotas=QuotaLimits(enabled=False),
        webhook=WebhookConfig(url=receiver.url, secret=SECRET),
    )
    box.seed(make_production())
    yield box
    box.close()


@pytest.fixture
def served(sandbox):
    server = ServedApp.start(sandbox.create_app())
    yield server
    server.stop()


def client_for(sandbox: SheetsSandbox, url: str, token_uri: str | None = None) -> gspread.Client:
    info = sandbox.service_account_info(token_uri or f"{url}/token")
    return gspread.service_account_from_dict(info, http_client=local_http_client(url))


@pytest.fixture
def gc(sandbox, served):
    return client_for(sandbox, served.url)


@pytest.fixture
def sheet(gc):
    return gc.open_by_key(SHEET_ID)


def bearer(gc: gspread.Client) -> dict[str, str]:
    gc.open_by_key(SHEET_ID)  # make sure a token was issued
    return {"Authorization": f"Bearer {gc.http_client.auth.token}"}


# -- auth -------------------------------------------------------------------------------------


@pytest.mark.parametrize("token_uri", ["sandbox", "google"])
def test_service_account_flow_exchanges_one_jwt_and_stays_on_loopback(
    sandbox, served, loopback_only, token_uri
):
    uri = f"{served.url}/token" if token_uri == "sandbox" else GOOGLE_TOKEN_URI
    client = client_for(sandbox, served.url, uri)
    assert client.open_by_key(SHEET_ID).title == "Production tracker"
    client.open_by_key(SHEET_ID).worksheet("Invoices").get_all_values()
    credentials: Any = client.http_client.auth
    assert credentials.token.startswith("ya29.")
    if _boundary_lookup_enabled():
        deadline = time.monotonic() + 5
        while credentials.regional_access_boundary is None and time.monotonic() < deadline:
            time.sleep(0.02)  # google-auth looks the boundary up in a background thread
        assert credentials.regional_access_boundary == "0x0"
    calls = sandbox.calls.snapshot()
    assert calls["POST /token"] == 1
    lookups = calls.get("GET /v1/projects/-/serviceAccounts/{email}/allowedLocations", 0)
    assert lookups == (1 if _boundary_lookup_enabled() else 0)
    assert loopback_only == []


def _boundary_lookup_enabled() -> bool:
    """google-auth looked up the Regional Access Boundary after every token up to 2.4x; later
    versions do only when an experimental environment variable turns it on."""
    try:
        from google.auth import _regional_access_boundary_utils as rab
    except ImportError:
        return True
    enabled = getattr(rab, "is_regional_access_boundary_lookup_enabled", None)
    return True if enabled is None else bool(enabled())


def test_self_signed_jwt_bearer_for_a_non_google_universe(sandbox, served):
    info = sandbox.service_account_info()
    info["universe_domain"] = "sandbox.invalid"  # google-auth then signs its own bearer JWT
    client = gspread.service_account_from_dict(info, http_client=local_http_client(served.url))
    assert client.open_by_key(SHEET_ID).sheet1.acell("A2").value == "INV-001"
    assert "POST /token" not in sandbox.calls.snapshot()


def _assertion(key, **claims):
    now = int(time.time())
    body = {
        "iss": "syncd-sandbox@syncd-sandbox.iam.gserviceaccount.com",
        "scope": "https://www.googleapis.com/auth/spreadsheets",
        "aud": GOOGLE_TOKEN_URI,
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256")


def test_token_endpoint_refuses_bad_assertions_like_google(sandbox, served, rsa_key):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    cases = {
        "good": (grant, _assertion(rsa_key)),
        "forged": (grant, _assertion(other_key)),
        "audience": (grant, _assertion(rsa_key, aud="https://example.com/token")),
        "stranger": (grant, _assertion(rsa_key, iss="who@else.iam.gserviceaccount.com")),
        "stale": (
            grant,
            _assertion(rsa_key, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        ),
        "grant": ("client_credentials", _assertion(rsa_key)),
    }
    answers = {}
    for name, (grant_type, assertion) in cases.items():
        reply = httpx.post(
            f"{served.url}/token", data={"grant_type": grant_type, "assertion": assertion}
        )
        answers[name] = (reply.status_code, reply.json())
    assert answers["good"][0] == 200
    assert answers["good"][1]["expires_in"] == 3599
    assert answers["good"][1]["token_type"] == "Bearer"
    assert answers["forged"] == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
    )
    assert answers["audience"][1]["error"] == "invalid_grant"
    assert answers["stranger"][1]["error_description"] == "Invalid grant: account not found"
    assert "short-lived token" in answers["stale"][1]["error_description"]
    assert answers["grant"][1]["error"] == "unsupported_grant_type"


def test_missing_or_unknown_bearer_is_401_in_googles_envelope(served):
    url = f"{served.url}/v4/spreadsheets/{SHEET_ID}"
    missing = httpx.get(url)
    unknown = httpx.get(url, headers={"Authorization": "Bearer ya29.not-a-token"})
    for reply in (missing, unknown):
        assert reply.status_code == 401
        assert reply.json()["error"]["status"] == "UNAUTHENTICATED"
        assert reply.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["error"]["message"].startswith(
        "Request is missing required authentication"
    )
    assert unknown.json()["error"]["message"].startswith("Request had invalid authentication")


def test_expired_tokens_are_renewed_by_the_client_after_a_401(sandbox, sheet):
    sheet.worksheet("Invoices").acell("A1")
    sandbox.expire_tokens()
    assert sheet.worksheet("Invoices").acell("A2").value == "INV-001"
    assert sandbox.calls.snapshot()["POST /token"] == 2


def test_static_token_credentials_work_without_the_token_endpoint(sandbox, served):
    credentials = google.oauth2.credentials.Credentials(token=sandbox.issue_token())
    client = gspread.Client(auth=credentials, http_client=local_http_client(served.url))
    assert client.open_by_key(SHEET_ID).worksheet("Budget").acell("A2").value == "Modeling"
    assert "POST /token" not in sandbox.calls.snapshot()


def test_readonly_scope_cannot_write(sandbox, served):
    info = sandbox.service_account_info(f"{served.url}/token")
    client = gspread.service_account_from_dict(
        info, scopes=gspread.auth.READONLY_SCOPES, http_client=local_http_client(served.url)
    )
    ws = client.open_by_key(SHEET_ID).worksheet("Invoices")
    assert ws.acell("A1").value == "Invoice"
    with pytest.raises(gspread.exceptions.APIError) as caught:
        ws.update([["x"]], "A1")
    assert caught.value.code == 403
    assert (
        caught.value.response.json()["error"]["message"]
        == "Request had insufficient authentication scopes."
    )


# -- reading ----------------------------------------------------------------------------------


def test_seeded_tabs_read_back_as_the_person_typed_them(sheet):
    assert [ws.title for ws in sheet.worksheets()] == ["Invoices", "Budget"]
    invoices = sheet.worksheet("Invoices")
    assert invoices.frozen_row_count == 1
    assert invoices.get_all_values()[1:3] == [
        ["INV-001", "Acme VFX", "$1,200.50", "2025-01-31", "Paid"],
        ["INV-002", "Böse GmbH", "1.200,50 €", "31/01/2025", "Open"],
    ]
    raw = invoices.get("C2:D4", value_render_option="UNFORMATTED_VALUE")
    assert raw == [[1200.5, 45688], ["1.200,50 €", "31/01/2025"], [350, 45672]]
    budget = sheet.worksheet("Budget")
    # Formula results show in the cell's own format; Sheets would inherit "$" here (see README).
    assert budget.get_all_values()[3] == ["Total", "18000", "3500", "14500"]


def test_render_options_and_major_dimension(sheet):
    budget = sheet.worksheet("Budget")
    assert budget.get("D2:D4", value_render_option="FORMULA") == [
        ["=B2-C2"],
        ["=B3-C3"],
        ["=SUM(D2:D3)"],
    ]
    invoices = sheet.worksheet("Invoices")
    dates = invoices.get(
        "D2:D4", value_render_option="UNFORMATTED_VALUE", date_time_render_option="FORMATTED_STRING"
    )
    assert dates == [["2025-01-31"], ["31/01/2025"], ["1/15/2025"]]
    assert invoices.get("A1:B2", major_dimension="COLUMNS") == [
        ["Invoice", "INV-001"],
        ["Vendor", "Acme VFX"],
    ]


def test_returned_ranges_trimming_and_empty_ranges(sandbox, sheet, gc):
    invoices = sheet.worksheet("Invoices")
    invoices.update([["tail"]], "B8")
    first, second = invoices.batch_get(["A1:B2", "F1:G3"])
    assert first.range == "Invoices!A1:B2"
    assert second.range == "Invoices!F1:G3"
    assert list(second) == []  # the reply had no "values" at all
    whole = gc.http_client.values_get(SHEET_ID, "'Invoices'!A1:E")
    assert whole["range"] == "Invoices!A1:E1000"  # open end resolved to the grid
    assert whole["values"][4:] == [[], [], [], ["", "tail"]]  # inner empty rows kept as []
    empty = gc.http_client.values_get(SHEET_ID, "'Invoices'!H1:H9")
    assert empty == {"range": "Invoices!H1:H9", "majorDimension": "ROWS"}


def test_spreadsheet_fields_parameter_cuts_the_response(sheet):
    meta = sheet.fetch_sheet_metadata({"fields": "sheets.properties.title"})
    assert meta == {
        "sheets": [{"properties": {"title": "Invoices"}}, {"properties": {"title": "Budget"}}]
    }
    ws = sheet.worksheet("Invoices")
    ws.update_notes({"A2": "paid by wire", "C3": "in EUR"})  # updateCells, fields "note"
    assert ws.get_note("A2") == "paid by wire"  # a `fields=` mask that asks for grid data
    assert ws.get_notes(grid_range="A2:C3") == [["paid by wire", "", ""], ["", "", "in EUR"]]
    assert ws.acell("A2").value == "INV-001"  # the note left the value alone


# -- writing ----------------------------------------------------------------------------------


def test_update_raw_keeps_text_user_entered_parses(sheet):
    ws = sheet.worksheet("Invoices")
    raw = ws.update([["INV-004", "=1+1", "$10"]], "A5:C5")
    assert raw == {
        "spreadsheetId": SHEET_ID,
        "updatedRange": "Invoices!A5:C5",
        "updatedRows": 1,
        "updatedColumns": 3,
        "updatedCells": 3,
    }
    assert ws.get("B5:C5", value_render_option="UNFORMATTED_VALUE") == [["=1+1", "$10"]]
    ws.update([["=1+1", "$10"]], "B6:C6", raw=False)
    assert ws.get("B6:C6") == [["2", "$10"]]
    assert ws.get("B6:C6", value_render_option="UNFORMATTED_VALUE") == [[2, 10]]


def test_writes_outside_the_grid_or_the_range_are_refused(sheet):
    ws = sheet.worksheet("Invoices")
    cases = {
        "grid": lambda: ws.update([["x"]], "A1001"),
        "range": lambda: ws.update([["a", "b", "c"]], "A1:B1"),
        "parse": lambda: sheet.values_get("'Nope'!A1"),
        "input": lambda: sheet.values_update("'Invoices'!A1", body={"values": [["x"]]}),
    }
    messages = {}
    for name, call in cases.items():
        with pytest.raises(gspread.exceptions.APIError) as caught:
            call()
        assert caught.value.code == 400
        assert caught.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"
        messages[name] = caught.value.response.json()["error"]["message"]
    assert (
        messages["grid"]
        == "Range ('Invoices'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    )
    assert (
        messages["range"]
        == "Requested writing within range ['Invoices'!A1:B1], but tried writing to column [C]"
    )
    assert messages["parse"] == "Unable to parse range: 'Nope'!A1"
    assert messages["input"] == "'valueInputOption' is required but not specified"


def test_values_batch_update_is_all_or_nothing(sheet):
    ws = sheet.worksheet("Invoices")
    reply = ws.batch_update(
        [{"range": "E2", "values": [["Void"]]}, {"range": "E3:E4", "values": [["x"], ["y"]]}]
    )
    assert reply["totalUpdatedCells"] == 3
    assert reply["totalUpdatedSheets"] == 1
    with pytest.raises(gspread.exceptions.APIError):
        ws.batch_update(
            [{"range": "E2", "values": [["Paid"]]}, {"range": "A1001", "values": [["x"]]}]
        )
    assert ws.acell("E2").value == "Void"


def test_append_rows_writes_after_the_table_and_grows_the_grid(sheet):
    ws = sheet.add_worksheet("Ledger", rows=3, cols=2)
    ws.update([["Invoice", "Amount"], ["INV-1", "5"]], "A1:B2")
    reply = ws.append_rows([["INV-2", "$7"], ["INV-3", "$9"]], value_input_option="USER_ENTERED")
    assert reply["tableRange"] == "Ledger!A1:B2"
    assert reply["updates"]["updatedRange"] == "Ledger!A3:B4"
    # The grid grew by what the rows needed (gspread's cached count just adds len(rows)).
    assert sheet.worksheet("Ledger").row_count == 4
    assert ws.get_all_values()[2:] == [["INV-2", "$7"], ["INV-3", "$9"]]


def test_append_insert_rows_pushes_later_rows_down(sheet):
    ws = sheet.add_worksheet("Notes", rows=10, cols=2)
    ws.update([["a"], ["b"], [""], ["footer"]], "A1:A4")
    ws.append_rows([["c"]], insert_data_option="INSERT_ROWS", table_range="A1")
    assert ws.col_values(1) == ["a", "b", "c", "", "footer"]
    assert sheet.worksheet("Notes").row_count == 11


def test_gspread_row_helpers_land_where_gspread_expects(sheet):
    ws = sheet.add_worksheet("Rows", rows=10, cols=3)
    ws.update([["k", "v"], ["b", "2"], ["a", "1"]], "A1:B3")
    ws.insert_row(["z", "26"], index=2)  # insertDimension, then append at 'Rows'!A2
    assert ws.get_all_values() == [["k", "v"], ["z", "26"], ["b", "2"], ["a", "1"]]
    ws.delete_rows(3)
    ws.sort((2, "des"), range="A2:B3")
    ws.freeze(rows=1)
    ws.resize(rows=20)
    assert ws.get_all_records() == [{"k": "z", "v": 26}, {"k": "a", "v": 1}]
    fresh = sheet.worksheet("Rows")
    assert (fresh.row_count, fresh.frozen_row_count) == (20, 1)


def test_clear_removes_values_but_keeps_formats(sheet):
    ws = sheet.worksheet("Invoices")
    assert ws.batch_clear(["A3:E3", "A4"])["clearedRanges"] == ["Invoices!A3:E3", "Invoices!A4"]
    sheet.values_clear("'Invoices'!C2")
    assert ws.get("A2:C4") == [["INV-001", "Acme VFX"], [], ["", "Pixel Ltd", "350"]]
    ws.update([["42"]], "C2", raw=False)
    assert ws.acell("C2").value == "$42.00"  # the currency format outlived the clear


# -- structure --------------------------------------------------------------------------------


def test_add_and_delete_worksheets(sheet):
    added = sheet.add_worksheet("Shots", rows=50, cols=4)
    assert added.id != 0
    assert (added.row_count, added.col_count) == (50, 4)
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sheet.add_worksheet("shots", rows=5, cols=5)
    assert (
        'A sheet with the name "shots" already exists'
        in caught.value.response.json()["error"]["message"]
    )
    sheet.del_worksheet(added)
    assert [ws.title for ws in sheet.worksheets()] == ["Invoices", "Budget"]


def test_format_reads_back_with_include_grid_data(sheet):
    ws = sheet.worksheet("Invoices")
    ws.format("A1:E1", {"textFormat": {"bold": True}, "backgroundColor": {"red": 0.9}})
    meta = sheet.fetch_sheet_metadata({"includeGridData": "true", "ranges": ["'Invoices'!A1:C2"]})
    [tab] = meta["sheets"]
    data = tab["data"][0]
    header, first = data["rowData"]
    assert header["values"][0]["userEnteredFormat"] == {
        "textFormat": {"bold": True},
        "backgroundColor": {"red": 0.9},
    }
    amount = first["values"][2]
    assert amount["userEnteredValue"] == {"numberValue": 1200.5}
    assert amount["effectiveValue"] == {"numberValue": 1200.5}
    assert amount["formattedValue"] == "$1,200.50"
    assert amount["userEnteredFormat"]["numberFormat"] == {
        "type": "CURRENCY",
        "pattern": '"$"#,##0.00',
    }
    assert len(data["rowMetadata"]) == 2 and len(data["columnMetadata"]) == 3


def test_structural_batch_update_and_read_back(sheet):
    invoices = sheet.worksheet("Invoices")
    grid = {
        "sheetId": invoices.id,
        "startRowIndex": 1,
        "endRowIndex": 4,
        "startColumnIndex": 4,
        "endColumnIndex": 5,
    }
    chart = {
        "spec": {
            "title": "Spend",
            "basicChart": {
                "chartType": "BAR",
                "domains": [
                    {
                        "domain": {
                            "sourceRange": {
                                "sources": [{**grid, "startColumnIndex": 0, "endColumnIndex": 1}]
                            }
                        }
                    }
                ],
                "series": [
                    {
                        "series": {
                            "sourceRange": {
                                "sources": [{**grid, "startColumnIndex": 2, "endColumnIndex": 3}]
                            }
                        }
                    }
                ],
            },
        },
        "position": {
            "overlayPosition": {
                "anchorCell": {"sheetId": invoices.id, "rowIndex": 6, "columnIndex": 0}
            }
        },
    }
    rule = {
        "ranges": [grid],
        "booleanRule": {
            "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "Open"}]},
            "format": {"backgroundColor": {"red": 1, "green": 0.8, "blue": 0.8}},
        },
    }
    reply = sheet.batch_update(
        {
            "requests": [
                {"addChart": {"chart": chart}},
                {"addConditionalFormatRule": {"rule": rule, "index": 0}},
                {
                    "updateSheetProperties": {
                        "properties": {
                            "sheetId": invoices.id,
                            "gridProperties": {"frozenRowCount": 2},
                        },
                        "fields": "gridProperties.frozenRowCount",
                    }
                },
            ]
        }
    )
    chart_id = reply["replies"][0]["addChart"]["chart"]["chartId"]
    assert isinstance(chart_id, int)
    assert reply["replies"][1:] == [{}, {}]
    [tab] = [
        s for s in sheet.fetch_sheet_metadata()["sheets"] if s["properties"]["title"] == "Invoices"
    ]
    assert tab["properties"]["gridProperties"] == {
        "rowCount": 1000,
        "columnCount": 26,
        "frozenRowCount": 2,
    }
    assert tab["charts"][0]["chartId"] == chart_id
    assert tab["charts"][0]["position"]["overlayPosition"]["widthPixels"] == 600
    assert tab["conditionalFormats"] == [rule]
    reply = sheet.batch_update(
        {
            "requests": [{"deleteEmbeddedObject": {"objectId": chart_id}}],
            "includeSpreadsheetInResponse": True,
        }
    )
    assert "charts" not in reply["updatedSpreadsheet"]["sheets"][0]
    assert "charts" not in sheet.fetch_sheet_metadata()["sheets"][0]


def test_one_bad_request_rolls_back_the_whole_batch(sheet):
    invoices = sheet.worksheet("Invoices")
    good = {
        "updateSheetProperties": {
            "properties": {"sheetId": invoices.id, "title": "Renamed"},
            "fields": "title",
        }
    }
    cases = {
        "bad": [good, {"addSheet": {}}, {"deleteSheet": {"sheetId": 99}}],
        "unknown": [good, {"frobnicate": {}}],
        "unemulated": [good, {"findReplace": {"find": "a", "replacement": "b", "allSheets": True}}],
    }
    messages = {}
    for name, requests in cases.items():
        with pytest.raises(gspread.exceptions.APIError) as caught:
            sheet.batch_update({"requests": requests})
        assert caught.value.code == 400
        messages[name] = caught.value.response.json()["error"]["message"]
    assert messages["bad"] == "Invalid requests[2].deleteSheet: No sheet with id: 99"
    assert messages["unknown"] == (
        'Invalid JSON payload received. Unknown name "frobnicate" at '
        "'requests[1]': Cannot find field."
    )
    assert "does not emulate findReplace" in messages["unemulated"]
    assert [ws.title for ws in sheet.worksheets()] == ["Invoices", "Budget"]


@pytest.mark.parametrize("title", ["Q1 Budget", "Vendor's / Notes", "50% : done!"])
def test_titles_needing_quotes_and_percent_encoding(sheet, title):
    ws = sheet.add_worksheet(title, rows=20, cols=3)
    quoted = "'" + title.replace("'", "''") + "'"
    assert ws.update([["a", "b"]], "A1:B1")["updatedRange"] == f"{quoted}!A1:B1"
    assert ws.append_rows([["c", "d"]])["updates"]["updatedRange"] == f"{quoted}!A2:B2"
    assert ws.get_all_values() == [["a", "b"], ["c", "d"]]
    assert ws.batch_get(["B1:B2"])[0].range == f"{quoted}!B1:B2"
    ws.batch_clear(["A1"])
    assert ws.acell("A1").value is None
    assert sheet.worksheet(title).acell("B2").value == "d"


def test_missing_and_unshared_spreadsheets(sandbox, gc):
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open_by_key("1NoSuchSpreadsheet")
    sandbox.add_spreadsheet(
        "1SomeoneElses", "Private", [SheetTab("Sheet1", (("secret",),))], shared=False
    )
    with pytest.raises(PermissionError):
        gc.open_by_key("1SomeoneElses")
    sandbox.share("1SomeoneElses", sandbox.service_account.email)
    assert gc.open_by_key("1SomeoneElses").sheet1.acell("A1").value == "secret"


# -- quotas and faults ------------------------------------------------------------------------


def test_write_quota_per_user_answers_429_until_the_next_minute(sandbox, sheet, clock, served, gc):
    assert not sandbox.quotas.limits.enabled  # the knob alone turns the per-user limit on
    sandbox.knobs.rate_limit_per_minute = 3
    clock.now = clock.now.replace(second=1)
    ws = sheet.worksheet("Invoices")
    for n in range(3):
        ws.update([[f"w{n}"]], "F1")
    with pytest.raises(gspread.exceptions.APIError) as caught:
        ws.update([["w3"]], "F1")
    error = caught.value
    assert error.code == 429
    assert error.response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert (
        "limit 'Write requests per minute per user' of service 'sheets.googleapis.com'"
        in error.error["message"]
    )
    assert error.response.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    assert "retry-after" not in error.response.headers
    assert ws.acell("F1").value == "w2"  # reads have their own quota
    clock.advance(60)
    ws.update([["w4"]], "F1")
    assert ws.acell("F1").value == "w4"


def test_project_quota_is_shared_by_every_service_account(sandbox, served, clock):
    sandbox.quotas.limits = QuotaLimits(write_per_user=10, write_per_project=4)
    clock.now = clock.now.replace(second=1)
    second = sandbox.add_service_account("reporting@syncd-sandbox.iam.gserviceaccount.com")
    sandbox.share(SHEET_ID, second.email)
    first_ws = client_for(sandbox, served.url).open_by_key(SHEET_ID).worksheet("Budget")
    info = second.info(f"{served.url}/token")
    second_ws = (
        gspread.service_account_from_dict(info, http_client=local_http_client(served.url))
        .open_by_key(SHEET_ID)
        .worksheet("Budget")
    )
    for n in range(2):
        first_ws.update([[n]], "F1")
        second_ws.update([[n]], "F2")
    with pytest.raises(gspread.exceptions.APIError) as caught:
        second_ws.update([["over"]], "F3")
    assert caught.value.code == 429
    assert "limit 'Write requests per minute' of service" in caught.value.error["message"]


def test_injected_faults_use_googles_envelope(sandbox, sheet):
    ws = sheet.worksheet("Invoices")
    sandbox.knobs.fault_rate, sandbox.knobs.faults = 1.0, ["503"]
    with pytest.raises(gspread.exceptions.APIError) as caught:
        ws.acell("A1")
    assert caught.value.code == 503
    assert caught.value.response.json()["error"]["status"] == "UNAVAILABLE"


# -- people and the Apps Script webhook ----------------------------------------------------------


def _deliveries(sandbox, receiver, count):
    assert sandbox.webhooks.flush(5)
    assert len(receiver.deliveries) == count
    return receiver.deliveries


def test_person_edit_sends_a_signed_webhook_that_verifies(sandbox, served, receiver, gc, clock):
    reply = httpx.post(
        f"{served.url}/_sandbox/spreadsheets/{SHEET_ID}/edit",
        json={"as": PRODUCER, "range": "'Invoices'!C3:D3", "values": [["$1,250.00", "2025-02-03"]]},
    )
    assert reply.status_code == 200
    [(headers, body)] = _deliveries(sandbox, receiver, 1)
    msg_id = verify_standard(headers, body, SECRET, now=clock().timestamp())
    assert msg_id.startswith("msg_")
    event = reply.json()["events"][0]
    assert event == {
        "type": "sheet.edit",
        "spreadsheetId": SHEET_ID,
        "sheetId": 0,
        "sheetName": "Invoices",
        "range": "C3:D3",
        "rowStart": 3,
        "rowEnd": 3,
        "columnStart": 3,
        "columnEnd": 4,
        "user": PRODUCER,
        "editedAt": clock().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    assert httpx.Response(200, content=body).json() == event
    tampered = body.replace(b"C3:D3", b"C3:D4")
    with pytest.raises(SignatureError):
        verify_standard(headers, tampered, SECRET, now=clock().timestamp())
    assert gc.open_by_key(SHEET_ID).worksheet("Invoices").get(
        "C3:D3", value_render_option="UNFORMATTED_VALUE"
    ) == [[1250, 45691]]


def test_api_writes_send_no_webhook_only_people_do(sandbox, sheet, receiver):
    ws = sheet.worksheet("Invoices")
    ws.update([["Paid"]], "E3")
    ws.append_rows([["INV-009", "Acme VFX", "$99"]], value_input_option="USER_ENTERED")
    ws.batch_update([{"range": "E4", "values": [["Paid"]]}])
    ws.format("E1", {"textFormat": {"italic": True}})
    assert sandbox.webhooks.flush(5)
    assert receiver.deliveries == []
    sandbox.person_edit(SHEET_ID, as_=PRODUCER, range_="Invoices!E2", values=[["Disputed"]])
    [(_, body)] = _deliveries(sandbox, receiver, 1)
    assert b'"user":"mia.krystof@studio.example"' in body
    actors = {record.actor for record in sandbox.history}
    assert actors == {sandbox.service_account.email, PRODUCER}


def test_people_insert_and_sort_rows_so_rows_move(sandbox, served, receiver, sheet):
    base = f"{served.url}/_sandbox/spreadsheets/{SHEET_ID}/rows"
    inserted = httpx.post(
        base,
        json={
            "as": PRODUCER,
            "action": "insert",
            "sheet": "Invoices",
            "at": 2,
            "values": [["INV-000", "Zed", "$5"]],
        },
    )
    assert [e["type"] for e in inserted.json()["events"]] == ["sheet.change", "sheet.edit"]
    assert inserted.json()["events"][0]["changeType"] == "INSERT_ROW"
    ws = sheet.worksheet("Invoices")
    assert ws.col_values(1) == ["Invoice", "INV-000", "INV-001", "INV-002", "INV-003"]
    by_amount = httpx.post(
        base,
        json={
            "as": PRODUCER,
            "action": "sort",
            "sheet": "Invoices",
            "column": "C",
            "descending": True,
        },
    )
    assert [e["type"] for e in by_amount.json()["events"]] == ["sheet.edit", "sheet.change"]
    # Z->A reverses Sheets' order (numbers < text): "1.200,50 €" is text in en_US, so it leads.
    assert ws.col_values(1) == ["Invoice", "INV-002", "INV-001", "INV-003", "INV-000"]
    row_of = {row[0]: row for row in ws.get_all_values()[1:]}
    assert row_of["INV-003"][2] == "350"  # the row moved whole
    deleted = httpx.post(
        base, json={"as": PRODUCER, "action": "delete", "sheet": "Invoices", "at": 3}
    )
    assert deleted.json()["events"][0]["changeType"] == "REMOVE_ROW"
    assert ws.col_values(1) == ["Invoice", "INV-002", "INV-003", "INV-000"]
    _deliveries(sandbox, receiver, 5)


def test_control_routes_hand_out_the_key_file_and_tune_quotas(served, sandbox, tmp_path):
    info = httpx.get(f"{served.url}/_sandbox/service-account").json()
    assert info["token_uri"] == f"{served.url}/token"
    assert info["client_email"] == sandbox.service_account.email
    path = sandbox.write_service_account_file(tmp_path / "sa.json", f"{served.url}/token")
    client = gspread.service_account(filename=str(path), http_client=local_http_client(served.url))
    assert client.open_by_key(SHEET_ID).title == "Production tracker"
    patched = httpx.patch(
        f"{served.url}/_sandbox/quotas", json={"enabled": True, "read_per_user": 2}
    ).json()
    assert patched["read_per_user"] == 2
    assert sandbox.quotas.limits.enabled
    listing = httpx.get(f"{served.url}/_sandbox/spreadsheets").json()
    assert listing == [
        {"spreadsheetId": SHEET_ID, "title": "Production tracker", "sheets": ["Invoices", "Budget"]}
    ]
