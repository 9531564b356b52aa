"""Service-account auth as Google does it: a signed JWT exchanged at the token URI for a bearer.

The sandbox makes its own service account (a fresh RSA key each run, never written to the
repo), hands out the JSON a user would download, verifies the RS256 assertion at
`POST /token`, and checks the bearer on every API call. Self-signed JWT bearers (what
google-auth sends for a non-Google `universe_domain`) are accepted too, as Google does.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from syncd_sandbox.sheets.errors import insufficient_scopes, unauthenticated

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
_ALSO_ACCEPTED_AUDIENCES = ("https://www.googleapis.com/oauth2/v4/token",)
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME_SECONDS = 3600
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
READ_SCOPES = frozenset(
    SCOPE_PREFIX + s
    for s in ("spreadsheets", "spreadsheets.readonly", "drive", "drive.readonly", "drive.file")
)
WRITE_SCOPES = frozenset(SCOPE_PREFIX + s for s in ("spreadsheets", "drive", "drive.file"))
SHEETS_AUDIENCE = "https://sheets.googleapis.com/"
_BAD_TIMES = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
CLOCK_SKEW_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a bearer token speaks for, and what it may do."""

    email: str
    scopes: frozenset[str]

    def require(self, *, write: bool) -> None:
        """403 unless the scopes cover a read (or a write)."""
        if not self.scopes & (WRITE_SCOPES if write else READ_SCOPES):
            raise insufficient_scopes()


class TokenError(Exception):
    """A refused token exchange: `{"error", "error_description"}` with HTTP 400."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description

    def body(self) -> dict[str, str]:
        """The OAuth error JSON."""
        return {"error": self.error, "error_description": self.description}


class ServiceAccount:
    """A service account with its RSA key; `info()` is the JSON key file a user downloads."""

    def __init__(
        self,
        email: str,
        *,
        project_id: str,
        private_key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        self.email, self.project_id = email, project_id
        self.private_key = private_key or rsa.generate_private_key(
            public_exponent=65537, key_size=2048
        )
        self.key_id = secrets.token_hex(20)
        self.client_id = str(10**20 + secrets.randbelow(9 * 10**20))

    @property
    def private_key_pem(self) -> str:
        """PKCS#8 PEM, as in Google's key files."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def info(self, token_uri: str = GOOGLE_TOKEN_URI) -> dict[str, str]:
        """The key JSON; `universe_domain` googleapis.com keeps google-auth on the token flow."""
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.key_id,
            "private_key": self.private_key_pem,
            "client_email": self.email,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": (
                "https://www.googleapis.com/robot/v1/metadata/x509/" + quote(self.email, safe="")
            ),
            "universe_domain": "googleapis.com",
        }


@dataclass(slots=True)
class _Issued:
    principal: Principal
    expires_at: datetime


class Authenticator:
    """Verifies assertions at the token endpoint and bearers on API calls; thread-safe."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, ServiceAccount] = {}
        self._tokens: dict[str, _Issued] = {}
        self.audiences: set[str] = {GOOGLE_TOKEN_URI, *_ALSO_ACCEPTED_AUDIENCES}

    def accept_audience(self, token_uri: str) -> None:
        """Accept assertions addressed to this token URI (the one in a handed-out key file)."""
        with self._lock:
            self.audiences.add(token_uri)

    def add_account(self, account: ServiceAccount) -> None:
        """Let this service account authenticate."""
        with self._lock:
            self._accounts[account.email] = account

    def remove_account(self, email: str) -> None:
        """Delete a service account (its key and tokens stop working)."""
        with self._lock:
            self._accounts.pop(email, None)
            self._tokens = {t: i for t, i in self._tokens.items() if i.principal.email != email}

    def expire_tokens(self) -> None:
        """Expire every issued access token, so clients must exchange a new assertion."""
        with self._lock:
            self._tokens.clear()

    def exchange(self, form: Mapping[str, str], endpoint_url: str) -> dict[str, Any]:
        """`POST /token`: verify the jwt-bearer assertion and issue an access token."""
        grant_type = form.get("grant_type", "")
        if grant_type != JWT_BEARER_GRANT:
            raise TokenError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        assertion = form.get("assertion", "")
        account, claims = self._verify(assertion)
        with self._lock:
            audiences = self.audiences | {endpoint_url}
        if claims.get("aud") not in audiences:
            raise TokenError("invalid_grant", "Invalid JWT: Failed audience check.")
        scope = claims.get("scope")
        if not isinstance(scope, str) or not scope.split():
            raise TokenError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = self.issue(Principal(account.email, frozenset(scope.split())))
        return {
            "access_token": token,
            "expires_in": TOKEN_LIFETIME_SECONDS - 1,
            "token_type": "Bearer",
        }

    def issue(self, principal: Principal) -> str:
        """Mint an access token for `principal`, valid for an hour of the sandbox clock."""
        token = "ya29.c.sandbox-" + secrets.token_urlsafe(48)
        expires_at = self._clock() + timedelta(seconds=TOKEN_LIFETIME_SECONDS)
        with self._lock:
            self._tokens[token] = _Issued(principal, expires_at)
        return token

    def _verify(self, assertion: str) -> tuple[ServiceAccount, dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise TokenError("invalid_grant", "Invalid JWT: malformed assertion.") from exc
        with self._lock:
            account = self._accounts.get(str(unverified.get("iss")))
        if account is None:
            raise TokenError("invalid_grant", "Invalid grant: account not found")
        if header.get("alg") != "RS256" or header.get("kid", account.key_id) != account.key_id:
            raise TokenError("invalid_grant", "Invalid JWT Signature.")
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                account.private_key.public_key(),
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenError("invalid_grant", "Invalid JWT Signature.") from exc
        now = self._clock().timestamp()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise TokenError("invalid_grant", _BAD_TIMES)
        if iat > now + CLOCK_SKEW_SECONDS or exp <= now or exp - iat > TOKEN_LIFETIME_SECONDS:
            raise TokenError("invalid_grant", _BAD_TIMES)
        return account, claims

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal behind an `Authorization: Bearer` header, or 401 UNAUTHENTICATED."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated(missing=True)
        token = token.strip()
        with self._lock:
            issued = self._tokens.get(token)
        if issued is not None:
            if issued.expires_at > self._clock():
                return issued.principal
            raise unauthenticated(missing=False)
        if token.count(".") == 2 and not token.startswith("ya29."):
            return self._self_signed(token)
        raise unauthenticated(missing=False)

    def _self_signed(self, token: str) -> Principal:
        """A self-signed service-account JWT used as the bearer (google-auth's "JWT access")."""
        try:
            account, claims = self._verify(token)
        except TokenError as exc:
            raise unauthenticated(missing=False) from exc
        scope = claims.get("scope")
        if isinstance(scope, str) and scope.split():
            return Principal(account.email, frozenset(scope.split()))
        if claims.get("aud") == SHEETS_AUDIENCE:
            return Principal(account.email, frozenset({SCOPE_PREFIX + "spreadsheets"}))
        raise unauthenticated(missing=False)
