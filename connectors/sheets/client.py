"""Calls to the Google Sheets API v4 through gspread, and nothing else.

Every call goes by spreadsheet key through gspread's `HTTPClient` (`values:batchGet`,
`values:batchUpdate`, `spreadsheets.get`, `spreadsheets:batchUpdate`), never `gc.open(title)`,
which searches Drive. We skip `gspread.Spreadsheet` objects on purpose: constructing one
re-reads the metadata, a read-quota call each time, and gspread's default client never
retries. Instead each call waits for its client-side quota bucket (reads and writes are
separate 60-a-minute quotas per service account), runs under the shared retry policy, and
has its failure classified by `syncd.http.raise_for_status`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import google.auth.exceptions
import gspread
import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from syncd.errors import AuthError, TransientError
from syncd.http import RateLimiter, raise_for_status, retry_policy

from .config import SCOPES, SheetsConfig, parse_service_account
from .local_http import local_http_client

log = logging.getLogger(__name__)

T = TypeVar("T")
Kind = Literal["read", "write"]
HTTPClientFactory = type[HTTPClient]  # gspread's `http_client=`, called as (auth, session)


class SheetsClient:
    """A gspread client for one service account, with quotas, retries and clear errors."""

    def __init__(
        self,
        name: str,
        config: SheetsConfig,
        *,
        gspread_client: gspread.Client | None = None,
        http_client: HTTPClientFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name, self.config = name, config
        self._gc = gspread_client
        if gspread_client is not None:
            gspread_client.http_client.set_timeout(config.timeout_seconds)
        self._http_client = http_client
        self._sleep = sleep
        self._lock = threading.Lock()
        self._info: dict[str, Any] | None = None
        self.limiters: dict[Kind, RateLimiter] = {
            "read": RateLimiter.per_clock_minute(
                config.read_quota_per_minute, clock=clock, sleep=sleep
            ),
            "write": RateLimiter.per_clock_minute(
                config.write_quota_per_minute, clock=clock, sleep=sleep
            ),
        }

    # -- credentials ----------------------------------------------------------------------
    @property
    def auth_setting(self) -> str:
        """The setting an admin fixes when Google refuses the credentials."""
        return f"connectors.{self.name}.{self.config.credential_setting}"

    def service_account(self) -> dict[str, Any]:
        """The service-account key (read once); AuthError naming the setting if unusable."""
        with self._lock:
            if self._info is None:
                self._info = self._read_key()
            return self._info

    def _read_key(self) -> dict[str, Any]:
        config = self.config
        try:
            if config.service_account_info is not None:
                return parse_service_account(config.service_account_info.get_secret_value())
            assert config.service_account_file is not None  # the config insists on one
            text = config.service_account_file.read_text(encoding="utf-8")
            return parse_service_account(text)
        except OSError as exc:
            raise AuthError(
                self.name,
                f"cannot read the service-account key file: {exc.strerror or exc}",
                setting=self.auth_setting,
            ) from None
        except ValueError as exc:
            raise AuthError(self.name, str(exc), setting=self.auth_setting) from None

    @property
    def client_email(self) -> str:
        """The service account's email: who every API write is made as."""
        return str(self.service_account()["client_email"])

    def gspread(self) -> gspread.Client:
        """The gspread client, built on first use (no call is made until a request)."""
        info = self.service_account()
        with self._lock:
            if self._gc is None:
                factory = self._http_client or self._default_http_client()
                try:
                    gc = gspread.service_account_from_dict(
                        info, scopes=list(SCOPES), http_client=factory
                    )
                except (ValueError, KeyError):
                    # google-auth could not load the key; its message may quote key material.
                    raise AuthError(
                        self.name,
                        "the service-account key could not be loaded (is private_key intact?)",
                        setting=self.auth_setting,
                    ) from None
                gc.http_client.set_timeout(self.config.timeout_seconds)
                self._gc = gc
            return self._gc

    def _default_http_client(self) -> HTTPClientFactory:
        base = self.config.api_base_url
        if base is None:
            return HTTPClient  # no retries inside: ours apply, with an injectable sleep
        return local_http_client(base)

    # -- the calls ------------------------------------------------------------------------
    def batch_get(
        self, ranges: Sequence[str], *, spreadsheet_id: str | None = None
    ) -> list[dict[str, Any]]:
        """`values:batchGet`: one ValueRange per range, as displayed (one read call)."""
        sid = spreadsheet_id or self.config.spreadsheet_id
        params = {"majorDimension": "ROWS", "valueRenderOption": "FORMATTED_VALUE"}

        def call(http: HTTPClient) -> Any:
            return http.values_batch_get(sid, list(ranges), dict(params))

        reply = self._call("read", call, sid)
        value_ranges: list[dict[str, Any]] = reply.get("valueRanges", [])
        return value_ranges

    def batch_update_values(
        self, data: Sequence[Mapping[str, Any]], *, spreadsheet_id: str | None = None
    ) -> dict[str, Any]:
        """`values:batchUpdate` as typed by a person (USER_ENTERED): one write call."""
        sid = spreadsheet_id or self.config.spreadsheet_id
        body = {"valueInputOption": "USER_ENTERED", "data": list(data)}
        reply: dict[str, Any] = self._call(
            "write", lambda http: http.values_batch_update(sid, body), sid
        )
        return reply

    def metadata(
        self, *, spreadsheet_id: str | None = None, fields: str | None = None
    ) -> dict[str, Any]:
        """`spreadsheets.get` without grid data (one read call); `fields` narrows the reply."""
        sid = spreadsheet_id or self.config.spreadsheet_id
        params = {"includeGridData": "false", **({"fields": fields} if fields else {})}
        reply = self._call("read", lambda http: http.fetch_sheet_metadata(sid, dict(params)), sid)
        return dict(reply)

    def batch_update(
        self, requests_: Sequence[Mapping[str, Any]], *, spreadsheet_id: str | None = None
    ) -> dict[str, Any]:
        """`spreadsheets:batchUpdate` (atomic: all requests or none); one write call."""
        sid = spreadsheet_id or self.config.spreadsheet_id
        body = {"requests": list(requests_)}
        reply: dict[str, Any] = self._call("write", lambda http: http.batch_update(sid, body), sid)
        return reply

    def close(self) -> None:
        """Close the HTTP session."""
        with self._lock:
            if self._gc is not None:
                self._gc.http_client.session.close()

    # -- one call: quota, retries, classification -----------------------------------------
    def _call(self, kind: Kind, fn: Callable[[HTTPClient], T], spreadsheet_id: str) -> T:
        http = self.gspread().http_client
        limiter = self.limiters[kind]

        def attempt() -> T:
            limiter.acquire()  # every attempt is a request against the quota
            return self._classified(fn, http, spreadsheet_id)

        return retry_policy(sleep=self._sleep)(attempt)

    def _classified(
        self, fn: Callable[[HTTPClient], T], http: HTTPClient, spreadsheet_id: str
    ) -> T:
        try:
            return fn(http)
        except APIError as exc:
            response = exc.response
            raise_for_status(
                self.name,
                response.status_code,
                response.headers,
                self._explain(response.status_code, exc.error, spreadsheet_id),
                auth_setting=self.auth_setting,
            )
            raise  # a 2xx APIError cannot happen; keep the original if it ever does
        except google.auth.exceptions.RefreshError as exc:
            # The token exchange failed: a refused key is the admin's to fix, a 5xx is not.
            if getattr(exc, "retryable", False):
                raise TransientError(
                    self.name, f"the token exchange failed ({_oauth_error(exc)}); retrying"
                ) from None
            raise AuthError(
                self.name,
                f"Google refused the service account's token exchange ({_oauth_error(exc)})",
                setting=self.auth_setting,
            ) from None
        except (google.auth.exceptions.TransportError, requests.RequestException) as exc:
            raise TransientError(self.name, f"network error: {type(exc).__name__}") from exc

    def _explain(self, status: int, error: Mapping[str, Any], spreadsheet_id: str) -> str:
        """Google's message, plus what to do when the cause is in our settings."""
        message = str(error.get("message") or f"HTTP {status}")
        if status == 404:
            return (
                f"{message} (spreadsheet {spreadsheet_id!r}: check "
                f"connectors.{self.name}.spreadsheet_id)"
            )
        if status == 403 and str(error.get("status")) == "PERMISSION_DENIED":
            return f"{message} (share spreadsheet {spreadsheet_id!r} with {self.client_email})"
        return message


def _oauth_error(exc: google.auth.exceptions.RefreshError) -> str:
    """The OAuth error code from a refresh failure (e.g. invalid_grant), without secrets."""
    for arg in exc.args[1:]:
        if isinstance(arg, Mapping) and "error" in arg:
            return str(arg["error"])
    text = str(exc.args[0]) if exc.args else ""
    try:
        return str(json.loads(text).get("error", "refused"))
    except (ValueError, AttributeError):
        return text.split(":", 1)[0][:80] or "refused"
