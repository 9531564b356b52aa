"""ShotGrid's error envelope: `{"errors": [{id, status, code, title, source, detail, meta}]}`.

Shapes and codes come from recorded real-site responses (shotgrid_api_ruby VCR cassettes,
sg-groundtruth probes): 404 code 104 "Not Found", unknown fields 400 code 103, invalid values
400 code 104. Codes for 401 (102), 415 (103), 429 (109) and 5xx (100) are assumptions: no
recording of them was found.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.responses import JSONResponse

CODE_SERVER = 100
CODE_AUTH = 102
CODE_PARAMETERS = 103
CODE_FAILED = 104
CODE_THROTTLED = 109


class SgError(Exception):
    """One ShotGrid API error; rendered as the errors envelope."""

    def __init__(
        self,
        status: int,
        title: str,
        *,
        code: int = CODE_PARAMETERS,
        detail: str | None = None,
        source: Any = None,
        meta: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status, self.title, self.code = status, title, code
        self.detail, self.source, self.meta = detail, source, meta
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body the real API sends."""
        return envelope(
            self.status,
            self.title,
            code=self.code,
            detail=self.detail,
            source=self.source,
            meta=self.meta,
        )

    def response(self) -> JSONResponse:
        """The error as an HTTP response."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def envelope(
    status: int,
    title: str,
    *,
    code: int,
    detail: str | None = None,
    source: Any = None,
    meta: Any = None,
) -> dict[str, Any]:
    """Build `{"errors": [...]}` with a fresh per-request error id, as the site does."""
    error = {
        "id": uuid.uuid4().hex,
        "status": status,
        "code": code,
        "title": title,
        "source": source,
        "detail": detail,
        "meta": meta,
    }
    return {"errors": [error]}


def not_found(entity_type: str, entity_id: int | str) -> SgError:
    """The recorded 404 for a missing (or retired) record."""
    return SgError(
        404,
        "Not Found",
        code=CODE_FAILED,
        detail=f"Entity of type [{entity_type}] with id={entity_id} does not exist.",
    )


def unknown_entity_type(name: str) -> SgError:
    """404 for a path naming no entity type."""
    return SgError(
        404, "Not Found", code=CODE_PARAMETERS, detail=f"Entity type '{name}' does not exist."
    )


def unsupported_media(content_type: str, allowed: tuple[str, ...]) -> SgError:
    """415 naming the accepted content types, as `_search` and `_batch` answer."""
    names = ", ".join(f"'{a}'" for a in allowed)
    return SgError(
        415,
        f"Unsupported Content-Type '{content_type}'",
        source={"content_type": f"Content-Type must be one of: {names}."},
    )


def unauthorized(detail: str) -> SgError:
    """401 for a missing, unknown or expired bearer token (body shape is an assumption)."""
    return SgError(
        401,
        "Unauthorized",
        code=CODE_AUTH,
        detail=detail,
        headers={"WWW-Authenticate": 'Bearer realm="ShotGrid"'},
    )


def fault(status: int) -> JSONResponse:
    """An injected 5xx in the envelope ("Shotgun Server Error" is what the site titles a 500)."""
    title = "Shotgun Server Error" if status == 500 else "Service Unavailable"
    return JSONResponse(envelope(status, title, code=CODE_SERVER), status_code=status)
