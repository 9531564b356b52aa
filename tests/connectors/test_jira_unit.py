"""The Jira connector's wire paths with respx (the `jira` library's session sends through
httpx), and its pure parts: JQL and cursor, custom field translation, webhooks, config."""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import requests
import respx
from pydantic import ValidationError

from connectors.jira import JiraConfig, JiraConnector
from connectors.jira import jql as q
from connectors.jira.fields import FieldCatalog, UnknownField
from connectors.jira.transport import HttpxAdapter
from syncd.connector import PushItem
from syncd.errors import AuthError, PermanentError, TransientError
from syncd.signatures import SignatureError
from syncd_sandbox.signing import sign_jira

SITE = "https://studio.atlassian.net"
API = f"{SITE}/rest/api/3"
TOKEN = "api-token-s3cr3t"
SECRET = "webhook-secret"
ME = {"accountId": "acc-syncd", "timeZone": "Europe/Paris", "emailAddress": "syncd@x.example"}
FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string"}},
    {"id": "status", "name": "Status", "custom": False, "schema": {"type": "status"}},
    {"id": "updated", "name": "Updated", "custom": False, "schema": {"type": "datetime"}},
    {"id": "issuetype", "name": "Issue Type", "custom": False, "schema": {"type": "issuetype"}},
    {"id": "assignee", "name": "Assignee", "custom": False, "schema": {"type": "user"}},
    {"id": "labels", "name": "Labels", "custom": False,
     "schema": {"type": "array", "items": "string"}},
    {"id": "customfield_1", "name": "Milestone", "custom": True, "schema": {"type": "option"}},
    {"id": "customfield_2", "name": "ShotGrid Task", "custom": True, "schema": {"type": "number"}},
    {"id": "customfield_3", "name": "Team", "custom": True, "schema": {"type": "option"}},
    {"id": "customfield_4", "name": "Team", "custom": True, "schema": {"type": "string"}},
    {"id": "customfield_5", "name": "Reviewers", "custom": True,
     "schema": {"type": "array", "items": "user"}},
]  # fmt: skip


def _issue(
    key: str, updated: str = "2026-10-01T10:00:00.000+0200", **fields: Any
) -> dict[str, Any]:
    return {
        "id": str(10000 + int(key.split("-")[1])),
        "key": key,
        "fields": {"summary": f"Issue {key}", "updated": updated, "customfield_2": 5.0, **fields},
    }


def _page(issues: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"issues": issues, "isLast": token is None}
    if token:
        body["nextPageToken"] = token
    return body


def _config(**overrides: Any) -> JiraConfig:
    values: dict[str, Any] = {
        "base_url": SITE,
        "email": "syncd@x.example",
        "api_token": TOKEN,
        "projects": ["HRB"],
        "webhook_secret": SECRET,
        **overrides,
    }
    return JiraConfig.model_validate(values)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def connector(slept: list[float]) -> Iterator[JiraConnector]:
    conn = JiraConnector("jira", _config(), sleep=slept.append, now=lambda: NOW)
    yield conn
    conn.close()


@pytest.fixture
def site(respx_mock: respx.MockRouter) -> respx.MockRouter:
    """A Cloud site that knows who we are and what its fields are."""
    respx_mock.get(f"{API}/serverInfo").mock(
        return_value=httpx.Response(
            200, json={"versionNumbers": [1001, 0, 0], "deploymentType": "Cloud"}
        )
    )
    respx_mock.get(f"{API}/field").mock(return_value=httpx.Response(200, json=FIELDS))
    respx_mock.get(f"{API}/myself").mock(return_value=httpx.Response(200, json=ME))
    return respx_mock


def _params(route: respx.Route, index: int = -1) -> dict[str, str]:
    return dict(route.calls[index].request.url.params)


# -- the wire ------------------------------------------------------------------------------


