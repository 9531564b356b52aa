"""batchUpdate handlers for structure: sheets, their properties, rows and columns."""

from __future__ import annotations

import copy
from typing import Any

from syncd_sandbox.sheets import dimensions
from syncd_sandbox.sheets.batch_common import (
    BatchContext,
    Reply,
    RequestError,
    dimension_range,
    grid_range,
    require_mask,
    sheet_of,
)
from syncd_sandbox.sheets.fieldmask import apply_mask
from syncd_sandbox.sheets.metadata import sheet_properties
from syncd_sandbox.sheets.state import GridError


def update_spreadsheet_properties(context: BatchContext, body: dict[str, Any]) -> Reply:
    """updateSpreadsheetProperties: title, locale, timeZone... through a FieldMask."""
    mask = require_mask(body)
    updated = apply_mask(context.spreadsheet.properties, body.get("properties") or {}, mask)
    if not updated.get("title"):
        raise RequestError("The spreadsheet title cannot be empty.")
    context.spreadsheet.properties = updated
    return None


def add_sheet(context: BatchContext, body: dict[str, Any]) -> Reply:
    """addSheet: reply with the new sheet's properties (sheetId assigned when not given)."""
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise RequestError("properties must be an object")
    try:
        sheet = context.spreadsheet.add_sheet(properties)
    except GridError as exc:
        raise RequestError(str(exc)) from exc
    return {"addSheet": {"properties": sheet_properties(sheet)}}


def delete_sheet(context: BatchContext, body: dict[str, Any]) -> Reply:
    """deleteSheet {sheetId}."""
    sheet_id = body.get("sheetId")
    sheet = context.spreadsheet.sheet_by_id(sheet_id) if isinstance(sheet_id, int) else None
    if sheet is None:
        raise RequestError(f"No sheet with id: {sheet_id}")
    context.guard(sheet, (0, sheet.row_count, 0, sheet.column_count))
    try:
        context.spreadsheet.remove_sheet(sheet)
    except GridError as exc:
        raise RequestError(str(exc)) from exc
    dimensions.forget_sheet(context.spreadsheet, sheet.title)
    return None


def update_sheet_properties(context: BatchContext, body: dict[str, Any]) -> Reply:
    """updateSheetProperties {properties: {sheetId, ...}, fields}: title, index, size, frozen."""
    mask = require_mask(body)
    source = body.get("properties")
    if not isinstance(source, dict):
        raise RequestError("properties is required")
    sheet = sheet_of(context, source.get("sheetId"))
    before = sheet.properties
    after = apply_mask(before, {**source, "sheetId": sheet.sheet_id}, mask)
    after["sheetId"] = sheet.sheet_id
    after.setdefault("sheetType", before.get("sheetType", "GRID"))
    if after.get("sheetType") != before.get("sheetType", "GRID"):
        raise RequestError("Cannot change the sheetType of an existing sheet.")
    title = after.get("title")
    if not title:
        raise RequestError("The sheet title cannot be empty.")
    clash = context.spreadsheet.sheet_by_title(title)
    if clash is not None and clash is not sheet:
        raise RequestError(
            f'A sheet with the name "{title}" already exists. Please enter another name.'
        )
    index = after.get("index", before.get("index", 0))
    sheet.properties = after
    if title != before.get("title"):
        dimensions.rename_sheet(context.spreadsheet, str(before.get("title")), str(title))
    if sheet.is_grid:
        try:
            sheet.resize(int(sheet.row_count), int(sheet.column_count))  # drops cells now outside
            context.spreadsheet.check_cell_limit()
        except (GridError, TypeError, ValueError) as exc:
            raise RequestError(str(exc)) from exc
        for key, limit in (
            ("frozenRowCount", sheet.row_count),
            ("frozenColumnCount", sheet.column_count),
        ):
            frozen = sheet.grid.get(key, 0)
            if not isinstance(frozen, int) or frozen < 0 or frozen >= limit:
                raise RequestError(f"Invalid {key}: {frozen} (the sheet has {limit}).")
    if index != before.get("index"):
        context.spreadsheet.move_sheet(sheet, int(index))
    return None


def insert_dimension(context: BatchContext, body: dict[str, Any]) -> Reply:
    """insertDimension {range, inheritFromBefore}: blank rows/columns; what follows shifts."""
    sheet, dimension, start, end = dimension_range(context, body.get("range"))
    if body.get("inheritFromBefore") and start == 0:
        raise RequestError("Cannot inherit properties from before the first row or column.")
    try:
        dimensions.insert_dimension(context.spreadsheet, sheet, dimension, start, end - start)
        context.spreadsheet.check_cell_limit()
    except GridError as exc:
        raise RequestError(str(exc)) from exc
    return None


def delete_dimension(context: BatchContext, body: dict[str, Any]) -> Reply:
    """deleteDimension {range: DimensionRange}."""
    sheet, dimension, start, end = dimension_range(context, body.get("range"))
    if dimension == "ROWS":
        context.guard(sheet, (start, end, 0, sheet.column_count))
    else:
        context.guard(sheet, (0, sheet.row_count, start, end))
    try:
        dimensions.delete_dimension(context.spreadsheet, sheet, dimension, start, end)
    except GridError as exc:
        raise RequestError(str(exc)) from exc
    return None


def append_dimension(context: BatchContext, body: dict[str, Any]) -> Reply:
    """appendDimension {sheetId, dimension, length}: grow the grid at the end."""
    sheet = sheet_of(context, body.get("sheetId"))
    length = body.get("length")
    if not isinstance(length, int) or length < 1:
        raise RequestError("length must be a positive integer")
    dimension = body.get("dimension")
    if dimension not in ("ROWS", "COLUMNS"):
        raise RequestError(f"Invalid dimension: {dimension}")
    rows = sheet.row_count + (length if dimension == "ROWS" else 0)
    cols = sheet.column_count + (length if dimension == "COLUMNS" else 0)
    try:
        sheet.resize(rows, cols)
        context.spreadsheet.check_cell_limit()
    except GridError as exc:
        raise RequestError(str(exc)) from exc
    return None


def update_dimension_properties(context: BatchContext, body: dict[str, Any]) -> Reply:
    """updateDimensionProperties {range, properties {pixelSize, hiddenByUser}, fields}."""
    mask = require_mask(body)
    sheet, dimension, start, end = dimension_range(context, body.get("range"))
    source = body.get("properties") or {}
    meta = sheet.row_meta if dimension == "ROWS" else sheet.col_meta
    size = sheet.row_count if dimension == "ROWS" else sheet.column_count
    for index in range(start, min(end, size)):
        updated = apply_mask(meta.get(index, {}), source, mask)
        if updated:
            meta[index] = updated
        else:
            meta.pop(index, None)
    return None


def auto_resize_dimensions(context: BatchContext, body: dict[str, Any]) -> Reply:
    """autoResizeDimensions: validated, then a no-op (the sandbox renders no pixels)."""
    dimension_range(context, body.get("dimensions"))
    return None


def set_basic_filter(context: BatchContext, body: dict[str, Any]) -> Reply:
    """setBasicFilter {filter: {range, ...}}: stored and returned by spreadsheets.get."""
    basic_filter = body.get("filter")
    if not isinstance(basic_filter, dict):
        raise RequestError("filter is required")
    sheet, *_ = grid_range(context, basic_filter.get("range"))
    sheet.basic_filter = copy.deepcopy(basic_filter)
    return None


def clear_basic_filter(context: BatchContext, body: dict[str, Any]) -> Reply:
    """clearBasicFilter {sheetId}."""
    sheet_of(context, body.get("sheetId")).basic_filter = None
    return None
