"""HTTP calls to the ShotGrid REST API v1, and nothing else: auth, `_search`, `_batch`.

Every call takes a token from the client-side rate limiter, runs under the shared retry
policy (`syncd.http.retry_policy`: transient errors only, `Retry-After` honoured, bounded)
and has its failures classified by `syncd.http.raise_for_status`.

Auth is the client-credentials grant of an API script. The access token lives
`expires_in` seconds (600 by default); the client authenticates again shortly before it
expires and, once, when a call answers 401 (a token revoked or expired early), then retries
that call.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import httpx

from syncd.errors import PermanentError
from syncd.http import (
    CREDENTIAL_STATUSES,
    RateLimiter,
    raise_for_status,
    retry_policy,
    transport_error,
)

from .config import ShotGridConfig

log = logging.getLogger(__name__)

# `_search` refuses plain JSON (415); the hash form nests and/or groups, which keyset
# paging needs. Writes and `_batch` take plain JSON (and 415 the vendor types).
SEARCH_CONTENT_TYPE = "application/vnd+shotgun.api3_hash+json"
JSON_CONTENT_TYPE = "application/json"
USER_AGENT = "syncd (ShotGrid connector)"
# The token endpoint answers a wrong script name or key with 400 ("Can't authenticate
# script ..."), not 401: both mean the credentials were refused.
TOKEN_REFUSALS = frozenset({400, 401})

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RefusedError(PermanentError):
    """The site refused a call for good (a 4xx); `errors` is its `{"errors": [...]}` list."""

    def __init__(
        self, connector: str, message: str, *, status: int, errors: list[dict[str, Any]]
    ) -> None:
        self.status, self.errors = status, errors
        super().__init__(connector, message)


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_at: float  # on the injected clock


def _errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The `errors` list of ShotGrid's error envelope ([] when the body is something else)."""
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [e for e in errors if isinstance(e, dict)]


def describe_error(error: dict[str, Any]) -> str:
    """One envelope error as text: its title, and its detail when it has one."""
    parts = [str(error[k]) for k in ("title", "detail") if error.get(k)]
    return ": ".join(parts) or f"HTTP {error.get('status', '?')}"


