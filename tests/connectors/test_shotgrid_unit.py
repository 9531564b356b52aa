"""The ShotGrid connector's httpx paths (respx), webhook parsing, cursors and config."""

from __future__ import annotations

import base64
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.shotgrid import ShotGridConfig, ShotGridConnector
from connectors.shotgrid.paging import Cursor, field_list, served_size
from syncd.connector import PushItem
from syncd.errors import AuthError, TransientError
from syncd.signatures import SignatureError
from syncd_sandbox.signing import sign_shotgrid

SITE = "https://studio.shotgrid.example"
API = f"{SITE}/api/v1"
KEY = "s3cret-script-key"
SECRET = "hook-secret"
VENDOR = "application/vnd+shotgun.api3_hash+json"


def _token(user: dict[str, Any] | None = None, lifetime: int = 600) -> dict[str, Any]:
    claims = base64.urlsafe_b64encode(json.dumps({"user": user}).encode()).decode().rstrip("=")
    value = f"hdr.{claims}.sig" if user else "opaque-token"
    return {"token_type": "Bearer", "access_token": value, "expires_in": lifetime}


def _row(
    record_id: int, updated: str = "2026-01-02T03:04:05Z", **attributes: Any
) -> dict[str, Any]:
    return {
        "type": "Task",
        "id": record_id,
        "attributes": {"updated_at": updated, **attributes},
        "relationships": {
            "step": {"data": {"type": "Step", "id": 4, "name": "Rig"}, "links": {}},
            "task_assignees": {"data": [{"type": "HumanUser", "id": 7, "name": "Ana"}]},
        },
        "links": {"self": f"/api/v1/entity/tasks/{record_id}"},
    }


def _page(rows: list[dict[str, Any]], size: int = 500) -> dict[str, Any]:
    link = f"/api/v1/entity/Task/_search?page%5Bnumber%5D=2&page%5Bsize%5D={size}"
    return {"data": rows, "links": {"self": "/api/v1/entity/Task/_search", "next": link}}


def _envelope(
    status: int, title: str, detail: str | None = None, source: Any = None
) -> dict[str, Any]:
    error = {"id": "x", "status": status, "code": 104, "title": title}
    return {"errors": [{**error, "source": source, "detail": detail, "meta": None}]}


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def connector(slept: list[float]) -> Iterator[ShotGridConnector]:
    config = ShotGridConfig(
        base_url=SITE,
        script_name="syncd",
        script_key=KEY,
        project_id=122,
        webhook_secret=SECRET,
    )
    conn = ShotGridConnector("shotgrid", config, sleep=slept.append)
    yield conn
    conn.close()


@pytest.fixture
def auth(respx_mock: respx.MockRouter) -> respx.Route:
    return respx_mock.post(f"{API}/auth/access_token").mock(
        return_value=httpx.Response(200, json=_token({"type": "ApiUser", "id": 9}))
    )


# -- the wire ------------------------------------------------------------------------------


