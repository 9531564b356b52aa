"""Answers a middleware sends before the app runs: JSON `{"detail": ...}` like FastAPI's."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send


def has_unread_body(scope: Scope) -> bool:
    """The request announces a body (a length above zero, or chunks)."""
    headers = Headers(scope=scope)
    length = headers.get("content-length")
    return "chunked" in headers.get("transfer-encoding", "").lower() or (
        length is not None and length.strip() not in ("", "0")
    )


async def refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Answer `status` without reading the request body.

    A body the request still carries is never read: the connection is closed after the
    answer (`Connection: close`), so the server discards the rest instead of buffering it.
    """
    answer_headers = dict(headers or {})
    if has_unread_body(scope):
        answer_headers["connection"] = "close"
    response = JSONResponse({"detail": detail}, status_code=status, headers=answer_headers)
    await response(scope, receive, send)
