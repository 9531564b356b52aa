"""Unit tests of the Sheets sandbox's pure parts: A1, typed input, formats, formulas, grid."""

from __future__ import annotations

import pytest

from syncd_sandbox.sheets.a1 import A1Error, Bounds, format_range, parse_a1, quote_title
from syncd_sandbox.sheets.batch import apply_batch
from syncd_sandbox.sheets.errors import SheetsApiError
from syncd_sandbox.sheets.fieldmask import apply_mask, parse_mask, select
from syncd_sandbox.sheets.number_format import format_date, format_number, general_number
from syncd_sandbox.sheets.render import Renderer
from syncd_sandbox.sheets.state import Spreadsheet
from syncd_sandbox.sheets.user_entered import parse_user_entered
from syncd_sandbox.sheets.values import ReadOptions, append, apply_write, plan_write, read


@pytest.mark.parametrize(
    ("text", "title", "bounds"),
    [
        ("'Quoted ''Title'''!A1:B2", "Quoted 'Title'", Bounds(0, 2, 0, 2)),
        ("Invoices!C5", "Invoices", Bounds(4, 5, 2, 3)),
        ("Invoices!A:C", "Invoices", Bounds(0, None, 0, 3)),
        ("Invoices!2:5", "Invoices", Bounds(1, 5, 0, None)),
        ("Invoices!A2:C", "Invoices", Bounds(1, None, 0, 3)),
        ("Invoices!b2:a1", "Invoices", Bounds(0, 2, 0, 2)),  # reversed and lower case
        ("Class Data!A2:E", "Class Data", Bounds(1, None, 0, 5)),  # Google's own quickstart
        ("'Q1 / Budget'!$A$1:$B$2", "Q1 / Budget", Bounds(0, 2, 0, 2)),
    ],
)
def test_a1_parser_reads_the_forms_clients_send(text, title, bounds):
    parsed = parse_a1(text)
    assert (parsed.title, parsed.cells) == (title, bounds)


@pytest.mark.parametrize(
    "text", ["", "Items & Stock!A1", "'Unclosed!A1", "Sheet1!", "Sheet1!A", "Sheet1!1A", "'T'A1"]
)
def test_a1_parser_refuses_what_google_refuses(text):
    with pytest.raises(A1Error):
        parse_a1(text)


def test_bare_text_is_resolved_as_title_first_then_as_cells():
    spreadsheet = Spreadsheet("s", "S")
    spreadsheet.add_sheet({"title": "Invoices"})
    spreadsheet.add_sheet({"title": "A1"})
    assert spreadsheet.resolve("invoices")[0].title == "Invoices"  # case-insensitive title
    sheet, bounds = spreadsheet.resolve("B2:C3")
    assert (sheet.title, bounds) == ("Invoices", Bounds(1, 3, 1, 3))
    assert spreadsheet.resolve("'A1'")[0].title == "A1"


@pytest.mark.parametrize(
    ("title", "quoted"),
    [
        ("Sheet1", "Sheet1"),
        ("Q1 Budget", "'Q1 Budget'"),
        ("\u041b\u0438\u0441\u04421", "'\u041b\u0438\u0441\u04421'"),  # Cyrillic "Sheet1"
        ("It's", "'It''s'"),
        ("A1", "'A1'"),  # would read as a cell
        ("2024", "'2024'"),
    ],
)
def test_returned_ranges_quote_titles_like_google(title, quoted):
    assert quote_title(title) == quoted
    assert format_range(title, 0, 1, 0, 1) == f"{quoted}!A1"
    assert format_range(title, 0, 1000, 0, 26) == f"{quoted}!A1:Z1000"