@respx.mock(assert_all_mocked=True)
def test_pull_asks_for_mapped_fields_by_id_and_follows_page_tokens(
    site: respx.MockRouter, connector: JiraConnector
) -> None:
    search = site.get(f"{API}/search/jql").mock(
        side_effect=[
            httpx.Response(200, json=_page([_issue("HRB-1")], token="t1")),
            httpx.Response(200, json=_page([_issue("HRB-2", "2026-10-01T11:00:00.000+0200")])),
        ]
    )
    paths = [("key",), ("fields", "summary"), ("fields", "Milestone"), ("fields", "ShotGrid Task")]
    batches = list(connector.pull("issue", None, fields=paths))
    assert [b.cursor for b in batches] == [
        "2026-10-01T08:00:00.000+00:00",
        "2026-10-01T09:00:00.000+00:00",
    ]
    first, second = _params(search, 0), _params(search, 1)
    assert first["fields"] == "summary,customfield_1,customfield_2,updated"
    assert first["maxResults"] == "100" and "nextPageToken" not in first
    assert second["nextPageToken"] == "t1"
    assert first["jql"] == 'project in ("HRB") ORDER BY updated ASC, key ASC'
    assert batches[0].records[0].data["fields"]["ShotGrid Task"] == 5.0
    # Basic auth from the library, on the wire through httpx.
    assert search.calls[0].request.headers["authorization"].startswith("Basic ")


@respx.mock(assert_all_mocked=True)
def test_incremental_pull_starts_an_overlap_before_the_cursor_in_the_users_zone(
    site: respx.MockRouter, connector: JiraConnector
) -> None:
    search = site.get(f"{API}/search/jql").mock(return_value=httpx.Response(200, json=_page([])))
    [batch] = connector.pull("issue", "2026-10-01T08:00:30.000+00:00", fields=[])
    assert batch.records == [] and batch.cursor == "2026-10-01T08:00:30.000+00:00"
    # 08:00:30 UTC - 2 min = 07:58:30 UTC = 09:58 in Paris (CEST), floored to the minute.
    assert _params(search)["jql"] == (
        'project in ("HRB") AND updated >= "2026/10/01 09:58" ORDER BY updated ASC, key ASC'
    )


@respx.mock(assert_all_mocked=True)
def test_429_with_retry_after_then_200(
    site: respx.MockRouter, connector: JiraConnector, slept: list[float]
) -> None:
    search = site.get(f"{API}/search/jql").mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"Retry-After": "7", "RateLimit-Reason": "jira-burst-based"},
                json={"errorMessages": ["Rate limited."], "errors": {}},
            ),
            httpx.Response(200, json=_page([_issue("HRB-1")])),
        ]
    )
    [batch] = connector.pull("issue", None, fields=[])
    assert [r.external_id for r in batch.records] == ["HRB-1"]
    assert search.call_count == 2
    assert 7.0 <= slept[-1] <= 7.2


@respx.mock(assert_all_mocked=True)
def test_503_without_retry_after_backs_off_and_gives_up_bounded(
    site: respx.MockRouter, connector: JiraConnector, slept: list[float]
) -> None:
    search = site.get(f"{API}/search/jql").mock(return_value=httpx.Response(503, text="busy"))
    with pytest.raises(TransientError, match="503"):
        list(connector.pull("issue", None, fields=[]))
    assert search.call_count == 6  # the shared policy's attempts
    assert len(slept) == 5 and all(0 <= s <= 60 for s in slept)


@respx.mock(assert_all_mocked=True)
def test_timeouts_are_retried_and_bounded(site: respx.MockRouter, connector: JiraConnector) -> None:
    search = site.get(f"{API}/search/jql").mock(
        side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(200, json=_page([]))]
    )
    assert [b.records for b in connector.pull("issue", None, fields=[])] == [[]]
    assert search.call_count == 2
    search.mock(side_effect=httpx.ReadTimeout("stalled"))
    with pytest.raises(TransientError, match="ReadTimeout"):
        list(connector.pull("issue", None, fields=[]))
    assert search.call_count == 2 + 6


@respx.mock(assert_all_mocked=True)
def test_401_names_the_setting_and_never_the_token(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{API}/serverInfo").mock(
        return_value=httpx.Response(
            401, text="Client must be authenticated to access this resource."
        )
    )
    conn = JiraConnector("main", _config(), sleep=lambda _: None)
    try:
        with pytest.raises(AuthError) as refused:
            list(conn.pull("issue", None, fields=[]))
    finally:
        conn.close()
    assert refused.value.setting == "connectors.main.api_token"
    assert "connectors.main.api_token" in str(refused.value) and TOKEN not in str(refused.value)