@respx.mock(assert_all_called=True, assert_all_mocked=True)
def test_search_speaks_the_vendor_type_and_keyset_pages(
    respx_mock: respx.MockRouter, auth: respx.Route, connector: ShotGridConnector
) -> None:
    search = respx_mock.post(f"{API}/entity/Task/_search").mock(
        side_effect=[
            httpx.Response(200, json=_page([_row(1), _row(2)], size=2)),  # clamped to 2
            httpx.Response(200, json=_page([_row(3, "2026-01-02T03:04:06Z")], size=2)),
            httpx.Response(200, json=_page([], size=500)),  # trash sweep
        ]
    )
    batches = list(connector.pull("Task", None, fields=[("content",), ("task_assignees", "0")]))
    assert [[r.external_id for r in b.records] for b in batches] == [["1", "2"], ["3"]]
    assert json.loads(batches[-1].cursor or "") == {
        "updated": "2026-01-02T03:04:06Z",
        "retired": None,
    }
    token_form = dict(httpx.QueryParams(auth.calls.last.request.content.decode()))
    assert token_form == {
        "grant_type": "client_credentials",
        "client_id": "syncd",
        "client_secret": KEY,
    }
    first, second, sweep = (json.loads(c.request.content) for c in search.calls)
    request = search.calls[0].request
    assert request.headers["content-type"] == VENDOR
    assert (
        request.headers["authorization"]
        == f"Bearer {auth.calls.last.response.json()['access_token']}"
    )
    assert first["fields"] == "content,task_assignees,updated_at"
    assert first["sort"] == "updated_at,id" and first["page"] == {"size": 500, "number": 1}
    assert first["filters"] == {
        "logical_operator": "and",
        "conditions": [["project.Project.id", "is", 122]],
    }
    assert second["filters"]["conditions"][1:] == [
        ["updated_at", "greater_than", "2026-01-02T03:04:04Z"],
        {
            "logical_operator": "or",
            "conditions": [
                ["updated_at", "greater_than", "2026-01-02T03:04:05Z"],
                ["id", "greater_than", 2],
            ],
        },
    ]
    assert sweep["options"] == {"return_only": "retired"} and sweep["fields"] == "updated_at"
    assert auth.call_count == 1


@respx.mock(assert_all_called=True)
def test_incremental_pull_starts_an_overlap_before_the_cursor(
    respx_mock: respx.MockRouter, auth: respx.Route, connector: ShotGridConnector
) -> None:
    search = respx_mock.post(f"{API}/entity/Task/_search").mock(
        return_value=httpx.Response(200, json=_page([]))
    )
    cursor = Cursor.decode('{"updated": "2026-01-02T03:04:05Z", "retired": null}').encode()
    assert list(connector.pull("Task", cursor, fields=[])) == []
    live, trash = (json.loads(c.request.content)["filters"]["conditions"] for c in search.calls)
    assert live[1] == ["updated_at", "greater_than", "2026-01-02T03:04:00Z"]
    assert trash == [["project.Project.id", "is", 122]]  # never swept: everything


@respx.mock(assert_all_called=True)
def test_429_with_retry_after_then_200(
    respx_mock: respx.MockRouter,
    auth: respx.Route,
    connector: ShotGridConnector,
    slept: list[float],
) -> None:
    search = respx_mock.post(f"{API}/entity/Task/_search").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json=_envelope(429, "Throttled")),
            httpx.Response(200, json=_page([_row(1)])),
        ]
    )
    [record] = connector.fetch("Task", ["1"], fields=[])
    assert not record.deleted and record.data["step"]["name"] == "Rig"
    assert search.call_count == 2
    assert 7.0 <= slept[-1] <= 7.2


@respx.mock(assert_all_called=True)
def test_timeouts_are_retried_and_bounded(
    respx_mock: respx.MockRouter,
    auth: respx.Route,
    connector: ShotGridConnector,
    slept: list[float],
) -> None:
    search = respx_mock.post(f"{API}/entity/Task/_search").mock(
        side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(200, json=_page([_row(1)]))]
    )
    assert not connector.fetch("Task", ["1"], fields=[])[0].deleted
    assert search.call_count == 2
    search.mock(side_effect=httpx.ReadTimeout("stalled"))
    with pytest.raises(TransientError, match="ReadTimeout"):
        connector.fetch("Task", ["1"], fields=[])
    assert search.call_count == 2 + 6  # the shared policy's attempts


@respx.mock(assert_all_called=True)
def test_refused_credentials_name_the_setting_and_never_the_key(
    respx_mock: respx.MockRouter, connector: ShotGridConnector
) -> None:
    # The site answers a wrong key with 400; a proxy might even echo the form back.
    respx_mock.post(f"{API}/auth/access_token").mock(
        return_value=httpx.Response(
            400, json=_envelope(400, "Can't authenticate script 'syncd'.", f"secret={KEY}")
        )
    )
    with pytest.raises(AuthError) as caught:
        connector.fetch("Task", ["1"], fields=[])
    assert caught.value.setting == "connectors.shotgrid.script_key"
    assert "Can't authenticate script" in str(caught.value) and KEY not in str(caught.value)
    assert "ShotGrid refused API script 'syncd' (400: " in str(caught.value)


