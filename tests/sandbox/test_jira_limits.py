"""Authentication, rate limiting and injected faults, as the `jira` client experiences them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import jira
import pytest

from syncd_sandbox.jira import DEFAULT_API_TOKEN, DEFAULT_EMAIL, JiraSandbox
from tests.sandbox.test_jira_sandbox import answer, connect, fresh, serving

pytestmark = pytest.mark.sandbox
UNAUTHENTICATED = "Client must be authenticated to access this resource."


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[JiraSandbox, str]]:
    box = JiraSandbox()
    with serving(box) as base:
        yield box, base
    box.close()


@pytest.fixture
def sandbox(served: tuple[JiraSandbox, str]) -> JiraSandbox:
    return fresh(served[0])


@pytest.fixture
def url(served: tuple[JiraSandbox, str], sandbox: JiraSandbox) -> str:
    return served[1]


def test_bad_credentials_get_jiras_401(url: str) -> None:
    client = connect(url, token="not-the-token")  # serverInfo answers anyone, as on Cloud
    with pytest.raises(jira.JIRAError) as refused:
        client.search_issues("project = HRB")
    assert refused.value.status_code == 401
    assert refused.value.text == UNAUTHENTICATED
    headers = answer(refused.value).headers
    assert headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert (
        headers["WWW-Authenticate"]
        == f'OAuth realm="{url.replace(":", "%3A").replace("/", "%2F")}"'
    )


def test_missing_credentials_get_401_without_a_login_reason(url: str) -> None:
    answer = httpx.get(f"{url}/rest/api/3/issue/HRB-1", headers={"Accept": "*/*"})
    assert answer.status_code == 401
    assert answer.text == UNAUTHENTICATED
    assert answer.headers["content-type"] == "text/plain;charset=UTF-8"
    assert "x-seraph-loginreason" not in answer.headers
    assert httpx.get(f"{url}/rest/api/3/serverInfo").status_code == 200


def test_rate_limit_answers_429_with_retry_after(sandbox: JiraSandbox, url: str) -> None:
    client = connect(url)
    sandbox.knobs.rate_limit_per_minute = 60  # 1 per second, bursts of 10
    with pytest.raises(jira.JIRAError) as limited:
        for _ in range(20):
            client.issue("HRB-1")
    assert limited.value.status_code == 429
    headers = answer(limited.value).headers
    assert headers["Retry-After"] == "1"
    assert headers["X-RateLimit-Limit"] == "10" and headers["X-RateLimit-Remaining"] == "0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", headers["X-RateLimit-Reset"])
    assert headers["RateLimit-Reason"] == "jira-burst-based"
    assert answer(limited.value).json()["errorMessages"] == [
        "The request has been rate-limited. Please try again later."
    ]


def test_the_clients_own_retry_gets_through(sandbox: JiraSandbox, url: str) -> None:
    client = connect(url, max_retries=2)
    sandbox.knobs.rate_limit_per_minute = 60
    sandbox.calls.reset()
    for _ in range(12):  # more than the burst: the last calls are answered 429, then retried
        assert client.issue("HRB-1").key == "HRB-1"
    assert sandbox.calls.snapshot()["GET /rest/api/3/issue/{id_or_key}"] > 12


def test_turning_the_knob_over_http_takes_effect(sandbox: JiraSandbox, url: str) -> None:
    auth = (DEFAULT_EMAIL, DEFAULT_API_TOKEN)
    with httpx.Client(base_url=url, auth=auth) as http:
        assert http.patch("/_sandbox/knobs", json={"rate_limit_per_minute": 1}).status_code == 200
        assert http.get("/rest/api/3/myself").status_code == 200  # the burst holds one call
        assert http.get("/rest/api/3/myself").status_code == 429
        assert (
            http.patch("/_sandbox/knobs", json={"rate_limit_per_minute": None}).status_code == 200
        )
        assert http.get("/rest/api/3/myself").status_code == 200


@pytest.mark.parametrize(
    ("fault", "message", "retry_after"),
    [("500", "Internal server error", None), ("503", "Service Unavailable", "1")],
)
def test_injected_faults_in_jiras_shape(
    sandbox: JiraSandbox, url: str, fault: str, message: str, retry_after: str | None
) -> None:
    client = connect(url)
    sandbox.knobs.faults = [fault]  # type: ignore[list-item]
    sandbox.knobs.fault_rate = 1.0
    with pytest.raises(jira.JIRAError) as failed:
        client.issue("HRB-1")
    assert failed.value.status_code == int(fault)
    assert failed.value.text == message
    assert answer(failed.value).headers.get("Retry-After") == retry_after
