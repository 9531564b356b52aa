"""Jira Cloud webhook deliveries: the signature check, and what each delivery says. Pure.

An admin webhook with a secret signs each delivery with `X-Hub-Signature: sha256=<hex
HMAC-SHA256 of the raw body>`. Only the body is signed: `X-Atlassian-Webhook-Identifier` could
be set to anything by whoever replays a captured body, so nothing here trusts it. A delivery's
dedupe key is the event's identity inside the signed body (`event_key`), and the body's
`timestamp` (milliseconds) must be within `TOLERANCE_SECONDS` of now, so a captured delivery
cannot be replayed later (`check_fresh`).

Issue events (`jira:issue_created|updated|deleted`) name one issue. Events about other
things (comments, worklogs, sprints, versions, projects, users, links...) are accepted and
say nothing to sync: an empty list. Anything else is an error naming what is wrong.

An issue event carries the whole issue after the change: `latest_snapshots` picks the
newest of them, so that an issue need not be re-read when its snapshot is newer than what
syncd holds.
"""

from __future__ import annotations

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
# A delivery whose signed timestamp is further than this from now is refused as a replay
# (Standard Webhooks' tolerance; Jira retries arriving later are refused too: the poll
# picks their changes up).
TOLERANCE_SECONDS = 300


def verify(headers: Mapping[str, str], body: bytes, secret: str | None) -> None:
    """Raise SignatureError unless the delivery is signed with the configured secret."""
    if not secret:
        raise SignatureError(
            "the Jira webhook secret is not set (webhook_secret): every delivery is refused"
        )
    verify_jira(headers, body, secret)


def check_fresh(payload: Mapping[str, Any], *, now: float, tolerance: int) -> None:
    """Raise SignatureError unless the signed body's `timestamp` (ms) is within `tolerance`
    seconds of `now` (seconds): an older or future one is a replay or a wrong clock."""
    stamp = payload.get("timestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise SignatureError(
            "the signed body has no timestamp (milliseconds): a replay could not be told apart"
        )
    skew_ms = round(now * 1000) - stamp  # whole ints: a number of any size is fine
    if abs(skew_ms) > tolerance * 1000:
        seconds = abs(skew_ms) // 1000
        when = f"{seconds} s old" if skew_ms > 0 else f"{seconds} s in the future"
        raise SignatureError(
            f"the body's timestamp is {when}; deliveries more than {tolerance} s from now "
            "are refused as replays"
        )


def event_key(event: str, payload: Mapping[str, Any], issue: Mapping[str, Any]) -> str:
    """The dedupe key of an issue event, from the signed body only.

    The changelog id names one change to one issue; without a changelog, the event, the
    issue id and the event's timestamp (ms) name it.
    """
    changelog = payload.get("changelog")
    change_id = changelog.get("id") if isinstance(changelog, Mapping) else None
    if isinstance(change_id, str | int) and not isinstance(change_id, bool) and str(change_id):
        return f"{event}:changelog:{change_id}"
    issue_id = issue.get("id") or issue.get("key")
    return f"{event}:issue:{issue_id}:{payload.get('timestamp')}"


def parse(
    body: bytes,
    *,
    projects: Collection[str],
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> list[WebhookEvent]:
    """What a verified delivery says changed (issues of other projects: nothing).

    Raises SignatureError for a body whose signed timestamp is missing or out of the window
    (a replay), ValueError for one that is not a Jira event.
    """
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the Jira webhook body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError("the Jira webhook body is not a JSON object")
    check_fresh(payload, now=now, tolerance=tolerance)
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
            delivery_id=event_key(event, payload, issue),
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
