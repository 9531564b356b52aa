"""`POST /api/v1/auth/access_token`: grants, bearer tokens, expiry.

Reply shape and the 600 s lifetime are recorded (shotgrid_api_ruby `connects` cassette). The
grant matrix follows sg-groundtruth probe 027: `client_credentials` for a script,
`password` for a person (400 "Can't authenticate user"), `refresh_token` (401 when refused),
an unknown grant 400 "Unsupported grant_type". Like the site's, a token is three dot-separated
segments whose middle one is base64url JSON carrying the `user` claim, so a client can learn
its own ApiUser id the way the real API requires.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import CODE_AUTH, SgError, unauthorized
from .store import Link


@dataclass(frozen=True, slots=True)
class Grant:
    """Who a token acts for and until when."""

    user: Link
    auth_type: str
    expires_at: datetime


class TokenStore:
    """Issued access and refresh tokens; expiry is read from the injected clock."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        lifetime_seconds: int,
        refresh_lifetime_seconds: int,
    ) -> None:
        self.clock = clock
        self.lifetime_seconds = lifetime_seconds
        self.refresh_lifetime_seconds = refresh_lifetime_seconds
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, user: Link, auth_type: str) -> dict[str, Any]:
        """Mint an access/refresh pair; the reply body of the token endpoint."""
        now = self.clock()
        claims = {
            "user": {"type": user[0], "id": user[1]},
            "auth_type": auth_type,
            "sudo_as_login": None,
            "exp": int(now.timestamp()) + self.lifetime_seconds,
        }
        header = _b64({"alg": "none", "typ": "JWT"})
        access = f"{header}.{_b64(claims)}.{secrets.token_urlsafe(32)}"
        refresh = secrets.token_urlsafe(48)
        with self._lock:
            self._access[access] = Grant(
                user, auth_type, now + timedelta(seconds=self.lifetime_seconds)
            )
            self._refresh[refresh] = Grant(
                user, auth_type, now + timedelta(seconds=self.refresh_lifetime_seconds)
            )
        return {
            "token_type": "Bearer",
            "access_token": access,
            "expires_in": self.lifetime_seconds,
            "refresh_token": refresh,
        }

    def refresh(self, token: str) -> dict[str, Any]:
        """Trade a refresh token (single use) for a new pair; 401 when unknown or expired."""
        with self._lock:
            grant = self._refresh.pop(token, None)
        if grant is None or grant.expires_at <= self.clock():
            raise SgError(401, "Unauthorized", code=CODE_AUTH)
        return self.issue(grant.user, grant.auth_type)

    def authenticate(self, authorization: str | None) -> Grant:
        """The grant behind an `Authorization: Bearer ...` header; 401 otherwise."""
        if not authorization:
            raise unauthorized("Missing Authorization header.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("Authorization header must be 'Bearer <access_token>'.")
        with self._lock:
            grant = self._access.get(token.strip())
            if grant is not None and grant.expires_at <= self.clock():
                del self._access[token.strip()]
                raise unauthorized("Access token has expired.")
        if grant is None:
            raise unauthorized("Invalid access token.")
        return grant


def _b64(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
