"""Sheets emulator fidelity (issue #19 item 3): formula references that follow inserted and
deleted rows and columns, protected ranges, and the Drive v3 calls gspread makes.

The HTTP tests run the real gspread 6.2.1 against the sandbox over loopback; expected values
come from the seeded rows (or an identity model of the grid), never from the emulator's own
arithmetic. Vendor shapes are cited in docs/sandbox-sheets.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Any

import google.oauth2.credentials
import gspread
import httpx
import pytest
from gspread.utils import ValueRenderOption
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.sheets.local_http import local_http_client
from syncd_sandbox.production import SheetTab
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.sheets import QuotaLimits, SheetsSandbox
from syncd_sandbox.sheets.a1 import column_letters
from syncd_sandbox.sheets.auth import SCOPE_PREFIX, Principal
from syncd_sandbox.sheets.batch import apply_batch
from syncd_sandbox.sheets.errors import SheetsApiError
from syncd_sandbox.sheets.formula_shift import Shift, shift_formula
from syncd_sandbox.sheets.formula_tokens import tokenize
from syncd_sandbox.sheets.values import ReadOptions, apply_write, plan_write, read

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("loopback_only")]

SHEET_ID = "1SyncdSandboxFidelityTracker00000000000000"
PRODUCER = "mia.krystof@studio.example"
BUDGET = (
    ("Department", "Planned", "Spent", "Remaining"),
    ("Modeling", "10000", "2500", "=B2-C2"),
    ("Rigging", "8000", "1000", "=B3-C3"),
    ("Total", "=SUM(B2:B3)", "=SUM(C2:C3)", "=SUM(D2:D3)"),
)
SUMMARY = (
    ("What", "Value"),
    ("Modeling left", "=Budget!D2"),
    ("Planned", "=SUM(Budget!$B$2:$B$3)"),
    ("Label", '=IF(Budget!A3="B2","B2 text",Budget!A3)'),
    ("Rigging spent", "='Budget'!C3"),
)


@pytest.fixture
def sandbox(rsa_key):
    box = SheetsSandbox(private_key=rsa_key, quotas=QuotaLimits(enabled=False))
    box.add_spreadsheet(
        SHEET_ID,
        "Fidelity tracker",
        [SheetTab("Budget", BUDGET), SheetTab("Summary", SUMMARY)],
        owner=PRODUCER,
    )
    yield box
    box.close()


@pytest.fixture
def served(sandbox):
    server = ServedApp.start(sandbox.create_app())
    yield server
    server.stop()


@pytest.fixture
def gc(sandbox, served) -> gspread.Client:
    info = sandbox.service_account_info(f"{served.url}/token")
    return gspread.service_account_from_dict(info, http_client=local_http_client(served.url))


@pytest.fixture
def sheet(gc):
    return gc.open_by_key(SHEET_ID)


def formulas(ws: gspread.Worksheet) -> list[list[Any]]:
    return ws.get_values(value_render_option=ValueRenderOption.formula)


def unformatted(ws: gspread.Worksheet) -> list[list[Any]]:
    return ws.get_values(value_render_option=ValueRenderOption.unformatted)


def planned(*extra: float) -> float:
    """Planned total from the seeded rows plus any rows a test adds."""
    return sum(float(row[1]) for row in BUDGET[1:3]) + sum(extra)


# -- formula references follow rows and columns (real gspread over HTTP) -----------------------


def test_inserted_rows_shift_and_grow_references_on_every_tab(sheet):
    budget, summary = sheet.worksheet("Budget"), sheet.worksheet("Summary")
    budget.insert_rows([["Lighting", 5000, 500]], row=3)  # inside B2:B3, so the sums grow
    budget.insert_rows([["Overhead", 100, 0]], row=2)  # above the range: it moves down
    assert formulas(budget)[5] == ["Total", "=SUM(B3:B5)", "=SUM(C3:C5)", "=SUM(D3:D5)"]
    assert formulas(budget)[2][3] == "=B3-C3"  # Modeling's row moved, its formula with it
    assert [row[1] for row in formulas(summary)[1:]] == [
        "=Budget!D3",
        "=SUM(Budget!$B$3:$B$5)",  # absolute references shift too
        '=IF(Budget!A5="B2","B2 text",Budget!A5)',  # the string literal "B2" is left alone
        "='Budget'!C5",
    ]
    values = unformatted(summary)
    assert values[1][1] == 10000 - 2500
    assert values[2][1] == planned(5000)
    assert values[3][1] == "Rigging"
    assert values[4][1] == 1000
    assert unformatted(budget)[5][1] == planned(5000)  # Overhead sits above the range


def test_deleted_rows_leave_ref_errors_and_shrink_ranges(sheet):
    budget, summary = sheet.worksheet("Budget"), sheet.worksheet("Summary")
    budget.delete_rows(2)  # Modeling
    assert formulas(budget)[2] == ["Total", "=SUM(B2:B2)", "=SUM(C2:C2)", "=SUM(D2:D2)"]
    assert formulas(summary)[1][1] == "=#REF!"
    assert summary.acell("B2").value == "#REF!"
    assert formulas(summary)[2][1] == "=SUM(Budget!$B$2:$B$2)"
    assert unformatted(summary)[2][1] == float(BUDGET[2][1])
    budget.delete_rows(2)  # Rigging: every row of B2:B3 is gone now
    assert formulas(budget)[1][1] == "=SUM(#REF!)"
    assert budget.acell("B2").value == "#REF!"
    assert formulas(summary)[4][1] == "=#REF!"


def test_inserted_and_deleted_columns_shift_references(sheet):
    budget, summary = sheet.worksheet("Budget"), sheet.worksheet("Summary")
    budget.insert_cols([["Code", "MOD", "RIG", ""]], col=2)  # before Planned
    assert formulas(budget)[1][4] == "=C2-D2"
    assert formulas(summary)[2][1] == "=SUM(Budget!$C$2:$C$3)"
    assert unformatted(summary)[2][1] == planned()
    budget.delete_columns(3)  # Planned goes: references to it become #REF!
    assert formulas(budget)[1][3] == "=#REF!-C2"
    assert formulas(summary)[2][1] == "=SUM(#REF!)"
    assert formulas(summary)[4][1] == "='Budget'!C3"  # Spent moved back from D to C


def test_a_deleted_tab_leaves_ref_errors_where_it_was_used(sheet):
    sheet.del_worksheet(sheet.worksheet("Budget"))
    values = sheet.worksheet("Summary").get_values("B2:B3")
    assert values == [["#REF!"], ["#REF!"]]


def test_a_renamed_tab_keeps_the_references_to_it(sheet):
    before = unformatted(sheet.worksheet("Summary"))
    sheet.worksheet("Budget").update_title("Q1 Budget")
    assert [row[1] for row in formulas(sheet.worksheet("Summary"))[1:]] == [
        "='Q1 Budget'!D2",
        "=SUM('Q1 Budget'!$B$2:$B$3)",
        "=IF('Q1 Budget'!A3=\"B2\",\"B2 text\",'Q1 Budget'!A3)",
        "='Q1 Budget'!C3",
    ]
    assert unformatted(sheet.worksheet("Summary")) == before


def test_person_row_edits_shift_formulas_too(sandbox, sheet):
    sandbox.person_insert_rows(SHEET_ID, as_=PRODUCER, sheet="Budget", at=3, values=[["X", "1"]])
    assert formulas(sheet.worksheet("Summary"))[2][1] == "=SUM(Budget!$B$2:$B$4)"
    sandbox.person_delete_rows(SHEET_ID, as_=PRODUCER, sheet="Budget", at=2, count=1)
    assert formulas(sheet.worksheet("Summary"))[1][1] == "=#REF!"


def test_append_with_insert_rows_shifts_references_below(sheet):
    budget = sheet.worksheet("Budget")
    budget.update([["Notes"], ["=A5"]], "A6:A7", raw=False)  # a formula under the table
    budget.append_row(["Lighting", 5000, 500], insert_data_option="INSERT_ROWS", table_range="A1")
    assert formulas(budget)[6][0] == "Notes"
    assert formulas(budget)[7][0] == "=A6"


# -- the shifter's rules, by an identity model of the grid (no HTTP) ---------------------------


@dataclass
class GridModel:
    """Rows and columns as identities: what was where before the changes, computed by list
    surgery rather than index arithmetic. A range keeps the identities it spans and gains
    those inserted strictly inside it (after its first member, up to its last)."""

    rows: list[int]
    cols: list[int]
    fresh: count[int] = field(default_factory=lambda: count(1000))

    def axis(self, dimension: str) -> list[int]:
        return self.rows if dimension == "ROWS" else self.cols

    def insert(self, dimension: str, at: int, n: int, spans: list[tuple[set[int], set[int]]]):
        axis = self.axis(dimension)
        new = [next(self.fresh) for _ in range(n)]
        for row_ids, col_ids in spans:
            members = row_ids if dimension == "ROWS" else col_ids
            positions = [i for i, ident in enumerate(axis) if ident in members]
            if positions and positions[0] < at <= positions[-1]:
                members.update(new)
        axis[at:at] = new

    def delete(self, dimension: str, start: int, end: int) -> None:
        del self.axis(dimension)[start:end]


SIZE = 6
FILL = 2.0**40  # inserted cells get this, original cells distinct powers of two


def original_value(row: int, col: int) -> float:
    return 2.0 ** (row * SIZE + col)


@st.composite
def references(draw) -> tuple[str, tuple[int, int, int, int]]:
    r0, r1 = sorted(draw(st.lists(st.integers(0, SIZE - 1), min_size=2, max_size=2)))
    c0, c1 = sorted(draw(st.lists(st.integers(0, SIZE - 1), min_size=2, max_size=2)))
    single = draw(st.booleans())
    if single:
        r1, c1 = r0, c0
    dollar = "$" if draw(st.booleans()) else ""
    first = f"{dollar}{column_letters(c0)}{dollar}{r0 + 1}"
    text = first if single else f"{first}:{column_letters(c1)}{r1 + 1}"
    return text, (r0, r1, c0, c1)


operations = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete"]),
        st.sampled_from(["ROWS", "COLUMNS"]),
        st.integers(0, 10),
        st.integers(1, 3),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(refs=st.lists(references(), min_size=1, max_size=6), ops=operations)
def test_shifted_formulas_read_what_the_identity_model_predicts(rsa_key, refs, ops):
    box = SheetsSandbox(private_key=rsa_key, quotas=QuotaLimits(enabled=False))
    box.close()  # only its seeding is used: no webhook thread needed
    data = [[original_value(r, c) for c in range(SIZE)] for r in range(SIZE)]
    spreadsheet = box.add_spreadsheet(
        "1Model", "Model", [SheetTab("Data", ()), SheetTab("Calc", ())], frozen_header=False
    )
    data_sheet = spreadsheet.sheet_by_title("Data")
    assert data_sheet is not None
    apply_batch(
        spreadsheet,
        [{"updateSheetProperties": {
            "properties": {"sheetId": data_sheet.sheet_id,
                           "gridProperties": {"rowCount": SIZE + 2, "columnCount": SIZE + 2}},
            "fields": "gridProperties(rowCount,columnCount)"}}],
    )  # fmt: skip
    apply_write(plan_write(spreadsheet, "Data!A1", data, "ROWS"), "RAW")
    sums = [[f"=SUM(Data!{text})"] for text, _ in refs]
    apply_write(plan_write(spreadsheet, "Calc!A1", sums, "ROWS"), "USER_ENTERED")

    model = GridModel(list(range(SIZE + 2)), list(range(SIZE + 2)))
    spans = [(set(range(r0, r1 + 1)), set(range(c0, c1 + 1))) for _, (r0, r1, c0, c1) in refs]
    for kind, dimension, at, n in ops:
        size = len(model.axis(dimension))
        if kind == "insert":
            at = min(at, size)
            request = {"insertDimension": {"range": {
                "sheetId": data_sheet.sheet_id, "dimension": dimension,
                "startIndex": at, "endIndex": at + n}}}  # fmt: skip
            model.insert(dimension, at, n, spans)
        else:
            if at >= size or n >= size:
                continue
            end = min(at + n, size)
            if end - at >= size:
                continue
            request = {"deleteDimension": {"range": {
                "sheetId": data_sheet.sheet_id, "dimension": dimension,
                "startIndex": at, "endIndex": end}}}  # fmt: skip
            model.delete(dimension, at, end)
        apply_batch(spreadsheet, [request])

    # Fill every inserted cell inside the original area's reach, so growth shows in the sums.
    for p, row_id in enumerate(model.rows):
        for q, col_id in enumerate(model.cols):
            if row_id >= 1000 or col_id >= 1000:
                apply_write(
                    plan_write(spreadsheet, f"Data!{column_letters(q)}{p + 1}", [[FILL]], "ROWS"),
                    "RAW",
                )

    got = read(spreadsheet, f"Calc!A1:A{len(refs)}", ReadOptions(render="UNFORMATTED_VALUE"))
    got_values = [row[0] if row else "" for row in got.get("values", [])]
    for (text, _), (row_ids, col_ids), value in zip(refs, spans, got_values, strict=False):
        rows = [p for p, ident in enumerate(model.rows) if ident in row_ids]
        cols = [q for q, ident in enumerate(model.cols) if ident in col_ids]
        if not rows or not cols:
            assert value == "#REF!", text
            continue
        expected = 0.0
        for p in range(rows[0], rows[-1] + 1):
            for q in range(cols[0], cols[-1] + 1):
                r, c = model.rows[p], model.cols[q]
                if r >= 1000 or c >= 1000:
                    expected += FILL
                elif r < SIZE and c < SIZE:
                    expected += original_value(r, c)
        assert value == expected, (text, ops)


@pytest.mark.parametrize(
    ("formula", "shift", "expected"),
    [
        ('=CONCAT("A1", A1)', Shift("S", "ROWS", 0, 1, deleted=False), '=CONCAT("A1", A2)'),
        ("=SUM(A:A)+SUM(2:3)", Shift("S", "ROWS", 0, 1, deleted=False), "=SUM(A:A)+SUM(3:4)"),
        ("=SUM(A:B)", Shift("S", "COLUMNS", 1, 2, deleted=False), "=SUM(A:D)"),
        ("=SUM(A2:A)", Shift("S", "ROWS", 0, 1, deleted=False), "=SUM(A3:A)"),
        ("=sum( a1 , Other!A1 )", Shift("S", "ROWS", 0, 1, deleted=False), "=sum( A2 , Other!A1 )"),
        ("='It''s'!B2*2", Shift("It's", "ROWS", 1, 1, deleted=True), "=#REF!*2"),
        ("=SUM(B2:B9)", Shift("S", "ROWS", 1, 3, deleted=True), "=SUM(B2:B6)"),
        ("=SUM(B2:B9)", Shift("S", "ROWS", 8, 5, deleted=True), "=SUM(B2:B8)"),
        ("=LOG10(A1)", Shift("S", "COLUMNS", 0, 1, deleted=False), "=LOG10(B1)"),
        ("plain text A1", Shift("S", "ROWS", 0, 1, deleted=False), "plain text A1"),
    ],
)
def test_shifter_examples(formula, shift, expected):
    assert shift_formula(formula, "S", shift) == expected


# -- protected ranges --------------------------------------------------------------------------


def test_protected_range_refuses_a_non_editor_and_shows_no_editors(sandbox, sheet):
    budget = sheet.worksheet("Budget")
    budget.add_protected_range("A1:D1", editor_users_emails=[PRODUCER], description="header")
    with pytest.raises(gspread.exceptions.APIError) as refused:
        budget.update_acell("B1", "Budget")
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()["error"]["message"].startswith(
        "You are trying to edit a protected cell or object."
    )
    with pytest.raises(gspread.exceptions.APIError):
        budget.batch_clear(["A1:A2"])  # touches the header
    with pytest.raises(gspread.exceptions.APIError):
        budget.format("A1", {"textFormat": {"bold": True}})
    budget.update_acell("B5", "outside")  # the rest of the sheet is open
    assert sandbox.values(SHEET_ID, "Budget!A1:D1") == [list(BUDGET[0])]
    [protected] = sheet.list_protected_ranges(budget.id)
    assert protected["range"] == {
        "sheetId": budget.id,
        "startRowIndex": 0,
        "endRowIndex": 1,
        "startColumnIndex": 0,
        "endColumnIndex": 4,
    }
    assert protected["description"] == "header"
    assert "editors" not in protected and not protected.get("requestingUserCanEdit")
    with pytest.raises(gspread.exceptions.APIError) as not_yours:
        budget.delete_protected_range(protected["protectedRangeId"])
    assert not_yours.value.response.status_code == 403


def test_editors_and_warning_only_ranges_let_writes_through(sandbox, gc, sheet):
    budget = sheet.worksheet("Budget")
    email = gc.http_client.auth.service_account_email
    budget.add_protected_range("A2:D3", editor_users_emails=[email])
    budget.add_protected_range("A4:D4", warning_only=True)
    budget.update([["Modeling", 11000]], "A2:B2")
    budget.update_acell("A4", "Grand total")
    ranges = sheet.list_protected_ranges(budget.id)
    assert ranges[0]["requestingUserCanEdit"] is True
    assert ranges[0]["editors"]["users"] == [email, PRODUCER]  # the owner is always an editor
    assert ranges[1]["warningOnly"] is True and "editors" not in ranges[1]
    budget.delete_protected_range(ranges[0]["protectedRangeId"])
    assert [r["protectedRangeId"] for r in sheet.list_protected_ranges(budget.id)] == [
        ranges[1]["protectedRangeId"]
    ]
    assert sandbox.values(SHEET_ID, "Budget!A2:B2") == [["Modeling", "11000"]]


def test_warning_only_ranges_take_no_editors(sheet):
    body = {"requests": [{"addProtectedRange": {"protectedRange": {
        "range": {"sheetId": sheet.worksheet("Budget").id}, "warningOnly": True,
        "editors": {"users": [PRODUCER]}}}}]}  # fmt: skip
    with pytest.raises(gspread.exceptions.APIError) as refused:
        sheet.batch_update(body)
    assert "ProtectedRange is warningOnly. Editors cannot be set on it." in str(refused.value)


def test_protected_ranges_move_with_inserted_rows(sandbox, sheet):
    budget = sheet.worksheet("Budget")
    budget.add_protected_range("A3:D3", editor_users_emails=[PRODUCER])
    budget.insert_rows([["New"]], row=2)
    [protected] = sheet.list_protected_ranges(budget.id)
    assert (protected["range"]["startRowIndex"], protected["range"]["endRowIndex"]) == (3, 4)
    budget.update_acell("A3", "free now")  # the row that used to be protected
    with pytest.raises(gspread.exceptions.APIError):
        budget.update_acell("A4", "still protected")
    with pytest.raises(gspread.exceptions.APIError):
        budget.delete_rows(3, 4)  # a non-editor cannot delete protected rows either
    # The owner can: the protected row and the one above it go, and the protection with them.
    sandbox.person_delete_rows(SHEET_ID, as_=PRODUCER, sheet="Budget", at=3, count=2)
    assert sheet.list_protected_ranges(budget.id) == []


# -- Drive v3: open by title, openall, create, copy, share ------------------------------------


def test_open_by_title_and_openall_see_only_shared_spreadsheets(sandbox, gc):
    sandbox.add_spreadsheet("1NotShared", "Secret budget", shared=False)
    sandbox.add_spreadsheet("1Second", "Second tracker")
    assert gc.open("Fidelity tracker").id == SHEET_ID
    with pytest.raises(gspread.SpreadsheetNotFound):
        gc.open("Secret budget")
    expected = {
        s.spreadsheet_id
        for s in sandbox.spreadsheets.values()
        if sandbox.service_account.email in s.shared_with
    }
    assert {s.id for s in gc.openall()} == expected == {SHEET_ID, "1Second"}
    assert [s.id for s in gc.openall("Second tracker")] == ["1Second"]


def test_create_share_list_and_remove_permissions(sandbox, gc):
    created = gc.create("Rollups")
    email = gc.http_client.auth.service_account_email
    assert created.title == "Rollups" and created.sheet1.title == "Sheet1"
    assert sandbox.spreadsheets[created.id].owner == email
    response = created.share(PRODUCER, perm_type="user", role="writer", notify=False)
    assert set(response.json()) == {"kind", "id", "type", "role"}
    assert response.json()["kind"] == "drive#permission"
    listed = created.list_permissions()
    assert [(p["emailAddress"], p["role"], p["type"]) for p in listed] == [
        (email, "owner", "user"),
        (PRODUCER, "writer", "user"),
    ]
    assert PRODUCER in sandbox.spreadsheets[created.id].shared_with
    assert created.remove_permissions(PRODUCER) == [listed[1]["id"]]
    assert PRODUCER not in sandbox.spreadsheets[created.id].shared_with
    created.share(None, perm_type="anyone", role="reader")
    assert [p["type"] for p in created.list_permissions()] == ["user", "anyone"]


def test_copy_keeps_tabs_values_and_comments_and_times_are_drive_shaped(sandbox, gc, sheet):
    sandbox.spreadsheets[SHEET_ID].comments.append(
        {"kind": "drive#comment", "id": "AAAA1", "content": "check the totals"}
    )
    copied = gc.copy(SHEET_ID, title="Fidelity copy")
    assert [c["content"] for c in sandbox.spreadsheets[copied.id].comments] == ["check the totals"]
    assert copied.title == "Fidelity copy"
    assert [ws.title for ws in copied.worksheets()] == ["Budget", "Summary"]
    assert copied.worksheet("Summary").get_values() == sheet.worksheet("Summary").get_values()
    assert copied.creationTime.endswith("Z") and len(copied.creationTime) == 24
    before = copied.get_lastUpdateTime()
    assert before == sandbox.spreadsheets[copied.id].modified_time
    gc.del_spreadsheet(copied.id)
    assert copied.id not in sandbox.spreadsheets


def test_drive_paging_and_default_fields_over_raw_http(sandbox, gc, served):
    for i in range(5):
        sandbox.add_spreadsheet(f"1Extra{i}", f"Extra {i}")
    gc.open_by_key(SHEET_ID)
    headers = {"Authorization": f"Bearer {gc.http_client.auth.token}"}
    seen: list[str] = []
    token = None
    with httpx.Client(base_url=served.url, headers=headers) as http:
        while True:
            params: dict[str, str | int] = {
                "q": "mimeType='application/vnd.google-apps.spreadsheet'",
                "pageSize": 2,
            }
            if token:
                params["pageToken"] = token
            body = http.get("/drive/v3/files", params=params).json()
            assert body["kind"] == "drive#fileList" and body["incompleteSearch"] is False
            for item in body["files"]:
                assert set(item) == {"kind", "id", "name", "mimeType"}
                seen.append(item["id"])
            token = body.get("nextPageToken")
            if token is None:
                break
        assert sorted(seen) == sorted(sandbox.spreadsheets)
        bad = http.get("/drive/v3/files", params={"q": "starred = true"})
        assert bad.status_code == 400
        assert bad.json()["error"]["errors"][0]["location"] == "q"
        missing = http.get("/drive/v3/files/1Nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "File not found: 1Nope."


def test_drive_needs_a_drive_scope(sandbox, served):
    token = sandbox.auth.issue(
        Principal(sandbox.service_account.email, frozenset({SCOPE_PREFIX + "spreadsheets"}))
    )
    client = gspread.Client(
        google.oauth2.credentials.Credentials(token), http_client=local_http_client(served.url)
    )
    client.open_by_key(SHEET_ID)  # the Sheets scope is enough for Sheets
    with pytest.raises(gspread.exceptions.APIError) as refused:
        client.openall()
    error = refused.value.response.json()["error"]
    assert refused.value.response.status_code == 403
    assert error["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"


def test_a_reader_can_read_but_not_write(sandbox, gc, sheet):
    email = gc.http_client.auth.service_account_email
    sandbox.spreadsheets[SHEET_ID].roles[email] = "reader"
    assert sheet.worksheet("Budget").acell("A2").value == "Modeling"
    with pytest.raises(gspread.exceptions.APIError) as refused:
        sheet.worksheet("Budget").update_acell("A2", "Layout")
    assert refused.value.response.status_code == 403
    with pytest.raises(gspread.exceptions.APIError):
        sheet.share(PRODUCER, perm_type="user", role="writer")


def test_people_are_held_to_protection_too(sandbox, sheet):
    sheet.worksheet("Budget").add_protected_range("A2:D2", editor_users_emails=[PRODUCER])
    with pytest.raises(gspread.exceptions.APIError):
        sheet.worksheet("Budget").update_acell("A2", "x")  # sanity: the range is in force
    other = "sam.ortiz@studio.example"
    with pytest.raises(SheetsApiError) as refused:
        sandbox.person_edit(SHEET_ID, as_=other, range_="Budget!B2", values=[["1"]])
    assert refused.value.code == 403
    with pytest.raises(SheetsApiError):
        sandbox.person_delete_rows(SHEET_ID, as_=other, sheet="Budget", at=2)
    sandbox.person_edit(SHEET_ID, as_=PRODUCER, range_="Budget!B2", values=[["12000"]])
    assert sandbox.values(SHEET_ID, "Budget!B2") == [["12000"]]


def test_one_protected_write_in_a_batch_writes_nothing(sandbox, sheet):
    budget = sheet.worksheet("Budget")
    budget.add_protected_range("A4:D4", editor_users_emails=[PRODUCER])
    with pytest.raises(gspread.exceptions.APIError):
        budget.batch_update(
            [{"range": "A2", "values": [["first"]]}, {"range": "A4", "values": [["second"]]}]
        )
    cells = {"userEnteredValue": {"stringValue": "z"}}
    requests = [
        {"updateCells": {"rows": [{"values": [cells]}], "fields": "userEnteredValue",
                         "start": {"sheetId": budget.id, "rowIndex": 1, "columnIndex": 0}}},
        {"updateCells": {"rows": [{"values": [cells]}], "fields": "userEnteredValue",
                         "start": {"sheetId": budget.id, "rowIndex": 3, "columnIndex": 0}}},
    ]  # fmt: skip
    with pytest.raises(gspread.exceptions.APIError):
        sheet.batch_update({"requests": requests})
    assert sandbox.values(SHEET_ID, "Budget!A1:A4") == [[row[0]] for row in BUDGET]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_tokens_give_the_formula_back_exactly(text):
    assert "".join(token.text for token in tokenize(text)) == text


@settings(max_examples=200, deadline=None)
@given(
    literal=st.text(alphabet=st.sampled_from("AB12:$!\"' xyz"), max_size=20),
    at=st.integers(0, 5),
)
def test_string_literals_never_shift(literal, at):
    quoted = '"' + literal.replace('"', '""') + '"'
    shifted = shift_formula(f"={quoted}&A3", "S", Shift("S", "ROWS", at, 2, deleted=False))
    assert shifted == f"={quoted}&A{5 if at <= 2 else 3}"


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**16),
    rate=st.floats(0.0, 0.6),
    cap=st.integers(1, 4),
    faults=st.lists(st.sampled_from(["500", "503", "drop"]), min_size=1, max_size=3),
)
def test_drive_listing_survives_faults_without_losing_or_repeating_files(
    sandbox, served, gc, seed, rate, cap, faults
):
    for i in range(7):
        sandbox.add_spreadsheet(f"1Many{i}", f"Many {i % 3}")  # repeated names on purpose
    sandbox.add_spreadsheet("1Hidden", "Many 0", shared=False)
    gc.open_by_key(SHEET_ID)
    headers = {"Authorization": f"Bearer {gc.http_client.auth.token}"}
    sandbox.knobs.seed, sandbox.knobs.faults = seed, faults
    sandbox.knobs.page_size_cap, sandbox.knobs.fault_rate = cap, rate
    seen: list[str] = []
    token: str | None = None
    with httpx.Client(base_url=served.url, headers=headers) as http:
        for _ in range(500):  # a retry loop: each failed call is simply sent again
            params = {"q": "name contains 'Many'", "pageSize": "1000"}
            if token:
                params["pageToken"] = token
            try:
                response = http.get("/drive/v3/files", params=params)
            except httpx.TransportError:
                continue
            if response.status_code >= 500:
                assert response.json()["error"]["code"] == response.status_code
                continue
            body = response.json()
            assert len(body["files"]) <= cap
            seen.extend(f["id"] for f in body["files"])
            token = body.get("nextPageToken")
            if token is None:
                break
    sandbox.knobs.fault_rate = 0.0
    expected = sorted(
        s.spreadsheet_id
        for s in sandbox.spreadsheets.values()
        if "Many" in s.title and sandbox.service_account.email in s.shared_with
    )
    assert sorted(seen) == expected and len(seen) == len(set(seen))