@pytest.mark.parametrize(
    ("typed", "kind", "value", "number_type", "shown"),
    [
        ("$1,200.50", "number", 1200.5, "CURRENCY", "$1,200.50"),
        ("($3.50)", "number", -3.5, "CURRENCY", "-$3.50"),
        ("1.200,50 €", "string", "1.200,50 €", None, None),  # en_US: stays text
        ("31/01/2025", "string", "31/01/2025", None, None),  # no 31st month
        ("15%", "number", 0.15, "PERCENT", "15%"),
        ("12.5%", "number", 0.125, "PERCENT", "12.50%"),
        ("1,200", "number", 1200.0, "NUMBER", "1,200"),
        ("2025-01-31", "number", 45688.0, "DATE", "2025-01-31"),
        ("1/31/2025", "number", 45688.0, "DATE", "1/31/2025"),
        ("Jan 31, 2025", "number", 45688.0, "DATE", "Jan 31, 2025"),
        ("2025-01-31 14:05", "number", 45688 + (14 * 60 + 5) / 1440, "DATE_TIME", None),
        ("2:05 PM", "number", (14 * 60 + 5) / 1440, "TIME", "2:05 PM"),
        ("true", "bool", True, None, None),
        ("=SUM(A1:A2)", "formula", "=SUM(A1:A2)", None, None),
        ("'0042", "string", "0042", None, None),
        (" 42 ", "number", 42.0, None, "42"),
    ],
)
def test_user_entered_parsing_matches_an_en_us_sheet(typed, kind, value, number_type, shown):
    entered, number_format = parse_user_entered(typed)
    assert entered is not None
    assert entered.kind == kind
    assert entered.value == pytest.approx(value) if kind == "number" else entered.value == value
    assert (number_format or {}).get("type") == number_type
    if shown is not None:
        assert format_number(float(entered.value), number_format) == shown


def test_number_and_date_patterns_render_like_sheets():
    assert general_number(0.1 + 0.2) == "0.3"
    assert general_number(1 / 3) == "0.3333333333"
    assert format_number(1234.5, {"type": "NUMBER", "pattern": "#,##0.00"}) == "1,234.50"
    assert format_number(0.153, {"type": "PERCENT", "pattern": "0.0%"}) == "15.3%"
    assert format_number(45688.5, {"type": "DATE_TIME", "pattern": "M/d/yyyy h:mm:ss"}) == (
        "1/31/2025 12:00:00"
    )
    assert format_date(45688, "dddd, mmmm d") == "Friday, January 31"


def _sheet_with(rows):
    """One sheet "T" holding `rows` as typed (USER_ENTERED)."""
    spreadsheet = Spreadsheet("s", "S")
    spreadsheet.add_sheet({"title": "T"})
    apply_write(plan_write(spreadsheet, "T!A1", [list(r) for r in rows], None), "USER_ENTERED")
    return spreadsheet


def test_formulas_compute_the_subset_syncd_writes():
    spreadsheet = _sheet_with(
        (
            ("Dept", "Planned", "Spent", "Left", "Note"),
            ("Model", "$1,000", "250", "=B2-C2", '=IF(D2>500,"ok","tight")'),
            ("Rig", "800", "900", "=B3-C3", '=A3&" over by "&ABS(D3)'),
            ("Total", "=SUM(B2:B3)", '=SUMIF(A2:A3,"Rig",C2:C3)', "=D2/0", "=NOPE(1)"),
            ("Count", '=COUNTIF(C2:C3,">300")', "=ROUND(AVERAGE(B2:B3)/3,2)", "=E5", "=D5"),
        )
    )
    values = read(spreadsheet, "T!A2:E5", ReadOptions())["values"]
    assert values[0][3:] == ["750", "ok"]
    assert values[1][3:] == ["-100", "Rig over by 100"]
    assert values[2][1:] == ["1800", "900", "#DIV/0!", "#NAME?"]
    assert values[3][1:] == ["1", "300", "#REF!", "#REF!"]  # circular reference
    unformatted = read(spreadsheet, "T!B4", ReadOptions(render="UNFORMATTED_VALUE"))
    assert unformatted["values"] == [[1800]]
    assert read(spreadsheet, "T!B4", ReadOptions(render="FORMULA"))["values"] == [["=SUM(B2:B3)"]]


def test_field_masks_select_and_update():
    mask = parse_mask("sheets(properties(title,sheetId)),spreadsheetId")
    body = {
        "spreadsheetId": "x",
        "sheets": [{"properties": {"title": "T", "sheetId": 0, "index": 0}}],
    }
    assert select(body, mask) == {
        "spreadsheetId": "x",
        "sheets": [{"properties": {"title": "T", "sheetId": 0}}],
    }
    fmt = {"userEnteredFormat": {"backgroundColor": {"red": 1}, "textFormat": {"italic": True}}}
    updated = apply_mask(
        fmt,
        {"userEnteredFormat": {"textFormat": {"bold": True}}},
        parse_mask("userEnteredFormat.textFormat"),
    )
    assert updated == {
        "userEnteredFormat": {"backgroundColor": {"red": 1}, "textFormat": {"bold": True}}
    }
    assert fmt["userEnteredFormat"]["textFormat"] == {"italic": True}  # copy, not in place


