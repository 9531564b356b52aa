"""batchUpdate handlers that touch cells and what sits on them: values, formats, validation,
merges, sorting, conditional formats and charts."""

from __future__ import annotations

import copy
import functools
from typing import Any

from syncd_sandbox.sheets.batch_common import (
    BatchContext,
    Reply,
    RequestError,
    grid_range,
    require_mask,
    sheet_of,
)
from syncd_sandbox.sheets.cells import Cell, cell_from_data
from syncd_sandbox.sheets.fieldmask import Mask, apply_mask
from syncd_sandbox.sheets.formulas import CellError, Value
from syncd_sandbox.sheets.render import Renderer
from syncd_sandbox.sheets.state import GridError, Sheet

DEFAULT_CHART_WIDTH, DEFAULT_CHART_HEIGHT = 600, 371


def _apply_cell(sheet: Sheet, row: int, col: int, source: Any, mask: Mask) -> None:
    if not isinstance(source, dict):
        raise RequestError("Each cell must be a CellData object.")
    current = sheet.cell(row, col) or Cell()
    merged = apply_mask(current.editable_data(), source, mask)
    try:
        cell = cell_from_data(merged)
    except ValueError as exc:
        raise RequestError(str(exc)) from exc
    entered = cell.entered
    if entered is not None and entered.kind == "formula" and not str(entered.value).startswith("="):
        raise RequestError("formulaValue must start with '='.")
    sheet.put(row, col, cell)


def _rows_of(body: dict[str, Any]) -> list[list[Any]]:
    rows = body.get("rows") or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise RequestError("rows must be a list of RowData objects.")
    result = []
    for row in rows:
        values = row.get("values") or []
        if not isinstance(values, list):
            raise RequestError("RowData.values must be a list.")
        result.append(values)
    return result


def update_cells(context: BatchContext, body: dict[str, Any]) -> Reply:
    """updateCells {rows, fields, start|range}; with a range, masked fields past `rows` clear."""
    mask = require_mask(body)
    rows = _rows_of(body)
    if ("start" in body) == ("range" in body):
        raise RequestError("Exactly one of 'start' or 'range' must be set.")
    if "start" in body:
        start = body["start"] or {}
        sheet = sheet_of(context, start.get("sheetId"))
        r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        width = max((len(r) for r in rows), default=0)
        if r0 + len(rows) > sheet.row_count or c0 + width > sheet.column_count:
            raise RequestError(
                f"Range exceeds grid limits. Max rows: {sheet.row_count}, "
                f"max columns: {sheet.column_count}"
            )
        context.guard(sheet, (r0, r0 + len(rows), c0, c0 + width))
        for i, values in enumerate(rows):
            for j, source in enumerate(values):
                _apply_cell(sheet, r0 + i, c0 + j, source, mask)
        return None
    sheet, r0, r1, c0, c1 = grid_range(context, body["range"])
    context.guard(sheet, (r0, r1, c0, c1))
    for row in range(r0, r1):
        values = rows[row - r0] if row - r0 < len(rows) else []
        for col in range(c0, c1):
            source = values[col - c0] if col - c0 < len(values) else {}
            _apply_cell(sheet, row, col, source, mask)
    return None


def repeat_cell(context: BatchContext, body: dict[str, Any]) -> Reply:
    """repeatCell {range, cell, fields} (what gspread's `format()` sends)."""
    mask = require_mask(body)
    sheet, r0, r1, c0, c1 = grid_range(context, body.get("range"))
    context.guard(sheet, (r0, r1, c0, c1))
    cell = body.get("cell") or {}
    for row in range(r0, r1):
        for col in range(c0, c1):
            _apply_cell(sheet, row, col, cell, mask)
    return None


def append_cells(context: BatchContext, body: dict[str, Any]) -> Reply:
    """appendCells {sheetId, rows, fields}: after the last row holding anything; the grid grows."""
    mask = require_mask(body)
    sheet = sheet_of(context, body.get("sheetId"))
    rows = _rows_of(body)
    start = max(sheet.rows, default=-1) + 1
    width = max((len(r) for r in rows), default=0)
    context.guard(sheet, (start, start + len(rows), 0, width))
    try:
        sheet.resize(max(sheet.row_count, start + len(rows)), max(sheet.column_count, width))
        context.spreadsheet.check_cell_limit()
    except GridError as exc:
        raise RequestError(str(exc)) from exc
    for i, values in enumerate(rows):
        for j, source in enumerate(values):
            _apply_cell(sheet, start + i, j, source, mask)
    return None