@respx.mock(assert_all_mocked=True)
def test_403_with_an_authentication_denied_reason_is_an_auth_error(
    site: respx.MockRouter, connector: JiraConnector
) -> None:
    site.get(f"{API}/search/jql").mock(
        return_value=httpx.Response(
            403, headers={"X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE"}, text=""
        )
    )
    with pytest.raises(AuthError, match="CAPTCHA_CHALLENGE"):
        list(connector.pull("issue", None, fields=[]))


@respx.mock(assert_all_mocked=True)
def test_integration_user_asks_once_and_never_holds_a_webhook_up(
    respx_mock: respx.MockRouter, connector: JiraConnector, slept: list[float]
) -> None:
    respx_mock.get(f"{API}/serverInfo").mock(
        return_value=httpx.Response(200, json={"versionNumbers": [1], "deploymentType": "Cloud"})
    )
    myself = respx_mock.get(f"{API}/myself").mock(
        side_effect=[httpx.Response(503, text="down"), httpx.Response(200, json=ME)]
    )
    assert connector.integration_user is None and myself.call_count == 1 and slept == []
    assert connector.integration_user == "acc-syncd"
    assert connector.integration_user == "acc-syncd" and myself.call_count == 2  # kept


@respx.mock(assert_all_mocked=True)
def test_a_site_that_is_not_cloud_is_refused(
    respx_mock: respx.MockRouter, connector: JiraConnector
) -> None:
    respx_mock.get(f"{API}/serverInfo").mock(
        return_value=httpx.Response(
            200, json={"versionNumbers": [9, 12, 0], "deploymentType": "Server"}
        )
    )
    with pytest.raises(PermanentError, match="not Jira Cloud"):
        list(connector.pull("issue", None, fields=[]))


@respx.mock(assert_all_mocked=True)
def test_fetch_falls_back_to_one_by_one_when_jira_names_no_key(
    site: respx.MockRouter, connector: JiraConnector
) -> None:
    site.get(f"{API}/search/jql").mock(
        return_value=httpx.Response(
            400, json={"errorMessages": ["Something is wrong."], "errors": {}}
        )
    )
    site.get(f"{API}/issue/HRB-1").mock(return_value=httpx.Response(200, json=_issue("HRB-1")))
    site.get(f"{API}/issue/HRB-2").mock(
        return_value=httpx.Response(404, json={"errorMessages": ["Issue does not exist."]})
    )
    records = connector.fetch("issue", ["HRB-1", "HRB-2"], fields=[])
    assert [(r.external_id, r.deleted) for r in records] == [("HRB-1", False), ("HRB-2", True)]


@respx.mock(assert_all_mocked=True)
def test_push_sends_ids_and_jira_shapes_in_one_put(
    site: respx.MockRouter, connector: JiraConnector
) -> None:
    put = site.put(f"{API}/issue/HRB-1").mock(return_value=httpx.Response(204))
    item = PushItem(
        external_id="HRB-1",
        payload={
            "fields": {
                "summary": "New",
                "assignee": "acc-mia",
                "Milestone": "Alpha",
                "Reviewers": ["acc-a", "acc-b"],
                "labels": ["x"],
            }
        },
    )
    assert connector.push("issue", [item]).written == ["HRB-1"]
    assert json.loads(put.calls.last.request.content) == {
        "fields": {
            "summary": "New",
            "assignee": {"accountId": "acc-mia"},
            "customfield_1": {"value": "Alpha"},
            "customfield_5": [{"accountId": "acc-a"}, {"accountId": "acc-b"}],
            "labels": ["x"],
        }
    }
    assert put.call_count == 1


@respx.mock(assert_all_mocked=True)
def test_a_500_on_a_put_is_retried_because_edits_are_sets(
    site: respx.MockRouter, connector: JiraConnector
) -> None:
    put = site.put(f"{API}/issue/HRB-1").mock(
        side_effect=[httpx.Response(500, json={"errorMessages": ["oops"]}), httpx.Response(204)]
    )
    item = PushItem(external_id="HRB-1", payload={"fields": {"summary": "New"}})
    assert connector.push("issue", [item]).written == ["HRB-1"]
    assert put.call_count == 2


