"""The `spreadsheets.values` endpoints: get, batchGet, update, batchUpdate, append, clear."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from syncd_sandbox.sheets.api_common import (
    VALUE_RANGE_KEYS,
    ApiBase,
    flag,
    input_option,
    json_body,
    raw_range,
    read_options,
    response_options,
)
from syncd_sandbox.sheets.errors import invalid_argument
from syncd_sandbox.sheets.protection import check_editable
from syncd_sandbox.sheets.render import Renderer
from syncd_sandbox.sheets.state import Spreadsheet
from syncd_sandbox.sheets.values import (
    ReadOptions,
    Write,
    append,
    apply_write,
    clear,
    plan_write,
    read,
    resolve,
    value_range,
)


class ValuesApi(ApiBase):
    """Values endpoints; ranges come from the raw path so odd titles survive."""

    async def get(self, request: Request, spreadsheet_id: str) -> JSONResponse:
        """values.get."""
        text = raw_range(request)
        options = read_options(request.query_params)
        with self.sandbox.lock:
            _, spreadsheet = self.open_spreadsheet(request, spreadsheet_id, "read")
            body = read(spreadsheet, text, options)
        return self.respond(request, body)

    async def batch_get(self, request: Request, spreadsheet_id: str) -> JSONResponse:
        """values.batchGet: one ValueRange per repeated `ranges`, in order."""
        params = request.query_params
        options = read_options(params)
        with self.sandbox.lock:
            _, spreadsheet = self.open_spreadsheet(request, spreadsheet_id, "read")
            ranges = [read(spreadsheet, text, options) for text in params.getlist("ranges")]
        body: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
        if ranges:
            body["valueRanges"] = ranges
        return self.respond(request, body)

    async def update(self, request: Request, spreadsheet_id: str) -> JSONResponse:
        """values.update (PUT): valueInputOption required."""
        text = raw_range(request)
        params = request.query_params
        option = input_option(params.get("valueInputOption"))
        include = flag(params.get("includeValuesInResponse"), "include_values_in_response")
        answer_options = response_options(params)
        body = await json_body(request, VALUE_RANGE_KEYS)
        with self.sandbox.lock:
            principal, spreadsheet = self.open_spreadsheet(request, spreadsheet_id, "write")
            write = plan_write(spreadsheet, text, body.get("values"), body.get("majorDimension"))
            _guard(spreadsheet, write, principal.email)
            updated = apply_write(write, option, currency_symbols=self.sandbox.currency_symbols)
            result = {"spreadsheetId": spreadsheet_id, **updated}
            if include:
                result["updatedData"] = self._written(spreadsheet, write, answer_options)
            self.sandbox.record(
                principal.email, spreadsheet_id, "values.update", updated["updatedRange"]
            )
        return self.respond(request, result)

    @staticmethod
    def _written(spreadsheet: Spreadsheet, write: Write, options: ReadOptions) -> dict[str, Any]:
        """`updatedData`: the written block read back."""
        area = (
            write.row,
            write.row + max(write.height, 1),
            write.col,
            write.col + max(write.width, 1),
        )
        return value_range(Renderer(spreadsheet), write.sheet, area, options)

    async def batch_update(self, request: Request, spreadsheet_id: str) -> JSONResponse:
        """values.batchUpdate: every range validated before any is written."""
        body = await json_body(
            request,
            {
                "valueInputOption",
                "data",
                "includeValuesInResponse",
                "responseValueRenderOption",
                "responseDateTimeRenderOption",
            },
        )
        option = input_option(body.get("valueInputOption"))
        include = flag(body.get("includeValuesInResponse"), "include_values_in_response")
        answer_options = response_options(body)
        data = body.get("data") or []
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise invalid_argument(
                "Invalid JSON payload received. 'data' must be a list of ValueRange."
            )
        with self.sandbox.lock:
            principal, spreadsheet = self.open_spreadsheet(request, spreadsheet_id, "write")
            writes = []
            for item in data:
                if set(item) - VALUE_RANGE_KEYS or "range" not in item:
                    raise invalid_argument(
                        "Invalid data[]: each ValueRange needs a range (and values)."
                    )
                writes.append(
                    plan_write(
                        spreadsheet,
                        str(item["range"]),
                        item.get("values"),
                        item.get("majorDimension"),
                    )
                )
            for write in writes:
                _guard(spreadsheet, write, principal.email)
            responses = []
            for write in writes:
                updated = {
                    "spreadsheetId": spreadsheet_id,
                    **apply_write(write, option, currency_symbols=self.sandbox.currency_symbols),
                }
                responses.append((write, updated))
            if include:
                for write, updated in responses:
                    updated["updatedData"] = self._written(spreadsheet, write, answer_options)
            self.sandbox.record(
                principal.email,
                spreadsheet_id,
                "values.batchUpdate",
                ",".join(u["updatedRange"] for _, u in responses),
            )
        result: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
        if responses:
            result.update(
                totalUpdatedRows=sum(u.get("updatedRows", 0) for _, u in responses),
                totalUpdatedColumns=sum(u.get("updatedColumns", 0) for _, u in responses),
                totalUpdatedCells=sum(u.get("updatedCells", 0) for _, u in responses),
                totalUpdatedSheets=len({w.sheet.sheet_id for w, _ in responses}),
                responses=[u for _, u in responses],
            )
        return self.respond(request, result)

    async def append(self, request: Request, spreadsheet_id: str) -> JSONResponse:
        """values.append: after the table found in the range; grows the grid."""
        text = raw_range(request, ":append")
        params = request.query_params
        option = input_option(params.get("valueInputOption"))
        insert_option = params.get("insertDataOption") or "OVERWRITE"
        include = flag(params.get("includeValuesInResponse"), "include_values_in_response")
        answer_options = response_options(params)
        body = await json_body(request, VALUE_RANGE_KEYS)
        with self.sandbox.lock:
            principal, spreadsheet = self.open_spreadsheet(request, spreadsheet_id, "write")
            write, result = append(
                spreadsheet,
                text,
                body.get("values"),
                body.get("majorDimension"),
                option,
                insert_option,
                currency_symbols=self.sandbox.currency_symbols,
                actor=principal.email,
            )
            result["updates"] = {"spreadsheetId": spreadsheet_id, **result["updates"]}
            if include:
                result["updates"]["updatedData"] = self._written(spreadsheet, write, answer_options)
            self.sandbox.record(
                principal.email, spreadsheet_id, "values.append", result["updates"]["updatedRange"]
            )
        return self.respond(request, {"spreadsheetId": spreadsheet_id, **result})

    async def clear(self, request: Request, spreadsheet_id: str) -> JSONResponse:
        """values.clear: values go, formats stay."""
        text = raw_range(request, ":clear")
        await json_body(request, set())
        with self.sandbox.lock:
            principal, spreadsheet = self.open_spreadsheet(request, spreadsheet_id, "write")
            sheet, *area = resolve(spreadsheet, text)
            check_editable(
                spreadsheet, sheet, (area[0], area[1], area[2], area[3]), principal.email
            )
            _, _, cleared = clear(spreadsheet, text)
            self.sandbox.record(principal.email, spreadsheet_id, "values.clear", cleared)
        return self.respond(request, {"spreadsheetId": spreadsheet_id, "clearedRange": cleared})

    async def batch_clear(self, request: Request, spreadsheet_id: str) -> JSONResponse:
        """values.batchClear: every range validated before any is cleared."""
        body = await json_body(request, {"ranges"})
        ranges = body.get("ranges") or []
        if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
            raise invalid_argument(
                "Invalid JSON payload received. 'ranges' must be a list of strings."
            )
        with self.sandbox.lock:
            principal, spreadsheet = self.open_spreadsheet(request, spreadsheet_id, "write")
            for text in ranges:
                sheet, r0, r1, c0, c1 = resolve(spreadsheet, text)
                check_editable(spreadsheet, sheet, (r0, r1, c0, c1), principal.email)
            cleared = [clear(spreadsheet, text)[2] for text in ranges]
            self.sandbox.record(
                principal.email, spreadsheet_id, "values.batchClear", ",".join(cleared)
            )
        body = {"spreadsheetId": spreadsheet_id}
        if cleared:
            body["clearedRanges"] = cleared
        return self.respond(request, body)


def _guard(spreadsheet: Spreadsheet, write: Write, email: str) -> None:
    """Google's 403 when a planned write touches a protected range `email` may not edit."""
    area = (write.row, write.row + write.height, write.col, write.col + write.width)
    check_editable(spreadsheet, write.sheet, area, email)