def set_data_validation(context: BatchContext, body: dict[str, Any]) -> Reply:
    """setDataValidation {range, rule}; no rule clears validation."""
    sheet, r0, r1, c0, c1 = grid_range(context, body.get("range"))
    context.guard(sheet, (r0, r1, c0, c1))
    rule = body.get("rule")
    if rule is not None and (not isinstance(rule, dict) or "condition" not in rule):
        raise RequestError("rule.condition is required.")
    for row in range(r0, r1):
        for col in range(c0, c1):
            current = sheet.cell(row, col) or Cell()
            sheet.put(
                row, col, Cell(current.entered, current.fmt, current.note, copy.deepcopy(rule))
            )
    return None


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(
        a["startRowIndex"] < b["endRowIndex"]
        and b["startRowIndex"] < a["endRowIndex"]
        and a["startColumnIndex"] < b["endColumnIndex"]
        and b["startColumnIndex"] < a["endColumnIndex"]
    )


def merge_cells(context: BatchContext, body: dict[str, Any]) -> Reply:
    """mergeCells {range, mergeType}: only each merge's top-left value survives, as in Sheets."""
    sheet, r0, r1, c0, c1 = grid_range(context, body.get("range"))
    context.guard(sheet, (r0, r1, c0, c1))
    merge_type = body.get("mergeType", "MERGE_ALL")
    if merge_type == "MERGE_ALL":
        pieces = [(r0, r1, c0, c1)]
    elif merge_type == "MERGE_COLUMNS":
        pieces = [(r0, r1, c, c + 1) for c in range(c0, c1)]
    elif merge_type == "MERGE_ROWS":
        pieces = [(r, r + 1, c0, c1) for r in range(r0, r1)]
    else:
        raise RequestError(f"Invalid mergeType: {merge_type}")
    for pr0, pr1, pc0, pc1 in pieces:
        if (pr1 - pr0) * (pc1 - pc0) < 2:
            continue
        merge = {
            "sheetId": sheet.sheet_id,
            "startRowIndex": pr0,
            "endRowIndex": pr1,
            "startColumnIndex": pc0,
            "endColumnIndex": pc1,
        }
        if any(_overlaps(merge, other) for other in sheet.merges):
            raise RequestError("You can't merge cells that overlap an existing merge.")
        sheet.merges.append(merge)
        for row, col, cell in list(sheet.value_cells(pr0, pr1, pc0, pc1)):
            if (row, col) != (pr0, pc0):
                sheet.put(row, col, cell.with_value(None))
    return None


def unmerge_cells(context: BatchContext, body: dict[str, Any]) -> Reply:
    """unmergeCells {range}: drop every merge intersecting the range."""
    sheet, r0, r1, c0, c1 = grid_range(context, body.get("range"))
    context.guard(sheet, (r0, r1, c0, c1))
    area = {"startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": c0, "endColumnIndex": c1}
    sheet.merges = [m for m in sheet.merges if not _overlaps(m, area)]
    return None


def _rank(value: Value) -> tuple[int, float | str]:
    # Sheets sorts numbers before text before booleans; errors last among values.
    if isinstance(value, bool):
        return (2, float(value))
    if isinstance(value, float):
        return (0, value)
    if isinstance(value, CellError):
        return (3, value.code)
    return (1, str(value).casefold())


def sort_rows(
    sheet: Sheet, area: tuple[int, int, int, int], specs: list[tuple[int, bool]], renderer: Renderer
) -> None:
    """Reorder the rows of an area by (column, descending) keys; blanks always sort last."""
    r0, r1, c0, c1 = area
    keyed = []
    for row in range(r0, r1):
        values = [renderer.effective(sheet, row, col) for col, _ in specs]
        cells = {col: sheet.cell(row, col) for col in range(c0, c1)}
        keyed.append((values, cells))

    def compare(a: tuple[list[Value], Any], b: tuple[list[Value], Any]) -> int:
        for (x, y), (_, descending) in zip(zip(a[0], b[0], strict=True), specs, strict=True):
            blank_x, blank_y = x is None or x == "", y is None or y == ""
            if blank_x or blank_y:
                if blank_x != blank_y:
                    return 1 if blank_x else -1
                continue
            rx, ry = _rank(x), _rank(y)
            if rx != ry:
                result = -1 if rx < ry else 1
                return -result if descending else result
        return 0

    keyed.sort(key=functools.cmp_to_key(compare))
    for offset, (_, cells) in enumerate(keyed):
        for col, cell in cells.items():
            sheet.put(r0 + offset, col, cell)


def sort_range(context: BatchContext, body: dict[str, Any]) -> Reply:
    """sortRange {range, sortSpecs: [{dimensionIndex, sortOrder}]}."""
    sheet, r0, r1, c0, c1 = grid_range(context, body.get("range"))
    context.guard(sheet, (r0, r1, c0, c1))
    specs = []
    for spec in body.get("sortSpecs") or [{"dimensionIndex": c0}]:
        col = spec.get("dimensionIndex")
        if not isinstance(col, int) or not c0 <= col < c1:
            raise RequestError(f"sortSpecs dimensionIndex {col} is outside the range.")
        specs.append((col, spec.get("sortOrder", "ASCENDING") == "DESCENDING"))
    sort_rows(sheet, (r0, r1, c0, c1), specs, Renderer(context.spreadsheet))
    return None


