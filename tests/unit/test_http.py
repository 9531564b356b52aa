"""The wire policy: status classification, Retry-After, bounded retries (respx for HTTP)."""

from __future__ import annotations

import httpx
import pytest
import respx

from syncd.errors import AuthError, PermanentError, TransientError
from syncd.http import (
    RateLimiter,
    raise_for_response,
    raise_for_status,
    retry_after_seconds,
    retry_policy,
    transport_error,
)


def _get(client: httpx.Client) -> httpx.Response:
    try:
        response = client.get("https://tool.example/api")
    except httpx.TransportError as exc:
        raise transport_error("tool", exc) from exc
    raise_for_response("tool", response, auth_setting="connectors.tool.token")
    return response


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3
    assert (
        retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
        == 10
    )
    assert retry_after_seconds({}) is None


@respx.mock(assert_all_called=True)
def test_timeouts_429s_and_500s_are_retried_until_success(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("https://tool.example/api").mock(
        side_effect=[
            httpx.ConnectTimeout("slow"),
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(500, json={"error": "boom"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    slept: list[float] = []
    policy = retry_policy(sleep=slept.append, attempts=6)
    with httpx.Client() as client:
        response = policy(_get, client)
    assert response.json() == {"ok": True}
    assert route.call_count == 4
    assert 2.0 <= slept[1] <= 2.1  # Retry-After honoured
    assert len(slept) == 3


@respx.mock
def test_retries_are_bounded(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("https://tool.example/api").mock(return_value=httpx.Response(503))
    slept: list[float] = []
    with httpx.Client() as client, pytest.raises(TransientError):
        retry_policy(sleep=slept.append, attempts=4)(_get, client)
    assert route.call_count == 4 and len(slept) == 3


@respx.mock
def test_bad_credentials_stop_at_once_naming_the_setting(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("https://tool.example/api").mock(
        return_value=httpx.Response(401, text="Unauthorized")
    )
    with httpx.Client() as client, pytest.raises(AuthError) as caught:
        retry_policy(sleep=lambda _: None)(_get, client)
    assert route.call_count == 1
    assert "connectors.tool.token" in str(caught.value) and "[tool]" in str(caught.value)


@respx.mock
def test_other_4xx_is_permanent_and_not_retried(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("https://tool.example/api").mock(
        return_value=httpx.Response(400, text="Field 'x' cannot be set")
    )
    with httpx.Client() as client, pytest.raises(PermanentError, match="cannot be set"):
        retry_policy(sleep=lambda _: None)(_get, client)
    assert route.call_count == 1


def test_rate_limiter_paces_calls() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(60, burst=2, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    # 2 from the burst, then one a second.
    assert now[0] == pytest.approx(3.0)
    assert limiter.waited == pytest.approx(3.0)


@pytest.mark.parametrize("quota", [60, 300, 7])
def test_a_clock_minute_quota_is_never_exceeded_in_any_minute(quota: int) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter.per_clock_minute(quota, clock=lambda: now[0], sleep=sleep)
    moments = []
    for _ in range(quota * 5):  # five minutes of as many calls as it allows
        limiter.acquire()
        moments.append(now[0])
    for start in range(300):  # every window of 60 s, whatever its alignment
        assert sum(start <= m < start + 60 for m in moments) <= quota
    assert len(moments) / (moments[-1] / 60) >= quota * 0.85  # and close to the quota


def test_an_endpoint_may_say_which_statuses_refuse_its_credentials() -> None:
    with pytest.raises(PermanentError, match="400: bad script"):
        raise_for_status("tool", 400, {}, "bad script", auth_setting="connectors.tool.key")
    with pytest.raises(AuthError, match=r"tool refused script 'x' \(400: bad script\)") as refused:
        raise_for_status(
            "tool",
            400,
            {},
            "bad script",
            auth_setting="connectors.tool.key",
            credential_statuses={400, 401},
            refused="tool refused script 'x'",
        )
    assert refused.value.setting == "connectors.tool.key"
