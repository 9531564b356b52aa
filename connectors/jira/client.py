"""HTTP calls to Jira Cloud's REST API v3 through the `jira` library, and nothing else.

Every call takes a token from its endpoint's client-side rate limiter (Jira counts burst
limits per endpoint and method) and runs under the shared retry
policy (`syncd.http.retry_policy`: transient errors only, `Retry-After` honoured, bounded).
The library's own retries are off (`max_retries=0`): retrying is syncd's. A `JIRAError` is
classified by `syncd.http.raise_for_status`, so bad credentials name the setting to fix.

The library's session sends through an httpx client (see `transport.py`). Where a library
convenience method costs calls the connector does not need, the REST endpoint is called
through the library's own session instead (it carries the auth and headers); each such
place says why.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import httpx
import jira
import requests
from jira.exceptions import JIRAError
from jira.resilientsession import parse_errors

from syncd.errors import PermanentError, TransientError
from syncd.http import EndpointRateLimits, raise_for_status, retry_policy, transport_error

from .config import JiraConfig
from .transport import HttpxAdapter

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], None]
USER_PAGE = 1000  # users/search serves at most 1000 users a page
MAX_USER_PAGES = 1000  # a bound on the loop, far above any site


class JiraRefusal(PermanentError):
    """Jira refused a call for good (a 4xx): its status, messages and per-field errors."""

    def __init__(
        self,
        connector: str,
        message: str,
        *,
        status: int | None,
        messages: list[str],
        errors: dict[str, str],
    ) -> None:
        self.status, self.messages, self.errors = status, messages, errors
        super().__init__(connector, message)


def _envelope(response: requests.Response | None) -> tuple[list[str], dict[str, str]]:
    """`errorMessages` and `errors` of Jira's error body (empty when it is something else)."""
    if response is None:
        return [], {}
    try:
        body = response.json()
    except ValueError:
        return [], {}
    if not isinstance(body, dict):
        return [], {}
    messages = body.get("errorMessages")
    errors = body.get("errors")
    return (
        [str(m) for m in messages] if isinstance(messages, list) else [],
        {str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {},
    )


class JiraClient:
    """A rate-limited, retrying `jira.JIRA` for one site, built on first use."""

    def __init__(
        self,
        name: str,
        config: JiraConfig,
        *,
        http: httpx.Client,
        sleep: Sleep,
        limits: EndpointRateLimits,
    ) -> None:
        self.name, self._config = name, config
        self._http, self._sleep, self.limits = http, sleep, limits
        self._auth_setting = f"connectors.{name}.api_token"
        self._library: jira.JIRA | None = None
        self._lock = threading.Lock()

    # -- the library ----------------------------------------------------------------------
    def library(self) -> jira.JIRA:
        """The `jira.JIRA` client, made (and checked to be Jira Cloud) on first use."""
        with self._lock:
            if self._library is None:
                self._library = self._connect()
            return self._library

    def _connect(self) -> jira.JIRA:
        config = self._config
        library = jira.JIRA(
            server=config.site(),
            basic_auth=(config.email, config.api_token.get_secret_value()),
            options={"rest_api_version": "3"},
            max_retries=0,
            # The constructor's serverInfo call would go out before the httpx adapter is
            # mounted and outside syncd's retry policy: it is made just below instead.
            get_server_info=False,
        )
        adapter = HttpxAdapter(self._http)
        library._session.mount("https://", adapter)
        library._session.mount("http://", adapter)
        info = self._call(library.server_info, endpoint="GET serverInfo")
        if not isinstance(info, dict) or info.get("deploymentType") != "Cloud":
            kind = info.get("deploymentType") if isinstance(info, dict) else None
            raise PermanentError(
                self.name,
                f"{config.site()} is not Jira Cloud (deploymentType {kind!r}); "
                "this connector speaks Jira Cloud's REST API v3",
            )
        # What the constructor does with serverInfo: the library then takes Cloud's paths.
        library.deploymentType = info["deploymentType"]
        library._version = tuple(info.get("versionNumbers") or (0, 0, 0))
        return library

    # -- one call -------------------------------------------------------------------------
    def _call(self, call: Callable[[], T], *, endpoint: str, attempts: int = 6) -> T:
        """Run one API call under its endpoint's rate limiter and the retry policy, errors
        classified. `endpoint` is the method and path template, e.g. `"PUT issue/{key}"`."""
        limiter = self.limits[endpoint]

        def attempt() -> T:
            limiter.acquire()
            try:
                return call()
            except JIRAError as exc:
                raise self._classified(exc) from None
            except requests.exceptions.JSONDecodeError as exc:  # before RequestException
                raise self._not_json(exc) from None
            except requests.RequestException as exc:
                cause = exc.__cause__
                if isinstance(cause, httpx.TransportError):
                    raise transport_error(self.name, cause) from None
                raise TransientError(self.name, f"network error: {type(exc).__name__}") from None
            except ValueError as exc:
                raise self._not_json(exc) from None

        return retry_policy(attempts=attempts, sleep=self._sleep)(attempt)

    def _not_json(self, exc: ValueError) -> PermanentError:
        """A 2xx answer whose body is not JSON: whatever answered is not Jira's API."""
        return PermanentError(self.name, f"the answer is not Jira's JSON ({exc}); check base_url")

    def _classified(self, exc: JIRAError) -> Exception:
        """The syncd error a `JIRAError` means (via the one status table in syncd.http)."""
        response = exc.response
        status = exc.status_code or (response.status_code if response is not None else None)
        headers = dict(response.headers) if response is not None else {}
        text = exc.text or ""
        if response is not None and not text:
            text = ", ".join(parse_errors(response))
        if status is None:  # the library's own complaint, no HTTP answer behind it
            return JiraRefusal(self.name, text or "refused", status=None, messages=[], errors={})
        try:
            raise_for_status(self.name, status, headers, text, auth_setting=self._auth_setting)
        except PermanentError:
            messages, errors = _envelope(response)
            return JiraRefusal(
                self.name,
                f"{status}: {text.strip()[:500] or 'HTTP ' + str(status)}",
                status=status,
                messages=messages,
                errors=errors,
            )
        except Exception as error:  # AuthError, TransientError: as classified
            return error
        return JiraRefusal(self.name, f"{status}: {text}", status=status, messages=[], errors={})

    # -- the calls ------------------------------------------------------------------------
    def myself(self, *, retried: bool = True) -> dict[str, Any]:
        """`GET myself`: the account syncd works as (accountId, timeZone).

        `retried=False` makes one attempt (for callers that must answer quickly).
        """
        library = self.library()
        return dict(self._call(library.myself, endpoint="GET myself", attempts=6 if retried else 1))

    def fields(self) -> list[dict[str, Any]]:
        """`GET field`: every system and custom field of the site."""
        library = self.library()
        return list(self._call(library.fields, endpoint="GET field"))

    def search(self, jql: str, fields: list[str], limit: int, token: str | None) -> dict[str, Any]:
        """One page of `GET search/jql`: `{"issues", "nextPageToken"?, "isLast"}`."""
        library = self.library()
        params: dict[str, Any] = {"jql": jql, "fields": ",".join(fields), "maxResults": limit}
        if token:
            params["nextPageToken"] = token
        # Through the library's JSON GET rather than `enhanced_search_issues`: that method
        # first reads `GET field` again for its own JQL-name cache (a call per client the
        # connector does not need: it already read the fields) and rewrites `fields`.
        page = self._call(
            lambda: library._get_json("search/jql", params=params), endpoint="GET search/jql"
        )
        return dict(page)

    def issue(self, key: str, fields: list[str], *, expand: str | None = None) -> dict[str, Any]:
        """`GET issue/{key}` with the given fields (404: a JiraRefusal with status 404)."""
        library = self.library()
        wanted = ",".join(fields)
        found = self._call(
            lambda: library.issue(key, fields=wanted, expand=expand), endpoint="GET issue/{key}"
        )
        return dict(found.raw)

    def edit(self, key: str, fields: dict[str, Any]) -> None:
        """`PUT issue/{key}` with `{"fields": ...}` (204)."""
        library = self.library()
        url = library._get_url(f"issue/{key}")
        body = json.dumps({"fields": fields})
        # Through the library's session rather than `Issue.update`, which needs the issue
        # read first and reads it again after the PUT: two calls per edit for nothing.
        self._call(lambda: library._session.put(url, data=body), endpoint="PUT issue/{key}")

    def transition(self, key: str, transition_id: str) -> None:
        """`POST issue/{key}/transitions` with the transition's id (204)."""
        library = self.library()
        if not transition_id.isdigit():
            raise JiraRefusal(
                self.name,
                f"transition id {transition_id!r} is not a number",
                status=None,
                messages=[],
                errors={},
            )
        # A numeric id: the library posts it at once (a name would make it list them first).
        self._call(
            lambda: library.transition_issue(key, transition_id),
            endpoint="POST issue/{key}/transitions",
        )

    def users(self) -> list[dict[str, Any]]:
        """Every user of the site: `GET users/search`, a page at a time until an empty one."""
        library = self.library()
        found: list[dict[str, Any]] = []
        for page in range(MAX_USER_PAGES):
            params = {"startAt": page * USER_PAGE, "maxResults": USER_PAGE}
            # No library method reads `users/search` (its `search_users` needs a query).
            batch: list[Any] = self._call(
                partial(library._get_json, "users/search", params=params),
                endpoint="GET users/search",
            )
            if not batch:
                break
            found.extend(u for u in batch if isinstance(u, dict))
        return found

    def close(self) -> None:
        """Close the library's session (the httpx client belongs to the connector)."""
        with self._lock:
            if self._library is not None:
                session: requests.Session = self._library._session
                session.close()
                self._library = None
