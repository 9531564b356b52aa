"""A size limit on every request body, enforced before and while the body is read.

A declared `Content-Length` over the limit is refused at once (413) without reading a byte
of the body; a chunked body (or one longer than it said) is cut off as soon as it passes the
limit, so the app never holds more than the limit in memory.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncd.api.refusals import refuse


class BodyTooLarge(HTTPException):
    """The request body passed the limit (a 413 wherever it is raised)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuses bodies larger than `limit` bytes on every route."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the bytes as the app reads them."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.limit:
            await refuse(scope, receive, send, 413, BodyTooLarge(self.limit).detail)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started |= message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as exc:
            # The app let it through (FastAPI answers it itself); answer if nothing was sent.
            if started:
                raise
            await refuse(scope, receive, send, 413, exc.detail)
