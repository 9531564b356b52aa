"""Jira Cloud's error responses: `{"errorMessages": [...], "errors": {...}}` and its few exceptions.

Every refusal the emulator makes is a `JiraError`; the app turns it into the exact body,
status and headers Jira sends, so the domain code can raise from anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json;charset=UTF-8"
PROBLEM_MEDIA_TYPE = "application/problem+json;charset=UTF-8"

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED_JQL = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
UNAUTHENTICATED = "Client must be authenticated to access this resource."
RATE_LIMITED = "The request has been rate-limited. Please try again later."


class JiraError(Exception):
    """A refusal in Jira's envelope; `body` overrides the envelope where Jira uses another shape."""

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        media_type: str = JSON_MEDIA_TYPE,
    ) -> None:
        super().__init__(f"{status}: {messages or ''} {dict(errors or {})}")
        self.status = status
        self.messages = list(messages or [])
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        self.body = body
        self.media_type = media_type

    def to_response(self) -> Response:
        """The HTTP response Jira sends for this refusal."""
        body = self.body
        if body is None:
            envelope = {"errorMessages": self.messages, "errors": self.errors}
            body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        return Response(body, self.status, headers=self.headers, media_type=self.media_type)


def field_errors(errors: Mapping[str, str]) -> JiraError:
    """400 naming each refused field, as an edit or create with bad values gets."""
    return JiraError(400, [], errors)


def issue_not_found() -> JiraError:
    """404 for an issue that does not exist (or was deleted)."""
    return JiraError(404, [ISSUE_NOT_FOUND])


def bad_request(message: str) -> JiraError:
    """400 with one message."""
    return JiraError(400, [message])


def problem(status: int, title: str, detail: str, instance: str, **headers: str) -> JiraError:
    """Jira's RFC 7807 refusal (unknown endpoints, wrong methods, unreadable parameters)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": instance}  # fmt: skip
    return JiraError(
        status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def no_endpoint(method: str, path: str) -> JiraError:
    """404 for a REST path Jira serves nothing at."""
    return problem(404, "Not Found", f"No endpoint {method} {path}.", path)


def method_not_allowed(method: str, path: str, allow: str) -> JiraError:
    """405 for a method a REST path does not take."""
    extra = {"Allow": allow} if allow else {}
    return problem(405, "Method Not Allowed", f"Method '{method}' is not supported.", path, **extra)


def fault(status: int) -> Response:
    """An injected 500/503 in Jira's shape (a 503 carries Retry-After as Cloud's may)."""
    if status == 503:
        return JiraError(503, ["Service Unavailable"], headers={"Retry-After": "1"}).to_response()
    return JiraError(status, ["Internal server error"]).to_response()
