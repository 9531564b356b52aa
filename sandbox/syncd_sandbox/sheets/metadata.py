"""`spreadsheets.get` rendering: properties, sheets and (with includeGridData) cell data."""

from __future__ import annotations

import copy
from typing import Any

from syncd_sandbox.sheets.protection import render_protected
from syncd_sandbox.sheets.render import Renderer
from syncd_sandbox.sheets.state import Sheet, Spreadsheet

DEFAULT_ROW_PIXELS, DEFAULT_COLUMN_PIXELS = 21, 100
_OMITTED_WHEN_FALSY = ("hidden", "rightToLeft")
_GRID_OMITTED_WHEN_FALSY = (
    "frozenRowCount",
    "frozenColumnCount",
    "hideGridlines",
    "rowGroupControlAfter",
    "columnGroupControlAfter",
)
Area = tuple[int, int, int, int]


def sheet_properties(sheet: Sheet) -> dict[str, Any]:
    """SheetProperties JSON as Google prints it (zero/false optional fields left out)."""
    props = copy.deepcopy(sheet.properties)
    for key in _OMITTED_WHEN_FALSY:
        if not props.get(key, True):
            props.pop(key)
    grid = props.get("gridProperties")
    if isinstance(grid, dict):
        for key in _GRID_OMITTED_WHEN_FALSY:
            if not grid.get(key, True):
                grid.pop(key)
    return props


def spreadsheet_url(spreadsheet_id: str) -> str:
    """The browser URL Google reports."""
    return f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"


def render_spreadsheet(
    spreadsheet: Spreadsheet,
    *,
    include_grid_data: bool = False,
    areas: list[tuple[Sheet, Area]] | None = None,
    viewer: str | None = None,
) -> dict[str, Any]:
    """The Spreadsheet JSON; `areas` (from `ranges=`) limit the sheets and the grid data;
    `viewer` is who asks (what protected ranges show depends on it)."""
    wanted: dict[int, list[Area]] | None = None
    if areas is not None:
        wanted = {}
        for sheet, area in areas:
            wanted.setdefault(sheet.sheet_id, []).append(area)
    renderer = Renderer(spreadsheet)
    sheets = []
    for sheet in spreadsheet.sheets:
        if wanted is not None and sheet.sheet_id not in wanted:
            continue
        entry: dict[str, Any] = {"properties": sheet_properties(sheet)}
        if include_grid_data and sheet.is_grid:
            sheet_areas = (wanted or {}).get(sheet.sheet_id) or [
                (0, sheet.row_count, 0, sheet.column_count)
            ]
            entry["data"] = [grid_data(renderer, sheet, area) for area in sheet_areas]
        if sheet.merges:
            entry["merges"] = copy.deepcopy(sheet.merges)
        if sheet.conditional_formats:
            entry["conditionalFormats"] = copy.deepcopy(sheet.conditional_formats)
        if sheet.basic_filter:
            entry["basicFilter"] = copy.deepcopy(sheet.basic_filter)
        if sheet.charts:
            entry["charts"] = copy.deepcopy(sheet.charts)
        if sheet.protected_ranges:
            entry["protectedRanges"] = [
                render_protected(spreadsheet, p, viewer) for p in sheet.protected_ranges
            ]
        sheets.append(entry)
    return {
        "spreadsheetId": spreadsheet.spreadsheet_id,
        "properties": copy.deepcopy(spreadsheet.properties),
        "sheets": sheets,
        "spreadsheetUrl": spreadsheet_url(spreadsheet.spreadsheet_id),
    }


def grid_data(renderer: Renderer, sheet: Sheet, area: Area) -> dict[str, Any]:
    """GridData for one area: rowData trimmed after the last cell, plus dimension metadata."""
    r0, r1, c0, c1 = area
    rows_with_cells = [
        r for r in sheet.rows if r0 <= r < r1 and any(c0 <= c < c1 for c in sheet.rows[r])
    ]
    row_data: list[dict[str, Any]] = []
    for row in range(r0, max(rows_with_cells, default=r0 - 1) + 1):
        cols = [c for c in sheet.rows.get(row, {}) if c0 <= c < c1]
        if not cols:
            row_data.append({})
            continue
        row_data.append(
            {"values": [renderer.cell_data(sheet, row, c) for c in range(c0, max(cols) + 1)]}
        )
    data: dict[str, Any] = {}
    if r0:
        data["startRow"] = r0
    if c0:
        data["startColumn"] = c0
    if row_data:
        data["rowData"] = row_data
    data["rowMetadata"] = [
        {"pixelSize": DEFAULT_ROW_PIXELS, **sheet.row_meta.get(r, {})} for r in range(r0, r1)
    ]
    data["columnMetadata"] = [
        {"pixelSize": DEFAULT_COLUMN_PIXELS, **sheet.col_meta.get(c, {})} for c in range(c0, c1)
    ]
    return data
