"""The Google Sheets connector against the Sheets sandbox over loopback HTTP (real gspread)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.memory import MemoryConfig, MemoryConnector
from connectors.sheets import SheetsConnector
from syncd.connector import PushItem, SourceRecord
from syncd.engine import Engine
from syncd.errors import AuthError, PermanentError, TransientError, UnsupportedCapability
from syncd.mapping.load import MappingSet, MappingSource
from syncd.registry import build_connector
from syncd.signatures import SignatureError
from syncd.store.store import Store
from syncd_sandbox.production import SheetTab
from syncd_sandbox.sheets import QuotaLimits, ServiceAccount
from syncd_sandbox.signing import sign_standard
from tests.connectors.conftest import RSA_KEY
from tests.contract.harness_sheets import WEBHOOK_SECRET, SheetsHarness
from tests.factories import sqlite_copy

pytestmark = pytest.mark.sandbox

AUTH_CALLS = ("POST /token", "GET /v1/projects/-/serviceAccounts/{email}/allowedLocations")
BATCH_GET = "GET /v4/spreadsheets/{spreadsheet_id}/values:batchGet"
VALUES_UPDATE = "POST /v4/spreadsheets/{spreadsheet_id}/values:batchUpdate"
BATCH_UPDATE = "POST /v4/spreadsheets/{spreadsheet_id}:batchUpdate"
METADATA = "GET /v4/spreadsheets/{spreadsheet_id}"
MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test if anything (google-auth's background lookups too) resolves a real host."""
    attempts: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "::1"):
            attempts.append(str(host))
            raise socket.gaierror(f"test tried to reach {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield attempts
    assert attempts == []


def _pull(connector: SheetsConnector, entity: str = "Invoices", **kw: Any) -> list[SourceRecord]:
    return [r for b in connector.pull(entity, None, fields=kw.get("fields", [])) for r in b.records]


def _spent(sheets: SheetsHarness, before: dict[str, int]) -> dict[str, int]:
    """Sheets API calls since `before` (google-auth's token and boundary calls left out)."""
    after = sheets.calls()
    return {
        k: after[k] - before.get(k, 0)
        for k in after
        if after[k] != before.get(k, 0) and k not in AUTH_CALLS
    }


def _padded(row: list[str], width: int) -> list[str]:
    return (row + [""] * width)[:width]


def _mapping_text() -> str:
    return (MAPPINGS / "sheets.toml").read_text(encoding="utf-8")


def _mappings(*extra: MappingSource, text: str | None = None) -> MappingSet:
    sheets = MappingSource("mappings/sheets.toml", text or _mapping_text())
    return MappingSet([sheets, *extra], {"sheets": dict(SheetsConnector.read_only_paths)})


# -- reading ------------------------------------------------------------------------------


def test_rows_read_the_way_the_shipped_mapping_expects(sheets: SheetsHarness) -> None:
    connector = sheets.connector()
    mappings = _mappings()
    for entity in ("Invoices", "Budget"):
        mapping = mappings.entity("sheets", entity)
        records = _pull(connector, entity, fields=mapping.source_paths())
        assert records and all(r.external_id for r in records)
        for record in records:
            pulled = mapping.pull(record.data)  # every shipped path is there
            assert pulled.external_id == record.external_id
        first = records[0]
        assert set(first.data) == {p[0] for p in mapping.source_paths()}
        assert first.row == 2
    assert {r.external_id for r in _pull(connector)} == sheets.expected_ids()


def test_cells_are_text_as_displayed_and_blank_rows_are_skipped(sheets: SheetsHarness) -> None:
    records = _pull(sheets.connector())
    by_row = {r.row: r for r in records}
    assert None not in by_row  # every row says where it is
    notes = sheets.production.notes
    blanks = [
        n for n, row in enumerate(sheets.values(), start=1) if not any(c.strip() for c in row)
    ]
    assert blanks and not set(blanks) & set(by_row)
    shown = {r.external_id: r.data for r in records}
    assert shown[notes["non_numeric_amount_invoice"]]["Amount"] == "TBD"
    eur = shown[notes["amount_eur_symbol"]]["Amount"]
    assert eur.endswith("€") and "," in eur  # "1.200,50 €": what the producer sees
    # Every header is present on every row; an empty cell reads as "" (cleared, not absent).
    assert all(set(d) == set(sheets.header()) for d in shown.values())
    assert any(d["Notes"] == "" for d in shown.values())


def test_duplicate_and_keyless_rows_come_out_as_problems(messy: SheetsHarness) -> None:
    notes = messy.production.notes
    first, second = (int(n) for n in notes["duplicate_invoice_rows"].split(","))
    number = notes["duplicate_invoice"]
    blank = int(notes["blank_invoice_rows"].split(",")[0])
    messy.type_as_person(f"'Invoices'!B{blank}:C{blank}", [["Someone forgot the number", "$10"]])

    records = _pull(messy.connector())
    problems = [r for r in records if r.problem is not None]
    found = {(r.row, r.external_id) for r in problems}
    # Neither row of a repeated number wins by position: both are problems, both named.
    assert found == {(blank, None), (first, number), (second, number)}
    by_row = {r.row: r.problem for r in problems}
    twice = f"Invoices rows {first} and {second} have the same Invoice # {number}:"
    assert by_row[first] == by_row[second]
    assert str(by_row[second]).startswith(twice)
    assert by_row[blank] == f"Invoices row {blank} has no Invoice #"
    usable = [r for r in records if r.problem is None]
    assert [r.row for r in usable if r.external_id == number] == []
    assert len({r.external_id for r in usable}) == len(usable)


def test_sorting_and_inserting_rows_changes_nothing_but_row_numbers(
    sheets: SheetsHarness,
) -> None:
    connector = sheets.connector()
    before = {r.external_id: r for r in _pull(connector)}
    sheets.rows_as_person(action="sort", column="B", descending=True)
    sheets.rows_as_person(action="insert", at=2, count=3)
    after = {r.external_id: r for r in _pull(connector)}
    assert after.keys() == before.keys()
    moved = 0
    for key, record in after.items():
        assert record.data == before[key].data
        assert record.row is not None and before[key].row is not None
        moved += record.row != before[key].row
    assert moved > len(after) // 2


def test_batches_hold_at_most_batch_size_rows_and_no_cursor(sheets: SheetsHarness) -> None:
    batches = list(sheets.connector().pull("Invoices", None, fields=[]))
    sizes = [len(b.records) for b in batches]
    total = len(sheets.expected_ids())
    assert sizes == [25] * (total // 25) + ([total % 25] if total % 25 else [])
    assert all(b.cursor is None for b in batches)


def test_a_missing_key_header_or_tab_is_named(sheets: SheetsHarness) -> None:
    renamed = sheets.make_connector(keys={"Invoices": "Invoice No."})
    with pytest.raises(PermanentError, match=r"tab 'Invoices' has no 'Invoice No\.' column"):
        _pull(renamed)
    renamed.close()
    missing = sheets.make_connector(keys={"Invoices": "Invoice #", "Bills": "Bill"})
    with pytest.raises(PermanentError, match="no tab named 'Bills'"):
        _pull(missing, "Bills")
    with pytest.raises(PermanentError, match=r"connectors\.sheets\.keys"):
        _pull(missing, "Budget")
    missing.close()


def test_fetch_rereads_the_tab_once_and_reports_missing_keys_deleted(
    sheets: SheetsHarness,
) -> None:
    connector = sheets.connector()
    wanted = sorted(sheets.expected_ids())[:3]
    before = sheets.calls()
    records = connector.fetch(
        "Invoices", [wanted[2], "INV-1999-0001", wanted[0], wanted[2]], fields=[]
    )
    assert _spent(sheets, before).get(BATCH_GET) == 1
    assert [(r.external_id, r.deleted) for r in records] == [
        (wanted[2], False),
        ("INV-1999-0001", True),
        (wanted[0], False),
    ]
    assert records[0].data["Invoice #"] == wanted[2]


# -- writing ------------------------------------------------------------------------------


def test_push_writes_back_columns_only_in_one_read_and_one_write(sheets: SheetsHarness) -> None:
    connector = sheets.connector()
    _pull(connector)
    before_values = sheets.values()
    targets = sorted(sheets.expected_ids())[:5]
    items = [
        PushItem(external_id=t, payload={"Sync Status": "synced", "Synced At": "2026-02-01 10:00"})
        for t in targets
    ]
    before = sheets.calls()
    result = connector.push(
        "Invoices", [*items, PushItem(external_id="INV-1999-0001", payload={"Sync Status": "x"})]
    )
    assert _spent(sheets, before) == {BATCH_GET: 1, VALUES_UPDATE: 1}
    assert result.written == targets
    assert result.rejected == {"INV-1999-0001": "no row of Invoices has Invoice # INV-1999-0001"}

    after_values = sheets.values()
    width = len(before_values[0])
    assert after_values[0][width:] == ["Synced At", "Sync Status"]  # appended, in config order
    assert len(after_values) == len(before_values)
    for old, new in zip(before_values, after_values, strict=True):
        assert _padded(new, width) == _padded(old, width)  # a producer's cells stay as they were
    for target in targets:
        assert sheets.cell(target, "Sync Status") == "synced"
        assert sheets.cell(target, "Synced At") == "2026-02-01 10:00"

    # A replay writes nothing: the cells already hold the values.
    before = sheets.calls()
    assert connector.push("Invoices", items).written == targets
    assert _spent(sheets, before) == {BATCH_GET: 1}


def test_push_refuses_a_producers_column_and_writes_the_rest(sheets: SheetsHarness) -> None:
    connector = sheets.connector()
    a, b = sorted(sheets.expected_ids())[:2]
    amount = sheets.cell(a, "Amount")
    result = connector.push(
        "Invoices",
        [
            PushItem(external_id=a, payload={"Amount": "$0.00"}),
            PushItem(external_id=b, payload={"Sync Status": '=IMPORTXML("http://x", "//a")'}),
        ],
    )
    assert result.written == [b]
    assert "not a write-back column of Invoices" in result.rejected[a]
    assert sheets.cell(a, "Amount") == amount
    assert sheets.cell(b, "Sync Status") == '=IMPORTXML("http://x", "//a")'  # text, not a formula


def test_push_finds_rows_that_moved_since_the_pull(sheets: SheetsHarness) -> None:
    connector = sheets.connector()
    _pull(connector)
    target = sorted(sheets.expected_ids())[7]
    sheets.rows_as_person(action="sort", column="B")
    sheets.rows_as_person(action="insert", at=2, count=2)
    assert connector.push(
        "Invoices", [PushItem(external_id=target, payload={"Sync Status": "ok"})]
    ).written == [target]
    statuses = {k: sheets.cell(k, "Sync Status") for k in sheets.expected_ids()}
    assert {k for k, v in statuses.items() if v} == {target}


def test_push_rereads_the_whole_tab_when_columns_moved(sheets: SheetsHarness) -> None:
    connector = sheets.connector()
    _pull(connector)  # remembers where the columns are
    sheet_id = next(
        s["properties"]["sheetId"]
        for s in connector.spreadsheet_metadata()["sheets"]
        if s["properties"]["title"] == "Invoices"
    )
    insert = {
        "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1}
    }
    connector.batch_update([{"insertDimension": insert}])
    target = sorted(sheets.expected_ids())[3]
    before = sheets.calls()
    assert connector.push(
        "Invoices", [PushItem(external_id=target, payload={"Sync Status": "ok"})]
    ).written == [target]
    assert _spent(sheets, before) == {BATCH_GET: 2, VALUES_UPDATE: 1}
    assert sheets.cell(target, "Sync Status") == "ok"


def test_push_widens_a_full_grid_for_a_new_write_back_column(sheets: SheetsHarness) -> None:
    header = ("ID", *(f"Col {i}" for i in range(2, 27)))  # 26 columns: A..Z, all used
    rows = (header, ("W-1", *("x" for _ in range(25))), ("W-2", *("y" for _ in range(25))))
    sheets.sandbox.add_spreadsheet("1WideSheet", "Wide", [SheetTab("Wide", rows)])
    connector = sheets.make_connector(spreadsheet_id="1WideSheet", keys={"Wide": "ID"})
    before = sheets.calls()
    result = connector.push("Wide", [PushItem(external_id="W-2", payload={"Sync Status": "ok"})])
    assert result.written == ["W-2"]
    spent = _spent(sheets, before)
    assert spent[BATCH_UPDATE] == 1 and spent[VALUES_UPDATE] == 1  # appendDimension, then values
    values = sheets.sandbox.values("1WideSheet", "'Wide'")
    assert values[0][26] == "Sync Status" and values[2][26] == "ok"
    connector.close()


def test_rollup_helpers_read_metadata_and_run_batch_updates(sheets: SheetsHarness) -> None:
    connector = sheets.connector()
    meta = connector.spreadsheet_metadata()
    assert [s["properties"]["title"] for s in meta["sheets"]] == ["Invoices", "Budget"]
    reply = connector.batch_update([{"addSheet": {"properties": {"title": "syncd · Budget"}}}])
    assert reply["replies"][0]["addSheet"]["properties"]["title"] == "syncd · Budget"
    connector.write_values([{"range": "'syncd · Budget'!A1:B1", "values": [["Line", "Spent"]]}])
    [block] = connector.read_values(["'syncd · Budget'!A1:B1"])
    assert block["values"] == [["Line", "Spent"]]


# -- auth, quotas, failures ---------------------------------------------------------------


def test_expired_token_is_renewed_after_a_401(sheets: SheetsHarness) -> None:
    connector = sheets.connector()
    _pull(connector)
    sheets.sandbox.expire_tokens()
    assert {r.external_id for r in _pull(connector)} == sheets.expected_ids()
    assert sheets.calls()["POST /token"] == 2


def test_a_key_file_works_and_a_missing_one_names_the_setting(
    sheets: SheetsHarness, tmp_path: Path
) -> None:
    key_file = sheets.sandbox.write_service_account_file(
        tmp_path / "key.json", token_uri=f"{sheets.url}/token"
    )
    connector = sheets.make_connector(service_account_info=None, service_account_file=key_file)
    assert {r.external_id for r in _pull(connector)} == sheets.expected_ids()
    assert connector.integration_user == sheets.sandbox.service_account.email
    connector.close()
    gone = sheets.make_connector(
        service_account_info=None, service_account_file=tmp_path / "nope.json"
    )
    with pytest.raises(AuthError, match=r"connectors\.sheets\.service_account_file") as caught:
        _pull(gone)
    assert "No such file" in str(caught.value)
    assert gone.integration_user is None


def test_a_refused_key_names_the_setting_and_never_shows_the_key(sheets: SheetsHarness) -> None:
    stranger = ServiceAccount("stranger@syncd-sandbox.iam.gserviceaccount.com", project_id="x")
    info = stranger.info(f"{sheets.url}/token")
    connector = sheets.make_connector(service_account_info=json.dumps(info))
    with pytest.raises(AuthError) as caught:
        _pull(connector)
    message = str(caught.value)
    assert "connectors.sheets.service_account_info" in message and "invalid_grant" in message
    assert "PRIVATE KEY" not in message and info["private_key"][40:80] not in message
    connector.close()


def test_an_unshared_or_unknown_spreadsheet_says_what_to_fix(sheets: SheetsHarness) -> None:
    email = sheets.sandbox.service_account.email
    sheets.sandbox.share(sheets.spreadsheet_id, email, shared=False)
    with pytest.raises(PermanentError, match=f"share spreadsheet .* with {email}"):
        _pull(sheets.connector())
    unknown = sheets.make_connector(spreadsheet_id="1NoSuchSpreadsheet")
    with pytest.raises(PermanentError, match=r"check connectors\.sheets\.spreadsheet_id"):
        _pull(unknown)
    unknown.close()


class VirtualTime:
    """A clock both sides read: the sandbox's quota minutes and the connector's sleeps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_429_resource_exhausted_is_retried_with_backoff_until_the_quota_refills() -> None:
    # 0.1 s before a minute boundary: the first backoffs cross it and the quota refills.
    start = datetime.now(UTC).replace(second=59, microsecond=900_000)
    clock = VirtualTime(start)
    harness = SheetsHarness(
        quotas=QuotaLimits(enabled=True, read_per_user=2), clock=clock, private_key=RSA_KEY
    )
    harness.start()
    try:
        connector = harness.make_connector(deps={"sleep": clock.sleep, "clock": clock.monotonic})
        for _ in range(3):  # the third read is over the quota of two a minute
            assert {r.external_id for r in _pull(connector)} == harness.expected_ids()
        assert clock.now.minute != start.minute  # the retries waited into the next minute
        assert harness.calls()[BATCH_GET] >= 4  # at least one 429, then a success
        connector.close()
    finally:
        harness.stop()


def test_a_server_that_keeps_failing_gives_a_transient_error(sheets: SheetsHarness) -> None:
    sleeps: list[float] = []
    connector = sheets.make_connector(deps={"sleep": sleeps.append})
    _pull(connector)  # authenticated: the failures below are the API's
    sheets.turn_knobs(fault_rate=1.0, faults=["503"])
    with pytest.raises(TransientError, match="503"):
        _pull(connector)
    assert len(sleeps) == 5  # six attempts in all
    connector.close()


# -- webhooks -----------------------------------------------------------------------------


def test_webhooks_name_the_tab_and_the_person(sheets: SheetsHarness) -> None:
    connector = sheets.connector()
    target = sorted(sheets.expected_ids())[0]
    headers, body = sheets.webhook(target)
    [event] = connector.parse_webhook(headers, body)
    assert event.delivery_id == headers["webhook-id"] and event.delivery_id.startswith("msg_")
    assert (event.entity, event.external_id, event.deleted) == ("Invoices", None, False)
    assert event.author == sheets.person()
    assert connector.integration_user == sheets.sandbox.service_account.email

    receiver = sheets.receiver()
    sheets.rows_as_person(action="sort", column="C")
    sheets.control.post("/_sandbox/webhook/flush").raise_for_status()
    headers, body = receiver.deliveries[-1]
    assert json.loads(body)["type"] == "sheet.change"
    assert [e.entity for e in connector.parse_webhook(headers, body)] == ["Invoices"]


def _signed(
    payload: object, *, at: float | None = None, secret: str = WEBHOOK_SECRET
) -> tuple[dict[str, str], bytes]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return sign_standard(body, secret, msg_id="msg_1", timestamp=int(at or time.time())), body


def _edit(**over: Any) -> dict[str, Any]:
    return {
        "type": "sheet.edit",
        "spreadsheetId": "1Sheet",
        "sheetId": 0,
        "sheetName": "Invoices",
        "range": "K5",
        "rowStart": 5,
        "rowEnd": 5,
        "columnStart": 11,
        "columnEnd": 11,
        "user": "mia@studio.example",
        "editedAt": "2026-02-01T10:00:00.000Z",
        **over,
    }


def test_webhook_checks_and_refusals(sheets: SheetsHarness) -> None:
    connector = sheets.make_connector(spreadsheet_id="1Sheet")
    assert connector.parse_webhook(*_signed(_edit(sheetName="Notes"))) == []
    assert connector.parse_webhook(*_signed(_edit(spreadsheetId="1Other"))) == []
    assert connector.parse_webhook(*_signed(_edit(user=None)))[0].author is None
    with pytest.raises(SignatureError, match="more than 300 s"):
        connector.parse_webhook(*_signed(_edit(), at=time.time() - 301))
    with pytest.raises(SignatureError, match="does not match"):
        connector.parse_webhook(*_signed(_edit(), secret="whsec_b3RoZXI="))
    with pytest.raises(ValueError, match="not JSON"):
        connector.parse_webhook(*_signed(b"{not json"))
    with pytest.raises(ValueError, match=r"not a sheet\.edit or sheet\.change event"):
        connector.parse_webhook(*_signed({"type": "sheet.delete", "sheetName": "Invoices"}))
    connector.close()
    unset = sheets.make_connector(webhook_secret=None)
    with pytest.raises(SignatureError, match=r"not set: set connectors\.sheets\.webhook_secret"):
        unset.parse_webhook(*_signed(_edit()))
    unset.close()


def test_people_are_not_a_sheets_thing(sheets: SheetsHarness) -> None:
    with pytest.raises(UnsupportedCapability):
        sheets.connector().people()


# -- the engine, end to end ---------------------------------------------------------------


def test_engine_sync_with_the_shipped_mapping(messy: SheetsHarness, tmp_path: Path) -> None:
    connector = messy.connector()
    store = Store(sqlite_copy(tmp_path), migrate=False)
    engine = Engine(store, {"sheets": connector}, _mappings())
    first = engine.sync()
    budget_lines = len(messy.production.budget.rows) - 1
    # The repeated number has no record: neither of its rows wins, and nothing was agreed
    # before; both rows are reported where they are.
    assert not first.errors and first.created == len(messy.expected_ids()) - 1 + budget_lines
    notes = messy.production.notes
    rows = notes["duplicate_invoice_rows"].split(",")
    with store.transaction() as tx:
        errors = tx.source_errors.unresolved()
    assert sorted((e["location"], e["external_id"]) for e in errors) == [
        (f"Invoices row {row}", notes["duplicate_invoice"]) for row in rows
    ]
    assert engine.sync().changed_fields == 0  # a snapshot of the same sheet changes nothing

    target = notes["amount_plain"]
    messy.edit_as_person(target, "Status", "Disputed")
    messy.rows_as_person(action="sort", column="B", descending=True)  # and rows move
    after = engine.sync()
    assert after.changed_fields == 1 and not after.errors
    with store.transaction() as tx:
        link = tx.links.find([("sheets", "Invoices", target)])[("sheets", "Invoices", target)]
        assert tx.records.load([link.record_id])[link.record_id].value("status") == "disputed"
    store.close()


LEDGER_MAPPING = """
connector = "ledger"

[entities.invoice]
kind = "invoice"
key = "id"
updated_at = "updated_at"

[[entities.invoice.links]]
path = "id"
connector = "sheets"
entity = "Invoices"

[entities.invoice.fields.status]
path = "status"
direction = "pull"
policy = "owner_wins"
owner = true
"""

WRITE_BACK_STATUS = """[entities.Invoices.fields.status]
path = "Sync Status"
direction = "push"
policy = "owner_wins"
values = "invoice_status"
"""


def test_engine_writes_back_and_the_echo_changes_nothing(
    sheets: SheetsHarness, tmp_path: Path
) -> None:
    """The accounting ledger owns payment status; syncd writes it into "Sync Status"."""
    text = _mapping_text()
    start = text.index("[entities.Invoices.fields.status]")
    end = text.index("[entities.Invoices.fields.issued]")
    text = text[:start] + WRITE_BACK_STATUS + "\n" + text[end:]
    # This variant writes the ledger's status into "Sync Status" itself: drop the shipped
    # sync-status write-back, which would write the same column.
    start = text.index("[entities.Invoices.fields.sync_status]")
    text = text[:start] + text[text.index("[entities.Budget]") :]
    mappings = _mappings(MappingSource("ledger.toml", LEDGER_MAPPING), text=text)
    ledger = MemoryConnector(name="ledger", config=MemoryConfig())
    target, other = sorted(sheets.expected_ids())[:2]
    ledger.put("invoice", {"id": target, "status": "paid"})
    connector = sheets.connector()
    store = Store(sqlite_copy(tmp_path), migrate=False)
    engine = Engine(store, {"sheets": connector, "ledger": ledger}, mappings)

    before = sheets.calls()
    first = engine.sync()
    assert not first.errors and first.pushed == 1
    assert sheets.cell(target, "Sync Status") == "Paid"  # the value table's sheet spelling
    assert _spent(sheets, before)[VALUES_UPDATE] == 1

    echo = engine.sync()  # syncd's own write comes back with the next snapshot
    assert (echo.changed_fields, echo.pushed, echo.conflicts_opened) == (0, 0, 0)

    ledger.put("invoice", {"id": other, "status": "disputed"})
    ledger.put("invoice", {"id": target, "status": "void"})
    later = engine.sync()
    assert later.pushed == 2
    assert sheets.cell(target, "Sync Status") == "Void"
    assert sheets.cell(other, "Sync Status") == "Disputed"
    assert engine.sync().changed_fields == 0
    store.close()


def test_built_by_the_registry_from_a_table_like_the_sandbox_writes(
    sheets: SheetsHarness, tmp_path: Path
) -> None:
    key_file = sheets.sandbox.write_service_account_file(
        tmp_path / "sandbox-service-account.json", token_uri=f"{sheets.url}/token"
    )
    table = {
        "kind": "sheets",
        "spreadsheet_id": sheets.spreadsheet_id,
        "service_account_file": str(key_file),
        "api_base_url": sheets.url,
        "webhook_secret": WEBHOOK_SECRET,
    }
    connector = build_connector("sheets", table)
    assert isinstance(connector, SheetsConnector)
    assert {r.external_id for r in _pull(connector)} == sheets.expected_ids()
    connector.close()


def test_push_writes_neither_row_of_a_repeated_key(messy: SheetsHarness) -> None:
    connector = messy.connector()
    _pull(connector)
    number = messy.production.notes["duplicate_invoice"]
    other = next(k for k in sorted(messy.expected_ids()) if k != number)
    result = connector.push(
        "Invoices",
        [
            PushItem(external_id=number, payload={"Sync Status": "ok"}),
            PushItem(external_id=other, payload={"Sync Status": "ok"}),
        ],
    )
    assert result.written == [other]
    assert result.rejected[number] == f"more than one row of Invoices has Invoice # {number}"
    values = messy.values()
    column = values[0].index("Sync Status") if "Sync Status" in values[0] else None
    cells = [
        row[column] if column is not None and column < len(row) else ""
        for row in values[1:]
        if row and row[0].strip() == number
    ]
    assert cells == ["", ""]  # neither row got the write (no winner by position)
