"""Jira Cloud's issue webhooks: payloads, headers and the retry header on redeliveries."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from syncd_sandbox.signing import sign_jira
from syncd_sandbox.webhooks import WebhookConfig, WebhookSender

IssueEvent = Literal["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]
# Atlassian retries a delivery the receiver answered with one of these (or could not reach).
RETRY_STATUSES = frozenset({408, 409, 425, 429, *range(500, 600)})


class JiraWebhookSender(WebhookSender):
    """A `WebhookSender` signing with `X-Hub-Signature` and numbering retries as Jira does."""

    def __init__(self, config: WebhookConfig | None = None) -> None:
        super().__init__(name="jira", sign=sign_jira, retry_statuses=RETRY_STATUSES, config=config)

    def retry_headers(self, retry_number: int) -> dict[str, str]:
        """`X-Atlassian-Webhook-Retry: n` on the n-th redelivery."""
        return {"X-Atlassian-Webhook-Retry": str(retry_number)}


def event_type_name(event: IssueEvent, changed_fields: set[str]) -> str:
    """`issue_event_type_name`: what kind of change Jira says happened."""
    if event == "jira:issue_created":
        return "issue_created"
    if event == "jira:issue_deleted":
        return "issue_deleted"
    if "status" in changed_fields:
        return "issue_generic"
    if changed_fields == {"assignee"}:
        return "issue_assigned"
    return "issue_updated"


def issue_payload(
    event: IssueEvent,
    *,
    timestamp: int,
    user: dict[str, Any] | None,
    issue: dict[str, Any],
    changelog: dict[str, Any] | None,
) -> dict[str, Any]:
    """The JSON body of one issue event."""
    changed = {item["fieldId"] for item in (changelog or {}).get("items", [])}
    payload: dict[str, Any] = {
        "timestamp": timestamp,
        "webhookEvent": event,
        "issue_event_type_name": event_type_name(event, changed),
        "user": user,
        "issue": issue,
    }
    if changelog is not None:
        payload["changelog"] = changelog
    return payload


def delivery_headers() -> dict[str, str]:
    """Headers of a new delivery: a fresh identifier, kept by every retry of it."""
    return {
        "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
        "X-Atlassian-Webhook-Flow": "Primary",
        "User-Agent": "Atlassian Webhook HTTP Client",
    }