def _at(status: str, *offered: tuple[str, str]) -> httpx.Response:
    body = {
        **_issue("HRB-1", status={"name": status}, issuetype={"id": "10001"}),
        "transitions": [{"id": i, "name": to, "to": {"name": to}} for i, to in offered],
    }
    return httpx.Response(200, json=body)


@respx.mock(assert_all_mocked=True)
def test_a_transition_that_landed_before_its_retry_is_not_reported_refused(
    site: respx.MockRouter, connector: JiraConnector
) -> None:
    read = site.get(f"{API}/issue/HRB-1").mock(
        side_effect=[_at("To Do", ("21", "In Progress")), _at("In Progress", ("11", "To Do"))]
    )
    move = site.post(f"{API}/issue/HRB-1/transitions").mock(
        side_effect=[
            httpx.Response(500, json={"errorMessages": ["timeout"]}),  # ...but it landed
            httpx.Response(400, json={"errorMessages": ["Transition id '21' is not valid."]}),
        ]
    )
    item = PushItem(external_id="HRB-1", payload={"fields": {"status": {"name": "In Progress"}}})
    assert connector.push("issue", [item]).written == ["HRB-1"]
    assert json.loads(move.calls[0].request.content)["transition"] == {"id": 21}
    assert read.call_count == 2 and move.call_count == 2
    assert _params(read, 0)["expand"] == "transitions"


@respx.mock(assert_all_mocked=True)
def test_people_page_through_users_search_until_an_empty_page(
    site: respx.MockRouter, connector: JiraConnector
) -> None:
    users = site.get(f"{API}/users/search").mock(
        side_effect=[
            httpx.Response(200, json=[{"accountId": "a", "emailAddress": "a@x", "displayName": "A"},
                                      {"accountId": "b", "displayName": "B"}]),
            httpx.Response(200, json=[]),
        ]
    )  # fmt: skip
    people = list(connector.people())
    assert [(p.user_id, p.email) for p in people] == [("a", "a@x"), ("b", None)]
    assert [_params(users, i)["startAt"] for i in range(2)] == ["0", "1000"]


