"""`spreadsheets.batchUpdate`: dispatch each request kind, atomically (all or nothing)."""

from __future__ import annotations

from typing import Any

from syncd_sandbox.sheets import batch_cells, batch_protection, batch_sheets
from syncd_sandbox.sheets.batch_common import BatchContext, Handler, RequestError
from syncd_sandbox.sheets.errors import invalid_argument
from syncd_sandbox.sheets.state import Spreadsheet

HANDLERS: dict[str, Handler] = {
    "updateSpreadsheetProperties": batch_sheets.update_spreadsheet_properties,
    "addSheet": batch_sheets.add_sheet,
    "deleteSheet": batch_sheets.delete_sheet,
    "updateSheetProperties": batch_sheets.update_sheet_properties,
    "insertDimension": batch_sheets.insert_dimension,
    "deleteDimension": batch_sheets.delete_dimension,
    "appendDimension": batch_sheets.append_dimension,
    "updateDimensionProperties": batch_sheets.update_dimension_properties,
    "autoResizeDimensions": batch_sheets.auto_resize_dimensions,
    "setBasicFilter": batch_sheets.set_basic_filter,
    "clearBasicFilter": batch_sheets.clear_basic_filter,
    "updateCells": batch_cells.update_cells,
    "repeatCell": batch_cells.repeat_cell,
    "appendCells": batch_cells.append_cells,
    "setDataValidation": batch_cells.set_data_validation,
    "mergeCells": batch_cells.merge_cells,
    "unmergeCells": batch_cells.unmerge_cells,
    "sortRange": batch_cells.sort_range,
    "addConditionalFormatRule": batch_cells.add_conditional_format_rule,
    "deleteConditionalFormatRule": batch_cells.delete_conditional_format_rule,
    "addChart": batch_cells.add_chart,
    "deleteEmbeddedObject": batch_cells.delete_embedded_object,
    "addProtectedRange": batch_protection.add_protected_range,
    "updateProtectedRange": batch_protection.update_protected_range,
    "deleteProtectedRange": batch_protection.delete_protected_range,
}

# Request kinds the real API accepts but the sandbox does not emulate: refused by name, so a
# connector that starts using one fails loudly here instead of in production.
NOT_EMULATED = frozenset(
    {
        "updateNamedRange", "addNamedRange", "deleteNamedRange", "autoFill", "cutPaste",
        "copyPaste", "updateBorders", "addFilterView", "deleteFilterView", "duplicateFilterView",
        "updateFilterView", "duplicateSheet", "findReplace", "insertRange", "deleteRange",
        "moveDimension", "updateEmbeddedObjectPosition", "updateEmbeddedObjectBorder", "pasteData",
        "textToColumns", "updateConditionalFormatRule", "updateChartSpec", "addBanding",
        "updateBanding", "deleteBanding", "createDeveloperMetadata", "updateDeveloperMetadata",
        "deleteDeveloperMetadata", "randomizeRange", "addDimensionGroup", "deleteDimensionGroup",
        "updateDimensionGroup", "trimWhitespace", "deleteDuplicates", "addSlicer",
        "updateSlicerSpec", "addDataSource", "updateDataSource", "deleteDataSource",
        "refreshDataSource", "cancelDataSourceRefresh", "addTable", "updateTable", "deleteTable",
    }
)  # fmt: skip


def apply_batch(
    spreadsheet: Spreadsheet,
    requests: Any,
    *,
    currency_symbols: str = "$",
    actor: str | None = None,
) -> list[dict[str, Any]]:
    """Apply every request to a copy and commit it only if all succeed; return the replies."""
    if not isinstance(requests, list):
        raise invalid_argument("Invalid JSON payload received. 'requests' must be a list.")
    if not requests:
        raise invalid_argument("Must specify at least one request.")
    working = spreadsheet.clone()
    context = BatchContext(working, currency_symbols, actor)
    replies: list[dict[str, Any]] = []
    for i, request in enumerate(requests):
        if not isinstance(request, dict) or not request:
            raise invalid_argument(f"Invalid requests[{i}]: No request set.")
        kinds = list(request)
        if len(kinds) > 1:
            raise invalid_argument(
                "Invalid JSON payload received. Oneof field 'kind' is already set. "
                f"Cannot set '{kinds[1]}'"
            )
        kind = kinds[0]
        handler = HANDLERS.get(kind)
        if handler is None:
            if kind in NOT_EMULATED:
                raise invalid_argument(
                    f"Invalid requests[{i}].{kind}: the syncd sandbox does not emulate {kind}."
                )
            raise invalid_argument(
                f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': "
                "Cannot find field."
            )
        body = request[kind]
        if not isinstance(body, dict):
            raise invalid_argument(f"Invalid requests[{i}].{kind}: the request must be an object.")
        try:
            reply = handler(context, body)
        except RequestError as exc:
            raise invalid_argument(f"Invalid requests[{i}].{kind}: {exc}") from exc
        replies.append(reply or {})
    spreadsheet.adopt(working)
    return replies