def test_batch_is_all_or_nothing():
    spreadsheet = _sheet_with((("a",),))
    with pytest.raises(SheetsApiError) as caught:
        apply_batch(
            spreadsheet,
            [
                {
                    "updateSheetProperties": {
                        "properties": {"sheetId": 0, "title": "Renamed"},
                        "fields": "title",
                    }
                },
                {"addSheet": {"properties": {"title": "New"}}},
                {"deleteSheet": {"sheetId": 424242}},
            ],
        )
    assert caught.value.code == 400
    assert caught.value.message == "Invalid requests[2].deleteSheet: No sheet with id: 424242"
    assert [s.title for s in spreadsheet.sheets] == ["T"]


def _rows(start, end):
    return {"sheetId": 0, "dimension": "ROWS", "startIndex": start, "endIndex": end}


def _grid(r0, r1, c0, c1):
    return {
        "sheetId": 0,
        "startRowIndex": r0,
        "endRowIndex": r1,
        "startColumnIndex": c0,
        "endColumnIndex": c1,
    }


def test_dimension_changes_move_cells_and_merges_keep_the_anchor():
    spreadsheet = _sheet_with((("r1",), ("r2",), ("r3",)))
    apply_batch(
        spreadsheet,
        [
            {"insertDimension": {"range": _rows(1, 3)}},
            {"deleteDimension": {"range": _rows(0, 1)}},
            {"mergeCells": {"range": _grid(2, 4, 0, 1), "mergeType": "MERGE_ALL"}},
        ],
    )
    sheet = spreadsheet.sheets[0]
    assert sheet.row_count == 1001
    assert read(spreadsheet, "T!A1:A5", ReadOptions())["values"] == [[], [], ["r2"]]
    assert len(sheet.merges) == 1


def test_sort_orders_numbers_then_text_with_blanks_last():
    spreadsheet = _sheet_with((("k",), ("b",), ("10",), ("",), ("2",), ("a",)))
    apply_batch(
        spreadsheet,
        [{"sortRange": {"range": _grid(1, 6, 0, 1), "sortSpecs": [{"dimensionIndex": 0}]}}],
    )
    assert read(spreadsheet, "T!A1:A6", ReadOptions())["values"] == [
        ["k"],
        ["2"],
        ["10"],
        ["a"],
        ["b"],
    ]


def test_append_finds_the_first_table_and_writes_after_it():
    spreadsheet = _sheet_with((("h1", "h2"), ("a", "1"), ("", ""), ("", ""), ("footer",)))
    _, result = append(spreadsheet, "T", [["b", "2"]], None, "USER_ENTERED", "OVERWRITE")
    assert result["tableRange"] == "T!A1:B2"
    assert result["updates"]["updatedRange"] == "T!A3:B3"
    _, result = append(spreadsheet, "T!A1", [["c"]], None, "RAW", "INSERT_ROWS")
    assert result["updates"]["updatedRange"] == "T!A4"
    assert read(spreadsheet, "T!A6", ReadOptions())["values"] == [["footer"]]  # moved down one


def test_null_skips_a_cell_and_empty_string_clears_it():
    spreadsheet = _sheet_with((("keep", "clear", "x"),))
    apply_write(plan_write(spreadsheet, "T!A1:C1", [[None, "", "y"]], None), "RAW")
    assert read(spreadsheet, "T", ReadOptions())["values"] == [["keep", "", "y"]]


def test_seeded_tab_renders_back_what_the_person_typed():
    spreadsheet = _sheet_with((("Amount",), ("$1,200.50",), ("1.200,50 €",)))
    renderer = Renderer(spreadsheet)
    sheet = spreadsheet.sheets[0]
    assert renderer.cell_data(sheet, 1, 0)["effectiveValue"] == {"numberValue": 1200.5}
    assert (
        renderer.cell_data(sheet, 1, 0)["userEnteredFormat"]["numberFormat"]["type"] == "CURRENCY"
    )
    assert renderer.cell_data(sheet, 2, 0)["effectiveValue"] == {"stringValue": "1.200,50 €"}