@respx.mock(assert_all_called=True)
def test_401_reauthenticates_once_then_gives_up(
    respx_mock: respx.MockRouter, auth: respx.Route, connector: ShotGridConnector
) -> None:
    unauthorized = httpx.Response(401, json=_envelope(401, "Unauthorized", "expired"))
    search = respx_mock.post(f"{API}/entity/Task/_search").mock(
        side_effect=[unauthorized, httpx.Response(200, json=_page([_row(1)]))]
    )
    assert not connector.fetch("Task", ["1"], fields=[])[0].deleted
    assert (auth.call_count, search.call_count) == (2, 2)
    search.mock(side_effect=None, return_value=unauthorized)
    with pytest.raises(AuthError, match=r"connectors\.shotgrid\.script_key"):
        connector.fetch("Task", ["1"], fields=[])
    assert (auth.call_count, search.call_count) == (3, 4)  # once more each, not a loop


@respx.mock(assert_all_called=True)
def test_batch_without_a_named_culprit_is_split_until_found(
    respx_mock: respx.MockRouter, auth: respx.Route, connector: ShotGridConnector
) -> None:
    def batch(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/json"
        requests = json.loads(request.content)["requests"]
        if any(r["record_id"] == 3 for r in requests):
            return httpx.Response(403, json=_envelope(403, "Forbidden", "Task 3 is locked"))
        return httpx.Response(200, json={"data": [{"data": {}} for _ in requests]})

    route = respx_mock.post(f"{API}/entity/_batch").mock(side_effect=batch)
    items = [PushItem(external_id=str(i), payload={"content": f"t{i}"}) for i in range(1, 6)]
    result = connector.push("Task", [*items, PushItem(external_id="T-9", payload={"x": 1})])
    assert result.written == ["1", "2", "4", "5"]
    assert result.rejected == {
        "3": "Forbidden: Task 3 is locked",
        "T-9": "not a ShotGrid record id",
    }
    assert route.call_count == 5  # [1..5] -> [1,2] ok, [3,4,5] -> [3] refused, [4,5] ok


@respx.mock(assert_all_called=True)
def test_a_500_on_batch_is_retried_because_updates_are_sets(
    respx_mock: respx.MockRouter, auth: respx.Route, connector: ShotGridConnector
) -> None:
    route = respx_mock.post(f"{API}/entity/_batch").mock(
        side_effect=[
            httpx.Response(503, json=_envelope(503, "Service Unavailable")),
            httpx.Response(200, json={"data": [{"data": {}}]}),
        ]
    )
    result = connector.push("Task", [PushItem(external_id="1", payload={"est_in_mins": 60})])
    assert result.written == ["1"] and route.call_count == 2
    assert json.loads(route.calls.last.request.content) == {
        "requests": [
            {
                "request_type": "update",
                "entity": "Task",
                "record_id": 1,
                "data": {"est_in_mins": 60},
            }
        ]
    }


@respx.mock(assert_all_called=True)
def test_integration_user_falls_back_to_an_api_user_search(
    respx_mock: respx.MockRouter, connector: ShotGridConnector
) -> None:
    respx_mock.post(f"{API}/auth/access_token").mock(
        return_value=httpx.Response(200, json=_token(None))  # an opaque token
    )
    search = respx_mock.post(f"{API}/entity/ApiUser/_search").mock(
        return_value=httpx.Response(200, json=_page([{"type": "ApiUser", "id": 42}]))
    )
    assert connector.integration_user == "ApiUser:42"
    assert connector.integration_user == "ApiUser:42"  # cached
    body = json.loads(search.calls.last.request.content)
    assert body["filters"]["conditions"] == [["firstname", "is", "syncd"]]


def test_rate_limiter_spaces_calls_to_the_configured_quota() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(now[0])
        if request.url.path.endswith("access_token"):
            return httpx.Response(200, json=_token({"type": "ApiUser", "id": 1}, lifetime=10**6))
        return httpx.Response(200, json=_page([]))

    config = ShotGridConfig.model_validate(
        {
            "base_url": SITE,
            "script_name": "syncd",
            "script_key": KEY,
            "project_id": 1,
            "rate_limit_per_minute": 60,
        }
    )
    conn = ShotGridConnector(
        "shotgrid",
        config,
        transport=httpx.MockTransport(handler),
        clock=lambda: now[0],
        sleep=sleep,
    )
    for _ in range(15):
        conn.fetch("Task", ["1"], fields=[])
    conn.close()
    assert len(calls) == 16  # the token call counts against the quota too
    assert calls[9] == 0.0 and calls[-1] == pytest.approx(6.0)  # a burst of 10, then 1/s
    assert sum(waits) == pytest.approx(6.0)


# -- webhooks ------------------------------------------------------------------------------


def _event(entity: str = "Task", record_id: int = 5, **extra: Any) -> dict[str, Any]:
    return {
        "id": "1200.3.0",
        "event_log_entry_id": 1200,
        "event_type": f"Shotgun_{entity}_Change",
        "operation": "update",
        "entity": {"type": entity, "id": record_id},
        "project": {"type": "Project", "id": 122},
        "user": {"type": "HumanUser", "id": 88},
        "attribute_name": "sg_status_list",
        "meta": {"type": "attribute_change", "old_value": "ip", "new_value": "rev"},
        "created_at": "2026-02-01 20:53:08.523887",
        "session_uuid": None,
        "delivery_id": f"d-{record_id}",
        **extra,
    }


def _signed(payload: Any, headers: dict[str, str] | None = None) -> tuple[dict[str, str], bytes]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {**sign_shotgrid(body, SECRET), **(headers or {})}, body


def test_webhook_events_one_per_delivery_mapped_types_and_project_only(
    connector: ShotGridConnector,
) -> None:
    payload = {
        "timestamp": "2026-02-01T20:53:09Z",
        "data": {
            "deliveries": [
                _event(record_id=5),
                _event("Shot", 7, event_type="Shotgun_Shot_Retirement", operation="delete"),
                _event("HumanUser", 88),  # not mapped: ignored
                _event(record_id=6, project={"type": "Project", "id": 999}),  # another project
                _event(record_id=8, user={"type": "ApiUser", "id": 9}),
            ]
        },
    }
    events = connector.parse_webhook(*_signed(payload))
    assert [(e.entity, e.external_id, e.deleted, e.author, e.delivery_id) for e in events] == [
        ("Task", "5", False, "HumanUser:88", "d-5"),
        ("Shot", "7", True, "HumanUser:88", "d-7"),
        ("Task", "8", False, "ApiUser:9", "d-8"),
    ]


def test_the_dedupe_key_comes_from_the_signed_body_never_the_header(
    connector: ShotGridConnector,
) -> None:
    # x-sg-delivery-id is not signed: a replay could set it to anything.
    for header in ({}, {"x-sg-delivery-id": "hdr-1"}, {"x-sg-delivery-id": "hdr-2"}):
        [parsed] = connector.parse_webhook(*_signed({"data": _event()}, header))
        assert parsed.delivery_id == "d-5"
        [parsed] = connector.parse_webhook(*_signed({"data": _event(delivery_id=None)}, header))
        assert parsed.delivery_id == "event:1200"  # the event log entry id


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not JSON"),
        ([1, 2], 'no "data" object'),
        ({"data": {"deliveries": {}}}, "not a list"),
        ({"data": _event(event_type="Shotgun_Task_Exploded")}, "unknown event_type"),
        ({"data": _event(event_type=None)}, "unknown event_type"),
        ({"data": {**_event(), "entity": {"type": "Task"}}}, "names no entity"),
        (
            {"data": _event(delivery_id=None, event_log_entry_id=None)},
            "no delivery_id nor event_log_entry_id",
        ),
    ],
)
def test_malformed_deliveries_say_what_is_wrong(
    connector: ShotGridConnector, payload: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        connector.parse_webhook(*_signed(payload))
    assert not isinstance(caught.value, SignatureError)


def test_signature_is_checked_before_anything_else(connector: ShotGridConnector) -> None:
    headers, body = _signed(b"{not json")
    with pytest.raises(SignatureError, match="does not match"):
        connector.parse_webhook({"X-SG-SIGNATURE": "sha1=" + "0" * 40}, body)
    with pytest.raises(SignatureError, match="missing"):
        connector.parse_webhook({}, body)
    with pytest.raises(SignatureError, match="sha1="):
        connector.parse_webhook({"X-SG-SIGNATURE": headers["X-SG-SIGNATURE"][5:]}, body)


def test_without_a_secret_every_delivery_is_refused() -> None:
    config = ShotGridConfig.model_validate(
        {"base_url": SITE, "script_name": "s", "script_key": KEY, "project_id": 1}
    )
    conn = ShotGridConnector("sg_main", config)
    headers, body = _signed({"data": _event()})
    with pytest.raises(SignatureError, match=r"connectors\.sg_main\.webhook_secret is not set"):
        conn.parse_webhook(headers, body)
    conn.close()


# -- cursors, fields, config ---------------------------------------------------------------


def test_cursor_round_trips_and_only_moves_forward() -> None:
    cursor = Cursor.decode('{"updated": "2026-01-02T03:04:05Z", "retired": null}')
    assert Cursor.decode(cursor.encode()) == cursor
    older = Cursor.decode('{"updated": "2026-01-01T00:00:00Z", "retired": null}').updated
    assert cursor.advanced(updated=older) == cursor
    assert Cursor.decode(None) == Cursor()
    with pytest.raises(ValueError, match="not a ShotGrid cursor"):
        Cursor.decode("12345")


def test_fields_asked_for() -> None:
    assert field_list("Shot", [("id",), ("type",), ("code",)]) == "code,updated_at"
    assert field_list("Shot", []) == "code,sg_status_list,updated_at"
    assert field_list("Version", []) == "*"
    assert served_size({"links": {"next": "/x?page%5Bsize%5D=10"}}, 500) == 10
    assert served_size({"links": {}}, 500) == 500


def test_example_config_table_validates() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    table = tomllib.loads(example.read_text())["connectors"]["shotgrid"]
    config = ShotGridConfig.model_validate({**table, "script_key": KEY})
    assert config.page_size == 500 and config.api_base().endswith("/api/v1")
    assert KEY not in repr(config) and KEY not in str(config.model_dump())
    with pytest.raises(ValueError, match="Extra inputs"):
        ShotGridConfig.model_validate({**table, "script_key": KEY, "scrip_name": "typo"})
    with pytest.raises(ValueError, match="less than or equal to 500"):
        ShotGridConfig.model_validate({**table, "script_key": KEY, "page_size": 1000})


@respx.mock(assert_all_called=True)
def test_integration_user_is_none_while_the_site_is_down(
    respx_mock: respx.MockRouter, connector: ShotGridConnector
) -> None:
    token = respx_mock.post(f"{API}/auth/access_token").mock(
        side_effect=[
            httpx.ConnectError("down"),
            httpx.Response(200, json=_token({"type": "ApiUser", "id": 3})),
        ]
    )
    assert connector.integration_user is None  # one try: webhook intake cannot wait
    assert connector.integration_user == "ApiUser:3"  # not cached while unknown
    assert token.call_count == 2


def test_configured_api_user_needs_no_call() -> None:
    config = ShotGridConfig.model_validate(
        {"base_url": SITE, "script_name": "s", "script_key": KEY, "project_id": 1, "api_user_id": 5}
    )
    conn = ShotGridConnector("shotgrid", config, transport=httpx.MockTransport(_no_calls))
    assert conn.integration_user == "ApiUser:5"
    conn.close()


def _no_calls(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected call: {request.url}")
