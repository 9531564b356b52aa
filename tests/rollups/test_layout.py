"""The sheet layout: one request list that rewrites syncd's tabs and nothing else.

Requests are applied with the Sheets sandbox's own batchUpdate implementation, in process,
so a request Google would refuse fails here too.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from syncd.rollups.compute import compute_rollups
from syncd.rollups.layout import LayoutError, build_requests, place, tab_title
from syncd.rollups.model import Column, Kind, Link, RollupSet, RollupTab, RollupTable
from syncd.rollups.sheet_format import money_pattern, serial
from syncd_sandbox.sheets.batch import apply_batch
from syncd_sandbox.sheets.metadata import render_spreadsheet
from syncd_sandbox.sheets.state import Spreadsheet
from syncd_sandbox.sheets.values import apply_write, plan_write
from tests.rollups.build import NOW, data, days, invoice, line, settings, task

PREFIX = "syncd · "


def spreadsheet(time_zone: str = "Etc/GMT") -> Spreadsheet:
    sheet = Spreadsheet("1Test", "Producer sheet", time_zone=time_zone)
    for title in ("Producer notes", "syncd · Old tab"):
        sheet.add_sheet({"title": title})
        write = plan_write(sheet, f"'{title}'!A1", [["keep me", "=1+1"]], "ROWS")
        apply_write(write, "USER_ENTERED")
    return sheet


def publish(sheet: Spreadsheet, rollups: RollupSet, **kw: Any) -> list[dict[str, Any]]:
    requests = build_requests(rollups, render_spreadsheet(sheet), prefix=PREFIX, **kw)
    apply_batch(sheet, requests)
    return requests


def sheet_ids(value: Any) -> set[int]:
    """Every sheetId a request names."""
    found: set[int] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "sheetId" and isinstance(inner, int):
                found.add(inner)
            else:
                found |= sheet_ids(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= sheet_ids(inner)
    return found


def rollups_of(n_tasks: int = 2) -> RollupSet:
    tasks = tuple(
        task(
            i,
            milestone="Beta",
            status="todo",
            estimate_hours=i + 1,
            due_date=days(-i),
            assignee=f"p{i}@studio.io",
        )
        for i in range(n_tasks)
    )
    input_data = data(
        tasks=tasks,
        budget_lines=(line("Art", amount=10, currency="USD"),),
        invoices=(invoice(1, amount=20, currency="EUR", status="paid", budget_line="Art"),),
    )
    return compute_rollups(input_data, settings(milestones={"Beta": days(9)}, rates={"EUR": 2}))


def test_only_owned_tabs_are_named_and_producer_tabs_stay_as_they_were():
    sheet = spreadsheet()
    before = {s.title: (s.sheet_id, dict(s.rows)) for s in sheet.sheets}
    requests = publish(sheet, rollups_of())
    owned = {s.sheet_id for s in sheet.sheets if s.title not in before}
    assert sheet_ids(requests) <= owned
    kinds = Counter(next(iter(r)) for r in requests)
    assert kinds["updateCells"] == kinds["addSheet"] == 6  # one write of cells per tab
    assert not kinds.keys() & {"deleteSheet", "deleteDimension", "updateSpreadsheetProperties"}
    for title in ("Producer notes", "syncd · Old tab"):
        sheet_id, rows = before[title]
        current = sheet.sheet_by_title(title)
        assert current is not None and current.sheet_id == sheet_id and current.rows == rows
    titles = [s.title for s in sheet.sheets]
    assert titles == [
        "Producer notes", "syncd · Old tab", "syncd · Summary", "syncd · Milestones",
        "syncd · Load", "syncd · Pipeline", "syncd · Budget", "syncd · Sync health",
    ]  # fmt: skip


def test_rewriting_replaces_charts_and_rules_instead_of_piling_them_up():
    sheet = spreadsheet()
    publish(sheet, rollups_of())
    first = {s.title: (len(s.charts), len(s.conditional_formats)) for s in sheet.sheets}
    requests = publish(sheet, rollups_of())
    second = {s.title: (len(s.charts), len(s.conditional_formats)) for s in sheet.sheets}
    assert first == second
    assert first["syncd · Milestones"][0] == 1 and first["syncd · Budget"][0] == 1
    assert first["syncd · Pipeline"][0] == 1
    assert not any("addSheet" in r for r in requests)  # the tabs exist now


def test_shorter_content_leaves_no_leftovers():
    sheet = spreadsheet()
    publish(sheet, rollups_of(30))
    load = sheet.sheet_by_title("syncd · Load")
    assert load is not None
    long_rows = load.row_count
    publish(sheet, rollups_of(1))
    load = sheet.sheet_by_title("syncd · Load")
    assert load is not None and load.row_count < long_rows
    assert max(load.rows) < load.row_count


def test_cells_are_typed_and_formatted():
    sheet = spreadsheet()
    rollups = rollups_of()
    publish(sheet, rollups)
    meta = render_spreadsheet(sheet, include_grid_data=True)
    tabs = {s["properties"]["title"]: s for s in meta["sheets"]}
    budget = tabs["syncd · Budget"]
    assert budget["properties"]["gridProperties"]["frozenRowCount"] == 2
    rows = budget["data"][0]["rowData"]
    header = rows[1]["values"]
    assert header[3]["userEnteredValue"] == {"stringValue": "Budget"}
    assert header[3]["note"] == "The budget, in USD."
    assert header[3]["userEnteredFormat"]["textFormat"] == {"bold": True}
    art = rows[2]["values"]
    assert art[0]["userEnteredValue"] == {"stringValue": "Art"}
    assert art[5]["userEnteredValue"] == {"numberValue": 40}  # 20 EUR x 2
    assert art[5]["userEnteredFormat"]["numberFormat"] == {
        "type": "CURRENCY",
        "pattern": '"$"#,##0.00',
    }
    assert art[5]["formattedValue"] == "$40.00"
    assert art[8]["formattedValue"] == "400.00%"  # burn
    milestones = tabs["syncd · Milestones"]["data"][0]["rowData"]
    beta = milestones[2]["values"]
    assert beta[1]["userEnteredValue"] == {"numberValue": serial(days(9))}
    assert beta[1]["formattedValue"] == "2026-11-11"


def test_alerts_become_conditional_formats_on_the_data_rows():
    sheet = spreadsheet()
    publish(sheet, rollups_of())
    budget = sheet.sheet_by_title("syncd · Budget")
    assert budget is not None
    variance_rules = [
        r for r in budget.conditional_formats
        if r["booleanRule"]["condition"]["type"] == "NUMBER_LESS"
    ]  # fmt: skip
    assert variance_rules[0]["ranges"] == [
        {"sheetId": budget.sheet_id, "startRowIndex": 2, "endRowIndex": 3,
         "startColumnIndex": 7, "endColumnIndex": 8},
    ]  # fmt: skip
    assert variance_rules[0]["booleanRule"]["condition"]["values"] == [{"userEnteredValue": "0"}]


def test_links_dates_in_the_sheets_time_zone_and_only_some_tabs():
    table = RollupTable(
        key="t",
        title="T",
        columns=(
            Column("link", "Link", Kind.LINK, "a link"),
            Column("at", "At", Kind.DATETIME, "a time"),
            Column("money", "Money", Kind.MONEY, "money"),
        ),
        rows=(
            (
                Link("HRB-1", "https://x/HRB-1"),
                datetime(2026, 11, 2, 9, tzinfo=UTC),
                Decimal("-1.5"),
            ),
        ),
    )
    tab = RollupTab("t", "T", "Question?", (table,))
    other = RollupTab("u", "U", "Other?", (table,))
    rollups = RollupSet((tab, other), "JPY", NOW)
    sheet = spreadsheet("Europe/Paris")
    publish(sheet, rollups, only={"t"})
    assert sheet.sheet_by_title("syncd · U") is None
    meta = render_spreadsheet(sheet, include_grid_data=True)
    [t_tab] = [s for s in meta["sheets"] if s["properties"]["title"] == "syncd · T"]
    rows = t_tab["data"][0]["rowData"]
    assert rows[0]["values"][0]["userEnteredValue"]["stringValue"].startswith("Question?")
    link, at, money = rows[2]["values"]
    assert link["userEnteredFormat"]["textFormat"] == {"link": {"uri": "https://x/HRB-1"}}
    assert at["formattedValue"] == "2026-11-02 10:00"  # 09:00 UTC in Paris
    assert money["formattedValue"] == "-¥2"
    assert money_pattern("CHF") == '#,##0.00 "CHF"'


def test_a_chart_sheet_with_an_owned_title_is_refused():
    sheet = spreadsheet()
    sheet.add_sheet({"title": "syncd · Summary", "sheetType": "OBJECT"})
    with pytest.raises(LayoutError, match="not a grid"):
        build_requests(rollups_of(), render_spreadsheet(sheet), prefix=PREFIX)


def test_placement_stacks_tables_under_the_question_row():
    tab = rollups_of().tab("budget")
    places = place(tab)
    assert places[0].header_row == 1 and places[0].title_row is None
    for before, after in pairwise(places):
        assert after.title_row == before.notes_row + len(before.table.notes) + 1
        assert after.header_row == after.title_row + 1
    assert tab_title(PREFIX, tab) == "syncd · Budget"