class _Clock:
    """A monotonic clock that sleeping moves forward; remembers every wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def _paced(http: httpx.Client, clock: _Clock) -> JiraConnector:
    """A connector at 60 calls a minute per endpoint, on the fake clock."""
    config = _config(rate_limit_per_minute=60)
    return JiraConnector("jira", config, http=http, clock=clock, sleep=clock.sleep)


def _cloud_info(request: httpx.Request) -> httpx.Response | None:
    if request.url.path.endswith("/serverInfo"):
        return httpx.Response(200, json={"versionNumbers": [1], "deploymentType": "Cloud"})
    return None


def test_rate_limiter_spaces_calls_to_the_configured_quota() -> None:
    clock = _Clock()

    def handler(request: httpx.Request) -> httpx.Response:
        return _cloud_info(request) or httpx.Response(200, json=FIELDS)

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        conn = _paced(http, clock)
        conn.fields_catalog()  # serverInfo + field: within the burst
        for _ in range(12):
            conn.client.fields()
        conn.close()
    # 60/min per endpoint: `GET field` has a burst of 10, then one a second (13 calls).
    assert len(clock.waits) == 3 and all(abs(w - 1.0) < 1e-6 for w in clock.waits)
    assert conn.client.limits.waited == pytest.approx({"GET serverInfo": 0.0, "GET field": 3.0})


def test_an_edit_backlog_does_not_hold_up_searches() -> None:
    """Jira counts burst limits per endpoint and method: so does the client."""
    clock = _Clock()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(204)
        return _cloud_info(request) or httpx.Response(200, json={"issues": [], "isLast": True})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        conn = _paced(http, clock)
        for n in range(15):
            conn.client.edit(f"VFX-{n}", {"summary": "x"})
        edits_waited = len(clock.waits)
        conn.client.search("project = VFX", ["summary"], 100, None)
        conn.close()
    assert edits_waited == 5  # the edits' own bucket: a burst of 10, then one a second
    assert len(clock.waits) == edits_waited  # the search had a bucket of its own


@pytest.mark.parametrize("concurrency", [1, 3])
def test_issue_edits_go_out_a_few_at_a_time(concurrency: int) -> None:
    """One issue per call: `write_concurrency` of them in flight, never more."""
    in_flight, most = [0], [0]
    lock = threading.Lock()
    released = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method != "PUT":
            return _cloud_info(request) or httpx.Response(200, json=FIELDS)
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            if most[0] >= concurrency:
                released.set()
        released.wait(5)  # hold each edit until as many as allowed are in flight
        with lock:
            in_flight[0] -= 1
        return httpx.Response(204)

    items = [PushItem(external_id=f"HRB-{n}", payload={"fields": {"summary": f"T{n}"}})
             for n in range(1, 10)]  # fmt: skip
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        conn = JiraConnector("jira", _config(write_concurrency=concurrency), http=http)
        result = conn.push("issue", items)
        conn.close()
    assert sorted(result.written) == sorted(i.external_id for i in items)
    assert most[0] == concurrency


# -- the library's session ------------------------------------------------------------------


def test_the_session_sends_jira_headers_and_one_request_per_attempt() -> None:
    """The library's own retries are off: each attempt of the shared policy is one request."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "PUT":
            return httpx.Response(503, json={"errorMessages": ["busy"]})
        return _cloud_info(request) or httpx.Response(204)

    slept: list[float] = []
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        conn = JiraConnector("jira", _config(), http=http, sleep=slept.append)
        conn.client.transition("HRB-1", "31")
        with pytest.raises(TransientError, match="503: busy"):
            conn.client.edit("HRB-1", {"summary": "x"})
        conn.close()
    info, move, *edits = seen
    assert info.url == f"{API}/serverInfo" and move.url == f"{API}/issue/HRB-1/transitions"
    # What `JIRA.transition_issue` sends for a numeric id.
    assert json.loads(move.content) == {"transition": {"id": 31}, "fields": {}}
    for request in (info, move, *edits):
        assert request.headers["authorization"].startswith("Basic ")
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-atlassian-token"] == "no-check"
        assert request.headers["accept"].startswith("application/json")
    assert len(edits) == 6 and len(slept) == 5  # the shared policy's attempts, no more


def test_a_429_is_retried_after_its_retry_after_and_the_retry_is_paced() -> None:
    """Retry-After sets the shared policy's wait; the retry still takes its endpoint's token."""
    clock = _Clock()
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}, json={"errorMessages": ["slow"]}),
            httpx.Response(204),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return _cloud_info(request) or next(answers)

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        # 6 calls a minute: a burst of one, then one every 10 s.
        config = _config(rate_limit_per_minute=6)
        conn = JiraConnector("jira", config, http=http, clock=clock, sleep=clock.sleep)
        conn.client.edit("HRB-1", {"summary": "x"})
        conn.close()
    retry_wait, paced = clock.waits
    assert 2.0 <= retry_wait <= 2.1  # Retry-After, plus a little jitter
    assert retry_wait + paced == pytest.approx(10.0)  # the bucket's refill, not a second less
    assert conn.client.limits.waited["PUT issue/{key}"] == pytest.approx(paced)


@respx.mock(assert_all_mocked=True)
def test_a_400_is_a_permanent_refusal_of_that_issue_and_not_retried(
    site: respx.MockRouter, connector: JiraConnector, slept: list[float]
) -> None:
    put = site.put(f"{API}/issue/HRB-1").mock(
        return_value=httpx.Response(
            400,
            json={"errorMessages": [], "errors": {"customfield_1": "Option 'Zeta' is not valid"}},
        )
    )
    item = PushItem(external_id="HRB-1", payload={"fields": {"Milestone": "Zeta"}})
    result = connector.push("issue", [item])
    assert result.written == [] and put.call_count == 1 and slept == []
    assert "Option 'Zeta' is not valid" in result.rejected["HRB-1"]
    refused = site.get(f"{API}/issue/HRB-2").mock(
        return_value=httpx.Response(400, json={"errorMessages": ["Bad field list."]})
    )
    with pytest.raises(PermanentError, match="400: Bad field list") as failed:
        connector.client.issue("HRB-2", ["summary"])
    assert not isinstance(failed.value, TransientError) and refused.call_count == 1


