"""HTTP calls to Jira Cloud's REST API v3 through the `jira` library's public API, and nothing else.

Every call takes a token from its endpoint's client-side rate limiter (Jira counts burst
limits per endpoint and method) and runs under the shared retry policy
(`syncd.http.retry_policy`: transient errors only, `Retry-After` honoured, bounded). A
`JIRAError` is classified by `syncd.http.raise_for_status`, so bad credentials name the
setting to fix.

Why the library's session rather than its `JIRA` facade: `jira.JIRA` builds its requests
session inside its constructor and offers no public way to give it a transport (the session
is only reachable as the private `_session`), and three of the calls made here have no
public method that does not cost extra calls (`enhanced_search_issues` reads `GET field`
again for its JQL-name cache and rewrites `fields`; `search_users` needs a query; `Issue.update`
reads the issue before and after the PUT). So the connector uses the library one level down,
through public names only: its `ResilientSession` (the JSON headers, Basic auth, and a
`JIRAError` out of Jira's error envelope for every failed answer), built here with
`max_retries=0` (retrying is syncd's), the headers `JIRA.DEFAULT_OPTIONS` gives every
request, and `jira.utils.json_loads` to read answers. The session sends through an httpx
client (see `transport.py`, mounted with requests' public `Session.mount`), like every other
connector: one place for timeouts and connection pools, one seam for tests.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import httpx
import requests
from jira import JIRA
from jira.exceptions import JIRAError
from jira.resilientsession import ResilientSession, parse_errors
from jira.utils import json_loads

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
    """A rate-limited, retrying session with one Jira Cloud site, checked on first use."""

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
        self._api = f"{config.site()}/rest/api/3"
        self._session: ResilientSession | None = None
        self._lock = threading.Lock()

    # -- the session ----------------------------------------------------------------------
    def session(self) -> ResilientSession:
        """The library's session with the site, made (and checked to be Jira Cloud) on first use."""
        with self._lock:
            if self._session is None:
                self._session = self._connect()
            return self._session

    def _connect(self) -> ResilientSession:
        config = self._config
        session = ResilientSession(max_retries=0)  # retrying is syncd's
        # The headers `jira.JIRA` puts on its session: JSON bodies, no XSRF check, no caching.
        headers = JIRA.DEFAULT_OPTIONS["headers"]
        assert isinstance(headers, dict)  # typed `object` in the library
        session.headers.update(headers)
        session.auth = (config.email, config.api_token.get_secret_value())
        adapter = HttpxAdapter(self._http)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        info = self._call(partial(self._get_json, session, "serverInfo"), endpoint="GET serverInfo")
        if not isinstance(info, dict) or info.get("deploymentType") != "Cloud":
            session.close()
            kind = info.get("deploymentType") if isinstance(info, dict) else None
            raise PermanentError(
                self.name,
                f"{config.site()} is not Jira Cloud (deploymentType {kind!r}); "
                "this connector speaks Jira Cloud's REST API v3",
            )
        return session

    def _url(self, path: str) -> str:
        """The URL of a REST v3 resource, e.g. `issue/HRB-1`."""
        return f"{self._api}/{path}"

    def _get_json(
        self, session: ResilientSession, path: str, params: dict[str, Any] | None = None
    ) -> Any:
        """`GET` a resource and read its JSON (a `JIRAError` when Jira refuses)."""
        return json_loads(session.get(self._url(path), params=params))

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
        session = self.session()
        found = self._call(
            partial(self._get_json, session, "myself"),
            endpoint="GET myself",
            attempts=6 if retried else 1,
        )
        return dict(found)

    def fields(self) -> list[dict[str, Any]]:
        """`GET field`: every system and custom field of the site."""
        session = self.session()
        return list(self._call(partial(self._get_json, session, "field"), endpoint="GET field"))

    def search(self, jql: str, fields: list[str], limit: int, token: str | None) -> dict[str, Any]:
        """One page of `GET search/jql`: `{"issues", "nextPageToken"?, "isLast"}`."""
        session = self.session()
        params: dict[str, Any] = {"jql": jql, "fields": ",".join(fields), "maxResults": limit}
        if token:
            params["nextPageToken"] = token
        page = self._call(
            partial(self._get_json, session, "search/jql", params), endpoint="GET search/jql"
        )
        return dict(page)

    def issue(self, key: str, fields: list[str], *, expand: str | None = None) -> dict[str, Any]:
        """`GET issue/{key}` with the given fields (404: a JiraRefusal with status 404)."""
        session = self.session()
        params = {"fields": ",".join(fields), **({"expand": expand} if expand is not None else {})}
        found = self._call(
            partial(self._get_json, session, f"issue/{key}", params), endpoint="GET issue/{key}"
        )
        return dict(found)

    def edit(self, key: str, fields: dict[str, Any]) -> None:
        """`PUT issue/{key}` with `{"fields": ...}` (204)."""
        session = self.session()
        url, body = self._url(f"issue/{key}"), json.dumps({"fields": fields})
        self._call(lambda: session.put(url, data=body), endpoint="PUT issue/{key}")

    def transition(self, key: str, transition_id: str) -> None:
        """`POST issue/{key}/transitions` with the transition's id (204)."""
        session = self.session()
        if not transition_id.isdigit():
            raise JiraRefusal(
                self.name,
                f"transition id {transition_id!r} is not a number",
                status=None,
                messages=[],
                errors={},
            )
        url = self._url(f"issue/{key}/transitions")
        # The body `JIRA.transition_issue` sends for a numeric id and no field values.
        body = json.dumps({"transition": {"id": int(transition_id)}, "fields": {}})
        self._call(
            lambda: json_loads(session.post(url, data=body)),
            endpoint="POST issue/{key}/transitions",
        )

    def workflow(self, project_id: str, issue_type_id: str | None) -> dict[str, Any] | None:
        """The workflow an issue type of a project follows, with its transitions and
        statuses: `GET workflowscheme/project` (which workflow), then `GET workflow/search`
        (None when the scheme names none the search returns)."""
        session = self.session()
        params: dict[str, Any] = {"projectId": project_id}
        schemes = self._call(
            partial(self._get_json, session, "workflowscheme/project", params),
            endpoint="GET workflowscheme/project",
        )
        name = None
        for value in schemes.get("values") or []:
            scheme = value.get("workflowScheme") or {}
            mappings = scheme.get("issueTypeMappings") or {}
            name = mappings.get(issue_type_id or "") or scheme.get("defaultWorkflow")
        if not name:
            return None
        search = {"workflowName": name, "expand": "transitions,statuses"}
        found = self._call(
            partial(self._get_json, session, "workflow/search", search),
            endpoint="GET workflow/search",
        )
        return next(
            (dict(w) for w in found.get("values") or [] if (w.get("id") or {}).get("name") == name),
            None,
        )

    def users(self) -> list[dict[str, Any]]:
        """Every user of the site: `GET users/search`, a page at a time until an empty one."""
        session = self.session()
        found: list[dict[str, Any]] = []
        for page in range(MAX_USER_PAGES):
            params = {"startAt": page * USER_PAGE, "maxResults": USER_PAGE}
            batch: list[Any] = self._call(
                partial(self._get_json, session, "users/search", params),
                endpoint="GET users/search",
            )
            if not batch:
                break
            found.extend(u for u in batch if isinstance(u, dict))
        return found

    def close(self) -> None:
        """Close the library's session (the httpx client belongs to the connector)."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None