class ShotGridClient:
    """An authenticated, rate-limited, retrying httpx session with one ShotGrid site."""

    def __init__(
        self,
        name: str,
        config: ShotGridConfig,
        *,
        http: httpx.Client,
        clock: Clock,
        sleep: Sleep,
        limiter: RateLimiter,
    ) -> None:
        self.name, self._config = name, config
        self._http, self._clock, self._sleep, self._limiter = http, clock, sleep, limiter
        self._api = config.api_base()
        self._auth_setting = f"connectors.{name}.script_key"
        self._token: _Token | None = None
        self._token_lock = threading.Lock()

    # -- auth -----------------------------------------------------------------------------
    def access_token(self) -> str:
        """A valid access token, authenticating first when there is none or it is about to end.

        Not retried by itself: calls run it inside their retried attempt. Use
        `retried_access_token()` when the token itself is what is wanted.
        """
        with self._token_lock:
            token = self._token
            if token is None or self._clock() >= token.refresh_at:
                token = self._token = self._authenticate()
            return token.value

    def retried_access_token(self) -> str:
        """`access_token()` under the retry policy."""
        return retry_policy(sleep=self._sleep)(self.access_token)

    def _forget(self, value: str) -> None:
        with self._token_lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def _authenticate(self) -> _Token:
        """`POST /auth/access_token` with the script's client credentials."""
        self._limiter.acquire()
        secret = self._config.script_key.get_secret_value()
        form = {
            "grant_type": "client_credentials",
            "client_id": self._config.script_name,
            "client_secret": secret,
        }
        try:
            response = self._http.post(
                f"{self._api}/auth/access_token",
                data=form,
                headers={"Accept": JSON_CONTENT_TYPE, "User-Agent": USER_AGENT},
            )
        except httpx.TransportError as exc:
            raise transport_error(self.name, exc) from exc
        self._raise_for(
            response,
            credential_statuses=TOKEN_REFUSALS,
            refused=f"ShotGrid refused API script {self._config.script_name!r}",
        )
        try:
            body = response.json()
            value, lifetime = str(body["access_token"]), float(body.get("expires_in") or 600)
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentError(self.name, "the token endpoint sent no access_token") from exc
        margin = min(self._config.token_margin_seconds, lifetime / 2)
        log.debug("[%s] authenticated; token valid for %ss", self.name, lifetime)
        return _Token(value, self._clock() + lifetime - margin)

    # -- calls ----------------------------------------------------------------------------
    def search(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /entity/{entity}/_search` (hash filters): one page, `{"data", "links"}`."""
        reply = self._call("POST", f"/entity/{entity}/_search", body, SEARCH_CONTENT_TYPE)
        if not isinstance(reply, dict) or not isinstance(reply.get("data"), list):
            raise PermanentError(self.name, f"_search on {entity} sent no data list")
        return reply

    def batch(self, requests: list[dict[str, Any]]) -> list[Any]:
        """`POST /entity/_batch`: every request in one transaction; the results in order.

        Raises `RefusedError` (carrying the site's errors) when the batch was refused.
        """
        reply = self._call("POST", "/entity/_batch", {"requests": requests}, JSON_CONTENT_TYPE)
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, list):
            raise PermanentError(self.name, "_batch sent no data list")
        return data

    def _call(self, method: str, path: str, body: Any, content_type: str) -> Any:
        # `default=str`: a value JSON cannot hold (a Decimal) reaches the site, which refuses
        # that one update with its reason, instead of failing the whole push here.
        content = json.dumps(body, separators=(",", ":"), default=str).encode()

        def attempt() -> Any:
            token = self.access_token()
            response = self._send(method, path, content, content_type, token)
            if response.status_code == 401:
                # Expired early or revoked: authenticate again, once, and retry the call.
                log.info("[%s] token refused; authenticating again", self.name)
                self._forget(token)
                response = self._send(method, path, content, content_type, self.access_token())
            self._raise_for(response)
            try:
                return response.json()
            except ValueError as exc:
                raise PermanentError(self.name, f"{method} {path} answered non-JSON") from exc

        return retry_policy(sleep=self._sleep)(attempt)

    def _send(
        self, method: str, path: str, content: bytes, content_type: str, token: str
    ) -> httpx.Response:
        self._limiter.acquire()
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": JSON_CONTENT_TYPE,
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
        }
        try:
            return self._http.request(
                method, f"{self._api}{path}", content=content, headers=headers
            )
        except httpx.TransportError as exc:
            raise transport_error(self.name, exc) from exc

    # -- errors ---------------------------------------------------------------------------
    def _message(self, response: httpx.Response) -> str:
        errors = _errors_of(response)
        text = "; ".join(describe_error(e) for e in errors) if errors else response.text
        # Never let a credential echoed by a proxy or server reach a log or an exception.
        for secret in (self._config.script_key.get_secret_value(), self._current_token()):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _current_token(self) -> str | None:
        token = self._token
        return token.value if token is not None else None

    def _raise_for(
        self,
        response: httpx.Response,
        *,
        credential_statuses: Collection[int] = CREDENTIAL_STATUSES,
        refused: str = "the credentials were refused",
    ) -> None:
        if response.is_success:
            return
        message = self._message(response)
        try:
            raise_for_status(
                self.name,
                response.status_code,
                response.headers,
                message,
                auth_setting=self._auth_setting,
                credential_statuses=credential_statuses,
                refused=refused,
            )
        except PermanentError as exc:
            text = str(exc).removeprefix(f"[{self.name}] ")
            raise RefusedError(
                self.name, text, status=response.status_code, errors=_errors_of(response)
            ) from None

    def close(self) -> None:
        """Close the HTTP session."""
        self._http.close()