# -- the transport -------------------------------------------------------------------------


def test_the_adapter_carries_method_body_headers_and_errors() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/down":
            raise httpx.ConnectError("refused")
        return httpx.Response(
            201,
            headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Retry-After", "3")],
            json={"ok": "é"},
        )

    with httpx.Client(transport=httpx.MockTransport(handler)) as http, requests.Session() as s:
        s.mount("http://", HttpxAdapter(http))
        answer = s.post("http://site/x", data=json.dumps({"v": "é"}), headers={"X-A": "1"})
        assert answer.status_code == 201 and answer.json() == {"ok": "é"}
        assert answer.headers["retry-after"] == "3"
        sent = seen[-1]
        assert sent.method == "POST" and json.loads(sent.content) == {"v": "é"}
        assert sent.headers["x-a"] == "1"
        with pytest.raises(requests.ConnectionError) as failed:
            s.get("http://site/down")
        assert isinstance(failed.value.__cause__, httpx.ConnectError)


# -- pure parts ----------------------------------------------------------------------------


def test_jql_dates_are_local_floored_and_never_late() -> None:
    moment = datetime(2026, 10, 1, 8, 0, 59, tzinfo=UTC)
    assert q.local_minute(moment, ZoneInfo("Asia/Kolkata")) == "2026/10/01 13:30"
    assert q.local_minute(moment, ZoneInfo("America/Los_Angeles")) == "2026/10/01 01:00"
    # 2026-10-25 02:30 happens twice in Paris (clocks go back at 03:00 CEST): ask from 01:30.
    folded = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the second one
    assert q.local_minute(folded, ZoneInfo("Europe/Paris")) == "2026/10/25 02:30"
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first one
    assert q.local_minute(first, ZoneInfo("Europe/Paris")) == "2026/10/25 01:30"


def test_cursor_round_trips_and_sorts_as_text() -> None:
    a = q.parse_timestamp("2026-10-01T09:59:59.999+0200")
    b = q.parse_timestamp("2026-10-01T08:00:00.000Z")
    assert q.format_cursor(a) == "2026-10-01T07:59:59.999+00:00"
    assert q.parse_cursor(q.format_cursor(b)) == b
    assert q.format_cursor(a) < q.format_cursor(b)
    assert q.since_for(b, timedelta(minutes=2)) == b - timedelta(minutes=2)
    assert q.parse_cursor(None) is None
    with pytest.raises(ValueError):
        q.parse_cursor("page-3")


def test_jql_quotes_values_and_recognizes_keys() -> None:
    assert q.keys_jql(["HRB-1", 'X"-2']) == 'key in ("HRB-1", "X\\"-2")'
    assert q.is_issue_key("HRB_2-10") and not q.is_issue_key("hrb-1")
    assert not q.is_issue_key("HRB-0") and not q.is_issue_key("HRB-1) OR (1=1")


def test_field_catalog_names_ids_and_shapes() -> None:
    catalog = FieldCatalog(FIELDS)
    assert catalog.resolve("Milestone") == "customfield_1"
    assert catalog.resolve("summary") == "summary" and catalog.resolve("Team") is None
    assert catalog.ambiguous == {"Team": ["customfield_3", "customfield_4"]}
    assert catalog.request(["summary", "Team", "Nope"]) == (["summary"], ["Team", "Nope"])
    shown = catalog.present(
        {"customfield_1": {"value": "A"}, "customfield_3": None, "summary": "s"}
    )
    assert shown == {"Milestone": {"value": "A"}, "customfield_3": None, "summary": "s"}
    kept = catalog.present({"customfield_1": 1}, keep_ids=frozenset({"customfield_1"}))
    assert kept == {"customfield_1": 1}
    assert catalog.outgoing({"Milestone": None, "assignee": None}) == {
        "customfield_1": None,
        "assignee": None,
    }
    with pytest.raises(UnknownField, match="'Team', 'Nope'"):
        catalog.outgoing({"Team": "x", "Nope": 1})


