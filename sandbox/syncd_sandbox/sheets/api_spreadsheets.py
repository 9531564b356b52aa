"""`spreadsheets.get/create/batchUpdate`, Google's token endpoint and the boundary lookup."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import JSONResponse

from syncd_sandbox.sheets.api_common import ApiBase, field_mask, flag, json_body
from syncd_sandbox.sheets.auth import TokenError
from syncd_sandbox.sheets.batch import apply_batch
from syncd_sandbox.sheets.drive import drive_time
from syncd_sandbox.sheets.errors import invalid_argument
from syncd_sandbox.sheets.metadata import render_spreadsheet
from syncd_sandbox.sheets.state import GridError, Spreadsheet
from syncd_sandbox.sheets.values import resolve


class SpreadsheetsApi(ApiBase):
    """Spreadsheet-level endpoints and auth endpoints."""

    async def get(self, request: Request, spreadsheet_id: str) -> JSONResponse:
        """spreadsheets.get: metadata, optionally with grid data for `ranges`."""
        params = request.query_params
        include = flag(params.get("includeGridData"), "include_grid_data")
        if params.get("fields"):
            # Google ignores includeGridData when a field mask is set; the mask decides.
            include = "data" in (field_mask(params["fields"]).get("sheets") or {})
        ranges = params.getlist("ranges")
        with self.sandbox.lock:
            principal, spreadsheet = self.open_spreadsheet(request, spreadsheet_id, "read")
            areas = None
            if ranges:
                areas = [
                    (sheet, (r0, r1, c0, c1))
                    for sheet, r0, r1, c0, c1 in (resolve(spreadsheet, t) for t in ranges)
                ]
            body = render_spreadsheet(
                spreadsheet, include_grid_data=include, areas=areas, viewer=principal.email
            )
        return self.respond(request, body)

    async def create(self, request: Request) -> JSONResponse:
        """spreadsheets.create: a new spreadsheet owned by (shared with) the caller."""
        body = await json_body(request, {"properties", "sheets", "spreadsheetId", "namedRanges"})
        properties = body.get("properties") or {}
        with self.sandbox.lock:
            principal, _ = self.authorize(request, None, "write")
            spreadsheet = Spreadsheet(
                self.sandbox.new_spreadsheet_id(),
                str(properties.get("title") or "Untitled spreadsheet"),
                locale=str(properties.get("locale") or "en_US"),
                time_zone=str(properties.get("timeZone") or self.sandbox.time_zone),
                owner=principal.email,
                created_time=drive_time(self.sandbox.clock()),
            )
            try:
                for sheet in body.get("sheets") or [{}]:
                    spreadsheet.add_sheet((sheet or {}).get("properties") or {})
            except GridError as exc:
                raise invalid_argument(str(exc)) from exc
            self.sandbox.spreadsheets[spreadsheet.spreadsheet_id] = spreadsheet
            self.sandbox.record(
                principal.email,
                spreadsheet.spreadsheet_id,
                "spreadsheets.create",
                spreadsheet.title,
            )
            result = render_spreadsheet(spreadsheet)
        return self.respond(request, result)

    async def batch_update(self, request: Request, spreadsheet_id: str) -> JSONResponse:
        """spreadsheets.batchUpdate: structural requests, all or nothing."""
        body = await json_body(
            request,
            {
                "requests",
                "includeSpreadsheetInResponse",
                "responseRanges",
                "responseIncludeGridData",
            },
        )
        with self.sandbox.lock:
            principal, spreadsheet = self.open_spreadsheet(request, spreadsheet_id, "write")
            replies = apply_batch(
                spreadsheet,
                body.get("requests"),
                currency_symbols=self.sandbox.currency_symbols,
                actor=principal.email,
            )
            kinds = ",".join(next(iter(r)) for r in body["requests"])
            self.sandbox.record(principal.email, spreadsheet_id, "spreadsheets.batchUpdate", kinds)
            result: dict[str, Any] = {"spreadsheetId": spreadsheet_id, "replies": replies}
            if flag(body.get("includeSpreadsheetInResponse"), "include_spreadsheet_in_response"):
                ranges = body.get("responseRanges") or []
                areas = [
                    (s, (r0, r1, c0, c1))
                    for s, r0, r1, c0, c1 in (resolve(spreadsheet, t) for t in ranges)
                ]
                result["updatedSpreadsheet"] = render_spreadsheet(
                    spreadsheet,
                    include_grid_data=flag(
                        body.get("responseIncludeGridData"), "response_include_grid_data"
                    ),
                    areas=areas or None,
                    viewer=principal.email,
                )
        return self.respond(request, result)

    async def token(self, request: Request) -> JSONResponse:
        """Google's OAuth token endpoint for the jwt-bearer grant."""
        form = {
            k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
        }
        endpoint = str(request.url.replace(query=""))
        headers = {
            "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
            "Pragma": "no-cache",
        }
        try:
            body = self.sandbox.auth.exchange(form, endpoint)
        except TokenError as exc:
            return JSONResponse(exc.body(), status_code=400, headers=headers)
        return JSONResponse(body, headers=headers)

    async def allowed_locations(self, request: Request) -> JSONResponse:
        """IAM Credentials' Regional Access Boundary lookup: no boundary (the "0x0" no-op)."""
        self.sandbox.auth.authenticate(request.headers.get("authorization"))
        return JSONResponse({"locations": [], "encodedLocations": "0x0"})
