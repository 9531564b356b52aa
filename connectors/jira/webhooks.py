"""Jira Cloud webhook deliveries: the signature check, and what each delivery says. Pure.

An admin webhook with a secret signs each delivery with `X-Hub-Signature: sha256=<hex
HMAC-SHA256 of the raw body>`. `X-Atlassian-Webhook-Identifier` is the same on every retry
of one event: it is the delivery id syncd dedupes on.

Issue events (`jira:issue_created|updated|deleted`) name one issue. Events about other
things (comments, worklogs, sprints, versions, projects, users, links...) are accepted and
say nothing to sync: an empty list. Anything else is an error naming what is wrong.

An issue event carries the whole issue after the change: `latest_snapshots` picks the
newest of them, so that an issue need not be re-read when its snapshot is newer than what
syncd holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from syncd.connector import WebhookEvent
from syncd.signatures import SignatureError, verify_jira

from .jql import parse_timestamp

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


def latest_snapshots(
    bodies: Sequence[bytes], keys: Collection[str], field_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """The newest issue snapshot each delivery gives of these issues, by key.

    An issue event carries the whole issue as it stood after the change, with its
    `updated` time (milliseconds), so the newest one holds every earlier change. An issue is
    left out when any of its deliveries is not an update (created, deleted), lacks one of
    `field_ids`, or when two different snapshots share the newest time.
    """
    found: dict[str, list[tuple[datetime, dict[str, Any]]]] = {}
    refused: set[str] = set()
    for body in bodies:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            continue
        issue = payload.get("issue") if isinstance(payload, dict) else None
        if not isinstance(issue, dict) or issue.get("key") not in keys:
            continue
        key = str(issue["key"])
        fields = issue.get("fields")
        moment = issue_updated(fields)
        if (
            payload.get("webhookEvent") != "jira:issue_updated"
            or not isinstance(fields, dict)
            or moment is None
            or not all(f in fields for f in field_ids)
        ):
            refused.add(key)
            continue
        found.setdefault(key, []).append((moment, issue))
    out: dict[str, dict[str, Any]] = {}
    for key, snapshots in found.items():
        newest = max(moment for moment, _ in snapshots)
        latest = [issue for moment, issue in snapshots if moment == newest]
        if key not in refused and all(i == latest[0] for i in latest):
            out[key] = latest[0]
    return out


def issue_updated(fields: Any) -> datetime | None:
    """An issue's `fields.updated` as an aware datetime (None: absent or not a time)."""
    value = fields.get("updated") if isinstance(fields, Mapping) else None
    try:
        return parse_timestamp(str(value)) if value else None
    except ValueError:
        return None
