"""Request parsing and the auth-quota-lookup sequence shared by the API routes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from fastapi import Request
from fastapi.responses import JSONResponse

from syncd_sandbox.sheets.auth import Principal
from syncd_sandbox.sheets.errors import (
    invalid_argument,
    not_found,
    permission_denied,
)
from syncd_sandbox.sheets.fieldmask import FieldMaskError, Mask, parse_mask, select
from syncd_sandbox.sheets.quotas import Kind
from syncd_sandbox.sheets.render import DATE_TIME_RENDERS, VALUE_RENDERS
from syncd_sandbox.sheets.state import Spreadsheet
from syncd_sandbox.sheets.values import (
    INPUT_OPTIONS,
    MAJOR_DIMENSIONS,
    InputOption,
    ReadOptions,
)

if TYPE_CHECKING:
    from syncd_sandbox.sheets.host import SheetsHost

E = TypeVar("E", bound=str)
VALUE_RANGE_KEYS = {"range", "majorDimension", "values"}


async def json_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    """The JSON object body; unknown top-level names are refused as Google refuses them."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise invalid_argument("Invalid JSON payload received. Unexpected token.") from exc
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    for key in body:
        if key not in allowed:
            raise invalid_argument(
                f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.'
            )
    return body


def raw_range(request: Request, suffix: str = "") -> str:
    """The range as sent: taken from the undecoded path, `:append`/`:clear` cut, then decoded."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    tail = raw.decode("latin-1").partition("/values/")[2]
    if suffix and tail.endswith(suffix):
        tail = tail[: -len(suffix)]
    return unquote(tail)


def field_mask(fields: str) -> Mask:
    """The `fields=` partial-response mask, or 400 when it does not parse."""
    try:
        return parse_mask(fields)
    except FieldMaskError as exc:
        raise invalid_argument(f"Invalid field selection {fields}") from exc


def enum_param(value: Any, allowed: tuple[E, ...], field: str, type_name: str, default: E) -> E:
    """An enum parameter, checked against its allowed values."""
    if value is None or value == "":
        return default
    for option in allowed:
        if option == value:
            return option
    raise invalid_argument(
        f"Invalid value at '{field}' "
        f'(type.googleapis.com/google.apps.sheets.v4.{type_name}), "{value}"'
    )


def flag(value: Any, field: str) -> bool:
    """A boolean parameter (`true`/`false`, or a JSON bool)."""
    if value is None or value == "" or value is False:
        return False
    if value is True or str(value).lower() == "true":
        return True
    if str(value).lower() == "false":
        return False
    raise invalid_argument(f"Invalid value at '{field}' (TYPE_BOOL), \"{value}\"")


def read_options(params: Any) -> ReadOptions:
    """majorDimension, valueRenderOption and dateTimeRenderOption of a read."""
    return ReadOptions(
        major=enum_param(
            params.get("majorDimension"), MAJOR_DIMENSIONS, "major_dimension", "Dimension", "ROWS"
        ),
        render=enum_param(
            params.get("valueRenderOption"),
            VALUE_RENDERS,
            "value_render_option",
            "ValueRenderOption",
            "FORMATTED_VALUE",
        ),
        date_time=enum_param(
            params.get("dateTimeRenderOption"),
            DATE_TIME_RENDERS,
            "date_time_render_option",
            "DateTimeRenderOption",
            "SERIAL_NUMBER",
        ),
    )


def response_options(params: Any) -> ReadOptions:
    """How a write renders `updatedData` when includeValuesInResponse is set."""
    return ReadOptions(
        render=enum_param(
            params.get("responseValueRenderOption"),
            VALUE_RENDERS,
            "response_value_render_option",
            "ValueRenderOption",
            "FORMATTED_VALUE",
        ),
        date_time=enum_param(
            params.get("responseDateTimeRenderOption"),
            DATE_TIME_RENDERS,
            "response_date_time_render_option",
            "DateTimeRenderOption",
            "SERIAL_NUMBER",
        ),
    )


def input_option(value: Any) -> InputOption:
    """valueInputOption, which every write must name."""
    if value is None or value == "" or value == "INPUT_VALUE_OPTION_UNSPECIFIED":
        raise invalid_argument("'valueInputOption' is required but not specified")
    return enum_param(value, INPUT_OPTIONS, "value_input_option", "ValueInputOption", "RAW")


class ApiBase:
    """Endpoint groups share this: authenticate, count quota, find the spreadsheet, answer."""

    def __init__(self, sandbox: SheetsHost) -> None:
        self.sandbox = sandbox

    def authorize(
        self, request: Request, spreadsheet_id: str | None, kind: Kind
    ) -> tuple[Principal, Spreadsheet | None]:
        """Authenticate, check scopes, count quota, then find the spreadsheet (404/403)."""
        principal = self.sandbox.auth.authenticate(request.headers.get("authorization"))
        principal.require(write=kind == "write")
        self.sandbox.quotas.take(principal.email, kind)
        if spreadsheet_id is None:
            return principal, None
        spreadsheet = self.sandbox.spreadsheets.get(spreadsheet_id)
        if spreadsheet is None:
            raise not_found()
        role = spreadsheet.role(principal.email)
        if role is None or (kind == "write" and role not in ("owner", "writer")):
            raise permission_denied()
        return principal, spreadsheet

    def open_spreadsheet(
        self, request: Request, spreadsheet_id: str, kind: Kind
    ) -> tuple[Principal, Spreadsheet]:
        """`authorize` for a call that names a spreadsheet."""
        principal, spreadsheet = self.authorize(request, spreadsheet_id, kind)
        assert spreadsheet is not None
        return principal, spreadsheet

    @staticmethod
    def respond(request: Request, body: dict[str, Any]) -> JSONResponse:
        """The JSON answer, cut down to `fields=` when given."""
        fields = request.query_params.get("fields")
        if fields:
            body = select(body, field_mask(fields))
        return JSONResponse(body)