def add_conditional_format_rule(context: BatchContext, body: dict[str, Any]) -> Reply:
    """addConditionalFormatRule {rule: {ranges, booleanRule|gradientRule}, index}."""
    rule = body.get("rule")
    if not isinstance(rule, dict) or not rule.get("ranges"):
        raise RequestError("rule.ranges is required.")
    if ("booleanRule" in rule) == ("gradientRule" in rule):
        raise RequestError("Exactly one of booleanRule or gradientRule must be set.")
    sheets = {grid_range(context, r)[0].sheet_id for r in rule["ranges"]}
    if len(sheets) != 1:
        raise RequestError("All ranges of a conditional format rule must be on the same sheet.")
    sheet = sheet_of(context, sheets.pop())
    index = body.get("index", 0)
    if not isinstance(index, int) or not 0 <= index <= len(sheet.conditional_formats):
        raise RequestError(
            f"Invalid index {index}: the sheet has {len(sheet.conditional_formats)} rules."
        )
    stored = copy.deepcopy(rule)
    for grid in stored["ranges"]:
        grid.setdefault("sheetId", sheet.sheet_id)
    sheet.conditional_formats.insert(index, stored)
    return None


def delete_conditional_format_rule(context: BatchContext, body: dict[str, Any]) -> Reply:
    """deleteConditionalFormatRule {sheetId, index}: replies with the removed rule."""
    sheet = sheet_of(context, body.get("sheetId"))
    index = body.get("index", 0)
    if not isinstance(index, int) or not 0 <= index < len(sheet.conditional_formats):
        raise RequestError(f"No conditional format on sheet {sheet.sheet_id} at index {index}.")
    rule = sheet.conditional_formats.pop(index)
    return {"deleteConditionalFormatRule": {"rule": rule}}


def _check_sources(context: BatchContext, value: Any) -> None:
    """Every GridRange a chart reads from must exist."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "sources" and isinstance(inner, list):
                for grid in inner:
                    grid_range(context, grid)
            else:
                _check_sources(context, inner)
    elif isinstance(value, list):
        for inner in value:
            _check_sources(context, inner)


def add_chart(context: BatchContext, body: dict[str, Any]) -> Reply:
    """addChart {chart: {spec, position}}: replies with the chart and its assigned chartId."""
    chart = body.get("chart")
    if not isinstance(chart, dict) or not isinstance(chart.get("spec"), dict):
        raise RequestError("chart.spec is required.")
    _check_sources(context, chart["spec"])
    spreadsheet = context.spreadsheet
    chart_id = chart.get("chartId")
    if chart_id is None:
        chart_id = spreadsheet.new_id()
    elif not isinstance(chart_id, int) or any(
        c["chartId"] == chart_id for s in spreadsheet.sheets for c in s.charts
    ):
        raise RequestError(f"Invalid or duplicate chartId: {chart_id}")
    position = copy.deepcopy(chart.get("position") or {"newSheet": True})
    if position.get("newSheet"):
        try:
            host = spreadsheet.add_sheet(
                {"sheetType": "OBJECT", "title": _chart_sheet_title(context)}
            )
        except GridError as exc:
            raise RequestError(str(exc)) from exc
        position = {"sheetId": host.sheet_id}
    elif "overlayPosition" in position:
        overlay = position["overlayPosition"]
        anchor = overlay.get("anchorCell") or {}
        host = sheet_of(context, anchor.get("sheetId"))
        row, col = anchor.get("rowIndex", 0), anchor.get("columnIndex", 0)
        if not (0 <= row < host.row_count and 0 <= col < host.column_count):
            raise RequestError("The chart's anchorCell is outside the grid.")
        overlay.setdefault("widthPixels", DEFAULT_CHART_WIDTH)
        overlay.setdefault("heightPixels", DEFAULT_CHART_HEIGHT)
    elif "sheetId" in position:
        host = sheet_of(context, position["sheetId"])
    else:
        raise RequestError("chart.position must set overlayPosition, sheetId or newSheet.")
    stored = {"chartId": chart_id, "spec": copy.deepcopy(chart["spec"]), "position": position}
    host.charts.append(stored)
    return {"addChart": {"chart": copy.deepcopy(stored)}}


def _chart_sheet_title(context: BatchContext) -> str:
    n = 1
    while context.spreadsheet.sheet_by_title(f"Chart{n}") is not None:
        n += 1
    return f"Chart{n}"


def delete_embedded_object(context: BatchContext, body: dict[str, Any]) -> Reply:
    """deleteEmbeddedObject {objectId}: removes a chart (and its own chart sheet, if it had one)."""
    object_id = body.get("objectId")
    spreadsheet = context.spreadsheet
    for sheet in spreadsheet.sheets:
        for chart in sheet.charts:
            if chart["chartId"] == object_id:
                sheet.charts.remove(chart)
                if not sheet.is_grid and not sheet.charts:
                    try:
                        spreadsheet.remove_sheet(sheet)
                    except GridError as exc:
                        raise RequestError(str(exc)) from exc
                return None
    raise RequestError(f"No object with id: {object_id}")
