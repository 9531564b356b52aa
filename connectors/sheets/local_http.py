"""Point the real gspread client at another base URL: `local_http_client(base_url)`.

Used when `api_base_url` is set (the syncd sandbox's Sheets emulator on loopback). gspread
has no base-URL option, but every call goes through `HTTPClient.request`, and every
credential refresh goes through google-auth's `AuthorizedSession` auth request. The class
built here rewrites both, so with the sandbox's service-account JSON *everything* stays on
loopback: the Sheets API calls, the token exchange (even with the stock
`https://oauth2.googleapis.com/token` token_uri) and google-auth's background Regional
Access Boundary lookup at `iamcredentials.googleapis.com`, which the sandbox also answers.

    gc = gspread.service_account_from_dict(info, http_client=local_http_client(url))
"""

from __future__ import annotations

from typing import Any, ClassVar

import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession, Request
from gspread.http_client import BackOffHTTPClient, HTTPClient
from gspread.utils import convert_credentials

API_HOSTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
AUTH_HOSTS = (
    "https://oauth2.googleapis.com",
    "https://iamcredentials.googleapis.com",
    "https://www.googleapis.com",
)


def rewrite(url: str, hosts: tuple[str, ...], base_url: str) -> str:
    """Swap a Google host prefix for the sandbox base URL; other URLs pass unchanged."""
    for host in hosts:
        if url.startswith(host):
            return base_url + url[len(host) :]
    return url


class _AuthSession(requests.Session):
    """The session google-auth refreshes tokens with, rerouted to the sandbox."""

    # requests.Session pickles/deep-copies only `__attrs__`; google-auth deep-copies this
    # session for the background boundary lookup, so the base URL must be one of them.
    __attrs__ = [*requests.Session.__attrs__, "sandbox_url"]

    def __init__(self, sandbox_url: str) -> None:
        super().__init__()
        self.sandbox_url = sandbox_url

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        """Send to the sandbox instead of Google's auth hosts."""
        target = rewrite(
            url.decode() if isinstance(url, bytes) else url, AUTH_HOSTS, self.sandbox_url
        )
        return super().request(method, target, *args, **kwargs)


class LocalHTTPClient(HTTPClient):
    """gspread's HTTP client talking to `sandbox_url` (set by `local_http_client`)."""

    sandbox_url: ClassVar[str] = ""

    def __init__(self, auth: Credentials, session: requests.Session | None = None) -> None:
        if session is not None:
            super().__init__(auth, session=session)
            return
        credentials = convert_credentials(auth)
        auth_request = Request(_AuthSession(self.sandbox_url))
        # google-auth's transport module is untyped.
        authorized = AuthorizedSession(credentials, auth_request=auth_request)  # type: ignore[no-untyped-call]
        super().__init__(auth, session=authorized)
        self.auth = credentials

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        """Every Sheets/Drive call, rerouted to the sandbox."""
        return super().request(
            method, rewrite(endpoint, API_HOSTS, self.sandbox_url), *args, **kwargs
        )


class LocalBackOffHTTPClient(LocalHTTPClient, BackOffHTTPClient):
    """The same, with gspread's retrying client underneath (sleeps 2, 4, 8... s on 429/5xx)."""


def local_http_client(base_url: str, *, backoff: bool = False) -> type[HTTPClient]:
    """An `http_client` class for gspread that sends everything to the sandbox at `base_url`."""
    parent: type[LocalHTTPClient] = LocalBackOffHTTPClient if backoff else LocalHTTPClient
    return type(parent.__name__, (parent,), {"sandbox_url": base_url.rstrip("/")})
