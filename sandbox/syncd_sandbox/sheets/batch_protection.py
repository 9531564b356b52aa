"""batchUpdate handlers for protected ranges: add, update (through a FieldMask), delete."""

from __future__ import annotations

import copy
from typing import Any

from syncd_sandbox.sheets.batch_common import (
    BatchContext,
    Reply,
    RequestError,
    grid_range,
    require_mask,
)
from syncd_sandbox.sheets.fieldmask import apply_mask
from syncd_sandbox.sheets.protection import can_edit, protected_error, render_protected
from syncd_sandbox.sheets.state import Sheet

_FIELDS = {
    "protectedRangeId",
    "range",
    "namedRangeId",
    "description",
    "warningOnly",
    "requestingUserCanEdit",
    "unprotectedRanges",
    "editors",
}


def add_protected_range(context: BatchContext, body: dict[str, Any]) -> Reply:
    """addProtectedRange {protectedRange}: reply with the range as stored (id assigned)."""
    source = body.get("protectedRange")
    if not isinstance(source, dict):
        raise RequestError("protectedRange is required.")
    protected = {k: copy.deepcopy(v) for k, v in source.items() if v is not None}
    protected.pop("requestingUserCanEdit", None)  # read-only: Google computes it
    sheet = _checked(context, protected)
    wanted = protected.get("protectedRangeId")
    if wanted is None:
        protected["protectedRangeId"] = _new_id(context)
    elif not isinstance(wanted, int) or _find(context, wanted) is not None:
        raise RequestError(f"Invalid protectedRangeId: {wanted}")
    sheet.protected_ranges.append(protected)
    shown = render_protected(context.spreadsheet, protected, context.actor)
    return {"addProtectedRange": {"protectedRange": shown}}


def update_protected_range(context: BatchContext, body: dict[str, Any]) -> Reply:
    """updateProtectedRange {protectedRange: {protectedRangeId, ...}, fields}."""
    mask = require_mask(body)
    source = body.get("protectedRange")
    if not isinstance(source, dict):
        raise RequestError("protectedRange is required.")
    found = _find(context, source.get("protectedRangeId"))
    if found is None:
        raise RequestError(f"No protected range with id: {source.get('protectedRangeId')}")
    sheet, protected = found
    _require_editor(context, protected)
    updated = apply_mask(protected, source, mask)
    updated = {k: v for k, v in updated.items() if v is not None}
    updated["protectedRangeId"] = protected["protectedRangeId"]
    updated.pop("requestingUserCanEdit", None)
    target = _checked(context, updated)
    sheet.protected_ranges.remove(protected)
    target.protected_ranges.append(updated)
    return None


def delete_protected_range(context: BatchContext, body: dict[str, Any]) -> Reply:
    """deleteProtectedRange {protectedRangeId}."""
    found = _find(context, body.get("protectedRangeId"))
    if found is None:
        raise RequestError(f"No protected range with id: {body.get('protectedRangeId')}")
    sheet, protected = found
    _require_editor(context, protected)
    sheet.protected_ranges.remove(protected)
    return None


def _checked(context: BatchContext, protected: dict[str, Any]) -> Sheet:
    """Validate a ProtectedRange the way Google does; the owner joins its editors."""
    unknown = set(protected) - _FIELDS
    if unknown:
        raise RequestError(f"Unknown fields in protectedRange: {sorted(unknown)}")
    if "namedRangeId" in protected:
        raise RequestError("the syncd sandbox does not emulate named ranges.")
    sheet, r0, r1, c0, c1 = grid_range(context, protected.get("range"))
    del r0, r1, c0, c1  # validated only; the stored range keeps its open ends
    for i, inner in enumerate(protected.get("unprotectedRanges") or []):
        inner_sheet, *_ = grid_range(context, inner)
        if inner_sheet is not sheet:
            raise RequestError(f"unprotectedRanges[{i}] must be on the protected range's sheet.")
    editors = protected.get("editors")
    if protected.get("warningOnly"):
        if editors:
            raise RequestError("ProtectedRange is warningOnly. Editors cannot be set on it.")
        protected.pop("editors", None)
        return sheet
    editors = dict(editors or {})
    users = [str(u) for u in editors.get("users") or []]
    owner = context.spreadsheet.owner
    if owner is not None and owner.casefold() not in {u.casefold() for u in users}:
        users.append(owner)
    editors["users"] = users
    protected["editors"] = editors
    return sheet


def _require_editor(context: BatchContext, protected: dict[str, Any]) -> None:
    if context.actor is not None and not can_edit(context.spreadsheet, protected, context.actor):
        raise protected_error()


def _find(context: BatchContext, range_id: Any) -> tuple[Sheet, dict[str, Any]] | None:
    for sheet in context.spreadsheet.sheets:
        for protected in sheet.protected_ranges:
            if protected.get("protectedRangeId") == range_id:
                return sheet, protected
    return None


def _new_id(context: BatchContext) -> int:
    while True:
        candidate = context.spreadsheet.new_id()
        if _find(context, candidate) is None:
            return candidate
