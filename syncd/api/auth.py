"""Bearer tokens for the admin API, with two roles: `admin` (change things) and `viewer` (read).

Tokens are configured by name (`SYNCD_API__ADMIN_TOKENS__MIA=...`,
`SYNCD_API__VIEWER_TOKENS__DASHBOARD=...`); the name is who a change is recorded as. Only the
SHA-256 digest of each token is kept once the app is built, and a presented token is hashed
and compared with every digest in constant time (`hmac.compare_digest`, no early exit), so
neither the token nor its position in the table leaks through timing. Tokens are read from
the `Authorization` header only, never from the URL.

- no token, or one that is not configured: 401 with `WWW-Authenticate: Bearer`
- a viewer token on an admin operation: 403
- no tokens configured at all: every request gets 401, and the log says why, once
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from syncd.settings import ApiSettings

log = logging.getLogger(__name__)

# Tokens shorter than this are easy to guess; they still work, with a warning at start-up.
MIN_TOKEN_LENGTH = 24


class Role(StrEnum):
    """What a token may do."""

    VIEWER = "viewer"  # read mappings, conflicts, status, records
    ADMIN = "admin"  # also edit mappings, resolve conflicts, trigger syncs


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the configured token name and its role."""

    name: str
    role: Role


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class TokenTable:
    """The configured tokens, kept only as SHA-256 digests."""

    def __init__(self, admin: Mapping[str, SecretStr], viewer: Mapping[str, SecretStr]) -> None:
        # Admins first: a token configured in both lists gets the admin role.
        self._entries: list[tuple[bytes, Caller]] = []
        for role, tokens in ((Role.ADMIN, admin), (Role.VIEWER, viewer)):
            for name, secret in sorted(tokens.items()):
                value = secret.get_secret_value()
                if not value.strip():
                    log.warning("admin API: %s token %r is empty and is ignored", role, name)
                    continue
                if len(value) < MIN_TOKEN_LENGTH:
                    log.warning(
                        "admin API: %s token %r is shorter than %d characters; "
                        "use a random one (e.g. `openssl rand -hex 32`)",
                        role,
                        name,
                        MIN_TOKEN_LENGTH,
                    )
                self._entries.append((_digest(value), Caller(name, role)))
        if not self._entries:
            log.warning(
                "admin API: no tokens are configured, so every admin API request is refused "
                "(401). Set SYNCD_API__ADMIN_TOKENS__<NAME> or SYNCD_API__VIEWER_TOKENS__<NAME>."
            )
        elif not any(caller.role is Role.ADMIN for _, caller in self._entries):
            log.warning(
                "admin API: only viewer tokens are configured; admin operations are refused "
                "(set SYNCD_API__ADMIN_TOKENS__<NAME> to allow them)"
            )

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> TokenTable:
        """The tokens of `[api]` (set through the environment)."""
        return cls(settings.admin_tokens, settings.viewer_tokens)

    def __len__(self) -> int:
        return len(self._entries)

    def identify(self, token: str) -> Caller | None:
        """The caller a token belongs to, or None; compares against every digest."""
        presented = _digest(token)
        found: Caller | None = None
        for stored, caller in self._entries:
            if hmac.compare_digest(stored, presented) and found is None:
                found = caller
        return found


bearer = HTTPBearer(
    scheme_name="bearer",
    description="A token configured in `[api] admin_tokens` or `[api] viewer_tokens` "
    "(through the environment); see docs/admin-api.md.",
    auto_error=False,
)


def challenge(*, invalid: bool) -> str:
    """The `WWW-Authenticate` value of a 401: which scheme, and whether a token was refused."""
    return 'Bearer realm="syncd"' + (', error="invalid_token"' if invalid else "")


def _unauthorized(detail: str, *, invalid: bool) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge(invalid=invalid)})


def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The caller behind the request's bearer token; 401 when there is none or it is unknown."""
    tokens: TokenTable | None = getattr(request.app.state, "admin_tokens", None)
    if credentials is None:
        raise _unauthorized(
            "a bearer token is required (Authorization: Bearer <token>)", invalid=False
        )
    caller = tokens.identify(credentials.credentials) if tokens is not None else None
    if caller is None:
        # Never log the token or the header: only that a token was refused, and from where.
        log.warning(
            "admin API: refused an unknown token for %s %s from %s",
            request.method,
            request.url.path,
            request.client.host if request.client else "?",
        )
        raise _unauthorized("the bearer token is not valid", invalid=True)
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def require_viewer(caller: CallerDep) -> str:
    """Any configured token (viewer or admin); returns the token name."""
    return caller.name


def require_admin(caller: CallerDep) -> str:
    """An admin token; 403 for a viewer. Returns the token name (who the change is by)."""
    if caller.role is not Role.ADMIN:
        raise HTTPException(
            403,
            f"this operation needs an admin token; {caller.name!r} is a viewer token",
            headers={"WWW-Authenticate": 'Bearer realm="syncd", error="insufficient_scope"'},
        )
    return caller.name


ViewerDep = Annotated[str, Depends(require_viewer)]
AdminDep = Annotated[str, Depends(require_admin)]
