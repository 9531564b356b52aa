"""A `requests` transport adapter that sends through an `httpx.Client`.

The `jira` library's session (`jira.resilientsession.ResilientSession`) prepares every
request (Basic auth, headers, JSON bodies) and turns every failed answer into its
`JIRAError` (from Jira's error envelope). Mounting this adapter on that session (requests'
public `Session.mount`) makes the bytes travel through httpx instead, like every other
connector's: one place for timeouts and connection pools, and one seam for tests (an
injected `httpx.MockTransport`, or respx) under the real library code.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

# requests sets these from its own capabilities; httpx sets its own (it decodes what it asks
# for) and computes the length of the body it sends.
_DROPPED_HEADERS = frozenset({"accept-encoding", "content-length", "connection"})


def _timeout(value: Any) -> httpx.Timeout | None:
    """requests' `timeout` (seconds, or a (connect, read) pair) as an httpx timeout."""
    if value is None:
        return None
    if isinstance(value, tuple):
        connect, read = value
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)
    return httpx.Timeout(float(value))


class HttpxAdapter(BaseAdapter):
    """Sends a `requests` request with an `httpx.Client` and hands back a `requests` response.

    Network failures become the `requests` exceptions the library expects (the httpx error
    is kept as `__cause__`, so callers can classify it). The client is not closed here: it
    belongs to whoever made it.
    """

    def __init__(self, client: httpx.Client) -> None:
        super().__init__()
        self._client = client

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one prepared request."""
        del stream, verify, cert, proxies  # the httpx client's own settings apply
        headers = {
            k: v for k, v in (request.headers or {}).items() if k.lower() not in _DROPPED_HEADERS
        }
        body = request.body
        content = body.encode("utf-8") if isinstance(body, str) else body
        wait = _timeout(timeout)
        try:
            answer = self._client.request(
                request.method or "GET",
                request.url or "",
                headers=headers,
                content=content,
                timeout=wait if wait is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            raise requests.exceptions.Timeout(str(exc) or type(exc).__name__) from exc
        except httpx.TransportError as exc:
            raise requests.exceptions.ConnectionError(str(exc) or type(exc).__name__) from exc
        return self._response(request, answer)

    def _response(
        self, request: requests.PreparedRequest, answer: httpx.Response
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.reason_phrase
        # Repeated headers are joined with commas, as urllib3 does for requests.
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response.encoding = get_encoding_from_headers(response.headers)
        # requests reads the body from `raw` (public, file-like); httpx already decoded it.
        response.raw = io.BytesIO(answer.content)
        response.url = request.url or str(answer.url)
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release: the httpx client is closed by its owner."""