def _signed(payload: Any, headers: dict[str, str] | None = None) -> tuple[dict[str, str], bytes]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {**sign_jira(body, SECRET), **(headers or {})}, body


NOW = 1_800_000_000.0  # the connector's wall clock in these tests (seconds)


def _event(event: str, key: str = "HRB-3", project: str = "HRB") -> dict[str, Any]:
    return {
        "timestamp": int(NOW * 1000) - 1500,
        "webhookEvent": event,
        "user": {"accountId": "acc-mia"},
        "issue": {"id": "10003", "key": key, "fields": {"project": {"key": project}}},
    }


def _fresh(payload: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": int(NOW * 1000), **payload}


def test_webhook_issue_events(connector: JiraConnector) -> None:
    ident = {"X-Atlassian-Webhook-Identifier": "d-1"}
    stamp = int(NOW * 1000) - 1500
    for event, deleted in (
        ("jira:issue_created", False),
        ("jira:issue_updated", False),
        ("jira:issue_deleted", True),
    ):
        [parsed] = connector.parse_webhook(*_signed(_event(event), ident))
        key = f"{event}:issue:10003:{stamp}"  # from the signed body, never the header
        assert (parsed.delivery_id, parsed.entity, parsed.external_id) == (key, "issue", "HRB-3")
        assert parsed.deleted is deleted and parsed.author == "acc-mia"
    # A changelog names the change: its id is the key, whatever identifier the header says.
    changed = {**_event("jira:issue_updated"), "changelog": {"id": "10123", "items": []}}
    for header in ({}, ident, {"X-Atlassian-Webhook-Identifier": "d-2"}):
        [parsed] = connector.parse_webhook(*_signed(changed, header))
        assert parsed.delivery_id == "jira:issue_updated:changelog:10123"


def test_webhook_other_events_and_projects_say_nothing(connector: JiraConnector) -> None:
    for event in ("comment_created", "worklog_updated", "sprint_started", "jira:version_released"):
        assert connector.parse_webhook(*_signed(_fresh({"webhookEvent": event}))) == []
    other = _event("jira:issue_updated", key="OPS-1", project="OPS")
    assert connector.parse_webhook(*_signed(other)) == []


def test_malformed_webhooks_say_what_is_wrong(connector: JiraConnector) -> None:
    with pytest.raises(ValueError, match="not JSON"):
        connector.parse_webhook(*_signed(b"{nope"))
    with pytest.raises(ValueError, match="unknown Jira webhook event 'jira:mystery'"):
        connector.parse_webhook(*_signed(_fresh({"webhookEvent": "jira:mystery"})))
    with pytest.raises(ValueError, match="no webhookEvent"):
        connector.parse_webhook(*_signed(_fresh({"issue": {}})))
    with pytest.raises(ValueError, match="names no issue key"):
        connector.parse_webhook(
            *_signed(_fresh({"webhookEvent": "jira:issue_updated", "issue": {}}))
        )


def test_webhook_signatures_are_required(connector: JiraConnector) -> None:
    headers, body = _signed(_event("jira:issue_updated"))
    with pytest.raises(SignatureError, match="does not match"):
        connector.parse_webhook(headers, body + b" ")
    with pytest.raises(SignatureError, match="missing"):
        connector.parse_webhook({}, body)
    unset = JiraConnector("jira", _config(webhook_secret=None))
    with pytest.raises(SignatureError, match="secret is not set"):
        unset.parse_webhook(headers, body)
    unset.close()


# -- config --------------------------------------------------------------------------------


def test_config_example_table_validates_and_secrets_stay_hidden() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    table = tomllib.loads(example.read_text(encoding="utf-8"))["connectors"]["jira"]
    config = JiraConfig.model_validate({**table, "api_token": TOKEN})
    assert config.projects == ["HRB"] and config.page_size == 100
    assert config.rate_limit_per_minute == 600 and config.overlap_minutes == 2
    assert TOKEN not in repr(config) and TOKEN not in str(config.model_dump())
    with pytest.raises(ValidationError, match="projects"):
        _config(projects=['HRB") OR ("1'])
    with pytest.raises(ValidationError, match="extra"):
        _config(token="x")
    with pytest.raises(ValidationError, match="page_size"):
        _config(page_size=500)
