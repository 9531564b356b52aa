"""Authenticate admin API requests before the app reads anything of them.

FastAPI reads and parses a request's body before it runs the route's dependencies, so a
token check in a dependency alone lets anyone make the server hold a body in memory. This
middleware checks the bearer token of every `/admin/...` request against the same
`TokenTable` first and answers 401 without reading the body; the route dependencies
(`syncd.api.auth`) still check the role (viewer or admin) afterwards.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from syncd.api.auth import Caller, TokenTable, challenge
from syncd.api.refusals import refuse

log = logging.getLogger(__name__)

ADMIN_PATH_PREFIX = "/admin/"


def bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def is_admin_path(scope: Scope) -> bool:
    """The request is for the admin API."""
    return str(scope.get("path", "")).startswith(ADMIN_PATH_PREFIX)


def client_address(scope: Scope) -> str:
    """The caller's address as the server saw it (after any trusted proxy headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "?"


def admin_caller(scope: Scope, tokens: TokenTable) -> Caller | None:
    """Who an admin request's bearer token belongs to, or None."""
    token = bearer_token(scope)
    return tokens.identify(token) if token is not None else None


class AdminGuardMiddleware:
    """401 for an `/admin/...` request without a configured bearer token, body unread."""

    def __init__(self, app: ASGIApp, *, tokens: TokenTable) -> None:
        self.app, self.tokens = app, tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a known token on; refuse anything else before the app sees it."""
        if scope["type"] != "http" or not is_admin_path(scope):
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        if token is None:
            await refuse(
                scope,
                receive,
                send,
                401,
                "a bearer token is required (Authorization: Bearer <token>)",
                {"WWW-Authenticate": challenge(invalid=False)},
            )
            return
        if self.tokens.identify(token) is None:
            # Never log the token or the header: only that a token was refused, and from where.
            log.warning(
                "admin API: refused an unknown token for %s %s from %s",
                scope.get("method", "?"),
                scope.get("path", "?"),
                client_address(scope),
            )
            await refuse(
                scope,
                receive,
                send,
                401,
                "the bearer token is not valid",
                {"WWW-Authenticate": challenge(invalid=True)},
            )
            return
        await self.app(scope, receive, send)
