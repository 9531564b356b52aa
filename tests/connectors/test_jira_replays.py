"""Jira deliveries: the replay window on the signed `timestamp`, and dedupe keys from the body.

Properties over random clock skews and header ids; the expected answer is computed from the
skew alone (refused exactly when it is more than 300 s either way).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from connectors.jira import JiraConfig, JiraConnector
from syncd.signatures import SignatureError
from syncd_sandbox.signing import sign_jira

SECRET = "jira-webhook-secret"
NOW = 1_800_000_000.0


def _connector(now: float = NOW) -> JiraConnector:
    config = JiraConfig.model_validate(
        {
            "base_url": "https://studio.atlassian.net",
            "email": "syncd@studio.example",
            "api_token": "t",
            "projects": ["HRB"],
            "webhook_secret": SECRET,
        }
    )
    return JiraConnector("jira", config, now=lambda: now)


@pytest.fixture(scope="module")
def connector() -> Iterator[JiraConnector]:
    connector = _connector()
    yield connector
    connector.close()


def _body(stamp: Any, changelog: str | None = None, issue_id: str = "10003") -> bytes:
    payload: dict[str, Any] = {
        "timestamp": stamp,
        "webhookEvent": "jira:issue_updated",
        "user": {"accountId": "acc-mia"},
        "issue": {"id": issue_id, "key": "HRB-3", "fields": {"project": {"key": "HRB"}}},
    }
    if changelog is not None:
        payload["changelog"] = {"id": changelog, "items": []}
    return json.dumps(payload).encode()


@settings(max_examples=200, deadline=None)
@given(skew_ms=st.integers(-900_000, 900_000))
@example(skew_ms=300_000)
@example(skew_ms=300_001)
@example(skew_ms=-300_000)
@example(skew_ms=-300_001)
def test_a_signed_timestamp_is_accepted_exactly_within_300_s(
    connector: JiraConnector, skew_ms: int
) -> None:
    body = _body(int(NOW * 1000) - skew_ms)
    headers = sign_jira(body, SECRET)
    if abs(skew_ms) > 300_000:
        with pytest.raises(SignatureError, match="refused as replays"):
            connector.parse_webhook(headers, body)
    else:
        assert len(connector.parse_webhook(headers, body)) == 1


@pytest.mark.parametrize("stamp", [10**400, -(10**400), 0], ids=["huge", "huge-negative", "zero"])
def test_a_timestamp_of_any_size_is_refused_with_a_reason_not_an_error(
    connector: JiraConnector, stamp: int
) -> None:
    body = _body(stamp)
    with pytest.raises(SignatureError, match="refused as replays"):
        connector.parse_webhook(sign_jira(body, SECRET), body)


@pytest.mark.parametrize("stamp", [None, "1800000000000", 1.8e12, True])
def test_a_body_without_a_whole_ms_timestamp_is_refused(
    connector: JiraConnector, stamp: Any
) -> None:
    body = _body(stamp)
    with pytest.raises(SignatureError, match="no timestamp"):
        connector.parse_webhook(sign_jira(body, SECRET), body)


@settings(max_examples=50, deadline=None)
@given(
    header_ids=st.lists(st.text(min_size=0, max_size=300), min_size=2, max_size=5),
    changelog=st.one_of(st.none(), st.integers(1, 10**9).map(str)),
)
def test_the_dedupe_key_ignores_the_unsigned_identifier_header(
    connector: JiraConnector, header_ids: list[str], changelog: str | None
) -> None:
    body = _body(int(NOW * 1000), changelog)
    keys = {
        connector.parse_webhook(
            {**sign_jira(body, SECRET), "X-Atlassian-Webhook-Identifier": ident}, body
        )[0].delivery_id
        for ident in header_ids
    }
    assert len(keys) == 1  # one signed body, one key, whatever the header says
    other = _body(int(NOW * 1000) + 1, None if changelog is None else changelog + "0")
    [moved] = connector.parse_webhook(sign_jira(other, SECRET), other)
    assert moved.delivery_id not in keys  # another change to the issue: another key
