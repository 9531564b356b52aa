"""Google's error envelope `{"error": {"code", "message", "status", ...}}`, as Sheets sends it."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

SHEETS_SERVICE = "sheets.googleapis.com"
AUTH_HELP = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class SheetsApiError(Exception):
    """An API failure rendered in Google's envelope; raise it anywhere in a request."""

    def __init__(
        self,
        code: int,
        status: str,
        message: str,
        *,
        errors: list[dict[str, str]] | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message
        self.errors, self.details, self.headers = errors, details, headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body Google would answer with."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            error["errors"] = self.errors
        error["status"] = self.status
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def response(self) -> JSONResponse:
        """The HTTP response for this error."""
        return JSONResponse(self.body(), status_code=self.code, headers=self.headers)


def invalid_argument(message: str) -> SheetsApiError:
    """400 INVALID_ARGUMENT, e.g. `Unable to parse range: 'Nope'!A1`."""
    return SheetsApiError(400, "INVALID_ARGUMENT", message)


def not_found(message: str = "Requested entity was not found.") -> SheetsApiError:
    """404 NOT_FOUND: unknown spreadsheet (or path)."""
    return SheetsApiError(404, "NOT_FOUND", message)


def permission_denied(message: str = "The caller does not have permission") -> SheetsApiError:
    """403 PERMISSION_DENIED: the spreadsheet is not shared with the caller."""
    return SheetsApiError(403, "PERMISSION_DENIED", message)


def insufficient_scopes() -> SheetsApiError:
    """403 for a token whose scopes do not cover the call."""
    return SheetsApiError(
        403,
        "PERMISSION_DENIED",
        "Request had insufficient authentication scopes.",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": {"service": SHEETS_SERVICE, "method": "sheets"},
            }
        ],
    )


def unauthenticated(*, missing: bool) -> SheetsApiError:
    """401 UNAUTHENTICATED: no bearer token, or one that is unknown or expired."""
    if missing:
        message = f"Request is missing required authentication credential. {AUTH_HELP}"
        challenge = 'Bearer realm="https://accounts.google.com/"'
    else:
        message = f"Request had invalid authentication credentials. {AUTH_HELP}"
        challenge = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
    return SheetsApiError(401, "UNAUTHENTICATED", message, headers={"WWW-Authenticate": challenge})


def drive_error(
    code: int, message: str, reason: str, *, location: str | None = None
) -> SheetsApiError:
    """Drive v3's envelope: the message again in `errors[]` with a reason (and a location)."""
    detail = {"message": message, "domain": "global", "reason": reason}
    if location is not None:
        detail.update(locationType="parameter", location=location)
    statuses = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
    return SheetsApiError(code, statuses.get(code, "UNKNOWN"), message, errors=[detail])


def server_fault(status: int) -> JSONResponse:
    """The body of an injected 500/503 fault (the knobs middleware's fault responder)."""
    if status == 503:
        error = SheetsApiError(503, "UNAVAILABLE", "The service is currently unavailable.")
    else:
        error = SheetsApiError(status, "INTERNAL", "Internal error encountered.")
    return error.response()
