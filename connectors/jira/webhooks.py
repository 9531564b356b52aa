"""Jira Cloud webhook deliveries: the signature check, and what each delivery says. Pure.

An admin webhook with a secret signs each delivery with `X-Hub-Signature: sha256=<hex
HMAC-SHA256 of the raw body>`. `X-Atlassian-Webhook-Identifier` is the same on every retry
of one event: it is the delivery id syncd dedupes on.

Issue events (`jira:issue_created|updated|deleted`) name one issue. Events about other
things (comments, worklogs, sprints, versions, projects, users, links...) are accepted and
say nothing to sync: an empty list. Anything else is an error naming what is wrong.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from syncd.connector import WebhookEvent
from syncd.signatures import SignatureError, verify_jira

ENTITY = "issue"
ISSUE_EVENTS = {
    "jira:issue_created": False,
    "jira:issue_updated": False,
    "jira:issue_deleted": True,  # the value: whether the issue is gone
}
# Families of events that concern no issue field syncd maps (webhookEvent prefixes).
OTHER_EVENTS = (
    "comment_",
    "worklog_",
    "sprint_",
    "board_",
    "jira:version_",
    "project_",
    "user_",
    "issuelink_",
    "issuetype_",
    "attachment_",
    "option_",
    "jira:worklog_",
    "jira:component_",
    "component_",
    "filter_",
)
IDENTIFIER = "X-Atlassian-Webhook-Identifier"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def verify(headers: Mapping[str, str], body: bytes, secret: str | None) -> None:
    """Raise SignatureError unless the delivery is signed with the configured secret."""
    if not secret:
        raise SignatureError(
            "the Jira webhook secret is not set (webhook_secret): every delivery is refused"
        )
    verify_jira(headers, body, secret)


def delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    """The delivery's idempotency key: Jira's identifier (a digest of the body without one)."""
    identifier = _header(headers, IDENTIFIER)
    if identifier and identifier.strip():
        return identifier.strip()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def parse(
    headers: Mapping[str, str], body: bytes, *, projects: Collection[str]
) -> list[WebhookEvent]:
    """What a verified delivery says changed (issues of other projects: nothing)."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the Jira webhook body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError("the Jira webhook body is not a JSON object")
    event = payload.get("webhookEvent")
    if not isinstance(event, str) or not event:
        raise ValueError("the Jira webhook body has no webhookEvent")
    if event not in ISSUE_EVENTS:
        if event.startswith(OTHER_EVENTS):
            return []
        raise ValueError(f"unknown Jira webhook event {event!r}")
    issue = payload.get("issue")
    if not isinstance(issue, dict) or not isinstance(issue.get("key"), str) or not issue["key"]:
        raise ValueError(f"the Jira {event} delivery names no issue key")
    key: str = issue["key"]
    if not _in_projects(key, issue, projects):
        return []
    return [
        WebhookEvent(
            delivery_id=delivery_id(headers, body),
            entity=ENTITY,
            external_id=key,
            deleted=ISSUE_EVENTS[event],
            author=_author(payload.get("user")),
        )
    ]


def _in_projects(key: str, issue: Mapping[str, Any], projects: Collection[str]) -> bool:
    fields = issue.get("fields")
    project = fields.get("project") if isinstance(fields, Mapping) else None
    project_key = project.get("key") if isinstance(project, Mapping) else None
    return (project_key or key.rpartition("-")[0]) in projects


def _author(user: Any) -> str | None:
    if isinstance(user, Mapping) and user.get("accountId"):
        return str(user["accountId"])
    return None
