"""Item 6, upstream faults: every call of a real connector meets a schedule of connect
timeouts, read timeouts, dropped connections, 429s with Retry-After and 500s before it is
answered (respx sequences). Every call finishes, attempts per call stay within the policy's
maximum (6), and the injected sleep waits at least each Retry-After.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.shotgrid import ShotGridConfig, ShotGridConnector
from syncd.errors import TransientError
from tests.reliability.figures import Figures, Record

SITE = "https://studio.shotgrid.example"
API = f"{SITE}/api/v1"
MAX_ATTEMPTS = 6  # syncd.http.retry_policy's default, which the connectors use

# One fault: what the server (or the network) does instead of answering.
Fault = Callable[[httpx.Request], httpx.Response]


def _raise(kind: type[Exception]) -> Fault:
    def fault(request: httpx.Request) -> httpx.Response:
        raise kind("injected", request=request)  # type: ignore[call-arg]

    return fault


def _status(code: int, retry_after: int | None = None) -> Fault:
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return lambda _request: httpx.Response(code, headers=headers, json={"errors": []})


FAULTS: dict[str, Fault] = {
    "connect-timeout": _raise(httpx.ConnectTimeout),
    "read-timeout": _raise(httpx.ReadTimeout),
    "dropped": _raise(httpx.RemoteProtocolError),
    "429": _status(429, retry_after=2),
    "429-7s": _status(429, retry_after=7),
    "500": _status(500),
    "503": _status(503),
}
TOKEN = {"token_type": "Bearer", "access_token": "opaque", "expires_in": 600}
USERS = {"data": [{"type": "HumanUser", "id": 7, "attributes": {"email": "ana@x.example",
                                                                 "name": "Ana"}}],
         "links": {"self": "/api/v1/entity/HumanUser/_search"}}  # fmt: skip


def _connector(slept: list[float]) -> ShotGridConnector:
    config = ShotGridConfig(
        base_url=SITE, script_name="syncd", script_key="k", project_id=122, api_user_id=9
    )
    return ShotGridConnector("shotgrid", config, sleep=slept.append)


def _answers(schedule: list[str], success: Any) -> list[Any]:
    return [FAULTS[name] for name in schedule] + [httpx.Response(200, json=success)]


def _run(schedules: tuple[list[str], list[str]]) -> tuple[int, int, list[float], Any]:
    """The token call and a people listing, each with its schedule; their attempts, the
    sleeps and the outcome (the people, or the error)."""
    slept: list[float] = []
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        token = mock.post(f"{API}/auth/access_token").mock(
            side_effect=_answers(schedules[0], TOKEN)
        )
        users = mock.route(method__in=["GET", "POST"], url__startswith=f"{API}/entity/").mock(
            side_effect=[*_answers(schedules[1], USERS)]
            + [httpx.Response(200, json={"data": [], "links": {}})] * 5
        )
        connector = _connector(slept)
        try:
            outcome: Any = list(connector.people())
        except TransientError as exc:
            outcome = exc
        finally:
            connector.close()
        return token.call_count, users.call_count, slept, outcome


schedule = st.lists(st.sampled_from(sorted(FAULTS)), max_size=MAX_ATTEMPTS + 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token_faults=schedule, call_faults=schedule)
def test_any_fault_schedule_is_retried_within_the_cap_honouring_retry_after(
    token_faults: list[str], call_faults: list[str]
) -> None:
    token_calls, user_calls, slept, outcome = _run((token_faults, call_faults))
    # The policy caps the attempts of one logical call (token exchange included).
    assert token_calls <= MAX_ATTEMPTS and user_calls <= MAX_ATTEMPTS
    faults = token_faults + call_faults
    if len(faults) < MAX_ATTEMPTS:
        assert not isinstance(outcome, Exception), outcome  # the budget covered every fault
    if isinstance(outcome, Exception):
        assert isinstance(outcome, TransientError)
        return
    # Every fault was retried once, and every 429 waited at least its Retry-After.
    assert token_calls + user_calls == len(faults) + 2
    expected = sorted(({"429": 2.0, "429-7s": 7.0}.get(n, 0.0) for n in faults), reverse=True)
    assert len(slept) == len(expected)
    assert all(s >= e for s, e in zip(sorted(slept, reverse=True), expected, strict=True))


def test_the_fixed_schedule_figure(figures: Figures, record_property: Record) -> None:
    # Five faults: one short of the cap, which counts the token exchange with the call.
    schedules = (["connect-timeout", "429"], ["read-timeout", "429-7s", "dropped"])
    token_calls, user_calls, slept, outcome = _run(schedules)
    assert not isinstance(outcome, Exception)
    assert [p.email for p in outcome] == ["ana@x.example"]
    assert (token_calls, user_calls) == (3, 4)
    retry_after_sleeps = sorted(s for s in slept if s >= 2.0)
    assert retry_after_sleeps[0] >= 2.0 and retry_after_sleeps[-1] >= 7.0
    figures.report(
        record_property, 6, attempts_token=token_calls, attempts_listing=user_calls,
        max_attempts=MAX_ATTEMPTS, slept=json.dumps([round(s, 2) for s in slept]),
    )  # fmt: skip


@pytest.mark.parametrize("faults", [MAX_ATTEMPTS, MAX_ATTEMPTS + 3])
def test_a_call_that_never_succeeds_stops_at_the_cap(faults: int) -> None:
    token_calls, _, _, outcome = _run((["500"] * faults, []))
    assert isinstance(outcome, TransientError)
    assert token_calls == MAX_ATTEMPTS
