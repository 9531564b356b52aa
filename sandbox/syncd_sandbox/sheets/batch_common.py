"""Shared pieces of the `spreadsheets.batchUpdate` request handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from syncd_sandbox.sheets.a1 import format_range
from syncd_sandbox.sheets.fieldmask import FieldMaskError, Mask, parse_mask
from syncd_sandbox.sheets.protection import check_editable
from syncd_sandbox.sheets.state import Dimension, Sheet, Spreadsheet


class RequestError(ValueError):
    """One request of a batch is invalid; the dispatcher prefixes `Invalid requests[i].kind: `."""


@dataclass(slots=True)
class BatchContext:
    """What a handler works on: the spreadsheet copy the batch is applied to."""

    spreadsheet: Spreadsheet
    currency_symbols: str = "$"
    actor: str | None = None  # who sends the batch; None: the sandbox itself (no checks)

    def guard(self, sheet: Sheet, area: tuple[int, int, int, int]) -> None:
        """Google's 403 when the actor may not edit cells of `area` (a protected range)."""
        check_editable(self.spreadsheet, sheet, area, self.actor)


Reply = dict[str, Any] | None
Handler = Callable[[BatchContext, dict[str, Any]], Reply]


def require_mask(body: dict[str, Any]) -> Mask:
    """The request's `fields` FieldMask, which Google requires on every update-style request."""
    fields = body.get("fields")
    if not fields or not isinstance(fields, str):
        raise RequestError("At least one field must be specified in 'fields'.")
    try:
        return parse_mask(fields)
    except FieldMaskError as exc:
        raise RequestError(str(exc)) from exc


def sheet_of(context: BatchContext, sheet_id: Any) -> Sheet:
    """The grid sheet with that id (a missing id means 0, the proto default)."""
    sheet = context.spreadsheet.sheet_by_id(
        _int(sheet_id if sheet_id is not None else 0, "sheetId")
    )
    if sheet is None:
        raise RequestError(f"No grid with id: {sheet_id if sheet_id is not None else 0}")
    return sheet


def grid_range(context: BatchContext, grid: Any) -> tuple[Sheet, int, int, int, int]:
    """A GridRange to (sheet, r0, r1, c0, c1): 0-based, half-open, omitted bounds = whole grid."""
    if not isinstance(grid, dict):
        raise RequestError("A range (GridRange) is required.")
    sheet = sheet_of(context, grid.get("sheetId"))
    if not sheet.is_grid:
        raise RequestError(f"No grid with id: {sheet.sheet_id}")
    r0 = _int(grid.get("startRowIndex", 0), "startRowIndex")
    r1 = _int(grid.get("endRowIndex", sheet.row_count), "endRowIndex")
    c0 = _int(grid.get("startColumnIndex", 0), "startColumnIndex")
    c1 = _int(grid.get("endColumnIndex", sheet.column_count), "endColumnIndex")
    if r0 < 0 or c0 < 0 or r1 < r0 or c1 < c0:
        raise RequestError(f"Invalid range: {grid}")
    if r1 > sheet.row_count or c1 > sheet.column_count:
        raise RequestError(
            f"Range ({format_range(sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))}) "
            f"exceeds grid limits. Max rows: {sheet.row_count}, max columns: {sheet.column_count}"
        )
    return sheet, r0, r1, c0, c1


def dimension_range(context: BatchContext, value: Any) -> tuple[Sheet, Dimension, int, int]:
    """A DimensionRange to (sheet, ROWS|COLUMNS, start, end)."""
    if not isinstance(value, dict):
        raise RequestError("A range (DimensionRange) is required.")
    sheet = sheet_of(context, value.get("sheetId"))
    dimension = value.get("dimension")
    if dimension not in ("ROWS", "COLUMNS"):
        raise RequestError(f"Invalid dimension: {dimension}")
    size = sheet.row_count if dimension == "ROWS" else sheet.column_count
    start = _int(value.get("startIndex", 0), "startIndex")
    end = _int(value.get("endIndex", size), "endIndex")
    if start < 0 or end < start:
        raise RequestError(f"Invalid dimension range: {value}")
    return sheet, dimension, start, end


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(f"{name} must be an integer, got {value!r}")
    return value
