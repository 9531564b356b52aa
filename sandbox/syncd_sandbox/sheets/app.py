"""FastAPI routes of the Sheets API v4, Google's token endpoint and the boundary lookup.

Ranges are read from the raw (undecoded) request path, so titles holding `/`, `:` or `'`
survive; gspread percent-encodes the whole range and appends a literal `:append`/`:clear`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from syncd_sandbox.knobs import install_knobs
from syncd_sandbox.sheets.api_drive import DriveApi
from syncd_sandbox.sheets.api_spreadsheets import SpreadsheetsApi
from syncd_sandbox.sheets.api_values import ValuesApi
from syncd_sandbox.sheets.control import control_router
from syncd_sandbox.sheets.errors import (
    SheetsApiError,
    invalid_argument,
    server_fault,
)
from syncd_sandbox.webhooks import webhook_router

if TYPE_CHECKING:
    from syncd_sandbox.sheets.host import SheetsHost


V4 = "/v4/spreadsheets"
DRIVE = "/drive/v3/files"
_HTTP_STATUS = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "INVALID_ARGUMENT",
}


def build_app(sandbox: SheetsHost) -> FastAPI:
    """Assemble the emulator's app (API, knobs, webhook control, person control)."""
    app = FastAPI(title="syncd sandbox: Google Sheets API v4 (and Drive v3 files)", version="v4")
    api = SpreadsheetsApi(sandbox)
    values = ValuesApi(sandbox)
    app.add_exception_handler(SheetsApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    # Literal-colon routes first: `{spreadsheet_id}` would otherwise swallow ":batchUpdate".
    app.add_api_route(f"{V4}", api.create, methods=["POST"])
    app.add_api_route(f"{V4}/{{spreadsheet_id}}:batchUpdate", api.batch_update, methods=["POST"])
    app.add_api_route(f"{V4}/{{spreadsheet_id}}/values:batchGet", values.batch_get, methods=["GET"])
    app.add_api_route(
        f"{V4}/{{spreadsheet_id}}/values:batchUpdate", values.batch_update, methods=["POST"]
    )
    app.add_api_route(
        f"{V4}/{{spreadsheet_id}}/values:batchClear", values.batch_clear, methods=["POST"]
    )
    app.add_api_route(
        f"{V4}/{{spreadsheet_id}}/values/{{range_:path}}:append",
        values.append,
        methods=["POST"],
    )
    app.add_api_route(
        f"{V4}/{{spreadsheet_id}}/values/{{range_:path}}:clear", values.clear, methods=["POST"]
    )
    app.add_api_route(
        f"{V4}/{{spreadsheet_id}}/values/{{range_:path}}", values.get, methods=["GET"]
    )
    app.add_api_route(
        f"{V4}/{{spreadsheet_id}}/values/{{range_:path}}", values.update, methods=["PUT"]
    )
    app.add_api_route(f"{V4}/{{spreadsheet_id}}", api.get, methods=["GET"])
    drive = DriveApi(sandbox)
    app.add_api_route(DRIVE, drive.list_files, methods=["GET"])
    app.add_api_route(DRIVE, drive.create_file, methods=["POST"])
    app.add_api_route(f"{DRIVE}/{{file_id}}", drive.get_file, methods=["GET"])
    app.add_api_route(f"{DRIVE}/{{file_id}}", drive.delete_file, methods=["DELETE"])
    app.add_api_route(f"{DRIVE}/{{file_id}}/copy", drive.copy_file, methods=["POST"])
    app.add_api_route(f"{DRIVE}/{{file_id}}/comments", drive.list_comments, methods=["GET"])
    app.add_api_route(f"{DRIVE}/{{file_id}}/comments", drive.create_comment, methods=["POST"])
    app.add_api_route(f"{DRIVE}/{{file_id}}/permissions", drive.create_permission, methods=["POST"])
    app.add_api_route(f"{DRIVE}/{{file_id}}/permissions", drive.list_permissions, methods=["GET"])
    app.add_api_route(
        f"{DRIVE}/{{file_id}}/permissions/{{permission}}",
        drive.delete_permission,
        methods=["DELETE"],
    )
    app.add_api_route("/token", api.token, methods=["POST"])
    app.add_api_route(
        "/v1/projects/-/serviceAccounts/{email}/allowedLocations",
        api.allowed_locations,
        methods=["GET"],
    )
    install_knobs(app, knobs=sandbox.knobs, calls=sandbox.calls, fault_response=server_fault)
    app.include_router(webhook_router(sandbox.webhooks))
    app.include_router(control_router(sandbox))
    return app


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SheetsApiError)
    return exc.response()


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return invalid_argument(
        f"Invalid JSON payload received. {where}: {first.get('msg', '')}"
    ).response()


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = _HTTP_STATUS.get(exc.status_code, "UNKNOWN")
    message = "Requested entity was not found." if exc.status_code == 404 else str(exc.detail)
    return SheetsApiError(exc.status_code, status, message).response()
