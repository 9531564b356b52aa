"""ShotGrid sandbox webhooks, received on loopback and verified the way syncd will."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncd.signatures import SignatureError, verify_shotgrid
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.webhooks import WebhookConfig
from tests.sandbox.test_shotgrid_sandbox import PROJECT_ID, Served, serve, shutdown

SECRET = "sg-webhook-secret"
EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")
WIRE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass
class Receiver:
    """Records every delivery (headers, raw body) and answers `status`."""

    status: int = 200
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.deliveries.append((dict(request.headers), await request.body()))
            return Response(status_code=self.status)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.deliveries]


@dataclass
class Hooked:
    """A served sandbox whose webhooks go to a served receiver."""

    sg: Served
    receiver: Receiver
    url: str

    def flush(self) -> None:
        assert self.sg.sandbox.webhooks.flush(5)


@pytest.fixture
def hooked() -> Iterator[Hooked]:
    receiver = Receiver()
    server = ServedApp.start(receiver.app())
    url = f"{server.url}/hook"
    sg = serve(webhook=WebhookConfig(url=url, secret=SECRET))
    yield Hooked(sg, receiver, url)
    shutdown(sg)
    server.stop()


@pytest.mark.sandbox
def test_update_sends_one_signed_delivery_per_changed_attribute(hooked: Hooked) -> None:
    http = hooked.sg.client.http
    reply = http.put(
        "/api/v1/entity/tasks/5001",
        json={"sg_status_list": "ip", "sg_jira_status": "In Progress", "content": "Task 00"},
    )
    assert reply.status_code == 200
    hooked.flush()
    assert len(hooked.receiver.deliveries) == 2  # `content` did not change: no event for it
    first, second = hooked.receiver.payloads()
    assert second["data"]["event_log_entry_id"] == first["data"]["event_log_entry_id"] + 1
    status = first["data"]
    assert {k: status[k] for k in ("event_type", "operation", "entity", "project", "user")} == {
        "event_type": "Shotgun_Task_Change",
        "operation": "update",
        "entity": {"type": "Task", "id": 5001},
        "project": {"type": "Project", "id": PROJECT_ID},
        "user": {"type": "ApiUser", "id": 1},
    }
    assert status["attribute_name"] == "sg_status_list"
    assert status["meta"] == {
        "type": "attribute_change",
        "entity_type": "Task",
        "entity_id": 5001,
        "attribute_name": "sg_status_list",
        "field_data_type": "status_list",
        "old_value": "wtg",
        "new_value": "ip",
    }
    assert status["session_uuid"] is None  # API writes carry no web session
    assert EVENT_TIME.match(status["created_at"])
    assert WIRE_TIME.match(first["timestamp"])
    assert second["data"]["meta"]["new_value"] == "In Progress"
    for index, (headers, body) in enumerate(hooked.receiver.deliveries):
        verify_shotgrid(headers, body, SECRET)
        payload = json.loads(body)
        assert headers["x-sg-delivery-id"] == payload["data"]["delivery_id"]
        assert headers["x-sg-event-batch-size"] == "2"
        assert headers["x-sg-event-batch-index"] == str(index)
        assert headers["x-sg-webhook-site-url"] == hooked.sg.sandbox.site_url
        assert headers["content-type"] == "application/json; charset=utf-8"
    assert len({h["x-sg-event-batch-id"] for h, _ in hooked.receiver.deliveries}) == 1
    assert len({h["x-sg-webhook-id"] for h, _ in hooked.receiver.deliveries}) == 1


@pytest.mark.sandbox
def test_signature_fails_when_one_byte_changes_or_the_secret_differs(hooked: Hooked) -> None:
    hooked.sg.client.http.put("/api/v1/entity/tasks/5002", json={"sg_status_list": "fin"})
    hooked.flush()
    ((headers, body),) = hooked.receiver.deliveries
    assert headers["x-sg-signature"].startswith("sha1=")
    verify_shotgrid(headers, body, SECRET)
    tampered = body.replace(b'"fin"', b'"fiN"')
    assert tampered != body
    with pytest.raises(SignatureError):
        verify_shotgrid(headers, tampered, SECRET)
    with pytest.raises(SignatureError):
        verify_shotgrid(headers, body, "another-secret")


@pytest.mark.sandbox
def test_person_edit_is_attributed_to_the_human_user(hooked: Hooked) -> None:
    http, url = hooked.sg.client.http, hooked.sg.server.url
    edit = http.post(
        f"{url}/_sandbox/entity/Task/5002/edit",
        json={
            "as": "raj",
            "attributes": {
                "task_assignees": {
                    "multi_entity_update_mode": "add",
                    "value": [{"type": "HumanUser", "id": 103}],
                }
            },
        },
    )
    assert edit.status_code == 200
    hooked.sg.sandbox.edit_as(101, "Task", 5002, {"sg_status_list": "hld"})
    hooked.flush()
    assignees, status = (p["data"] for p in hooked.receiver.payloads())
    assert assignees["user"] == {"type": "HumanUser", "id": 102}
    assert assignees["session_uuid"] is not None
    assert assignees["meta"]["field_data_type"] == "multi_entity"
    assert assignees["meta"]["added"] == [{"id": 103, "name": "Ana Ruiz", "type": "HumanUser"}]
    assert assignees["meta"]["removed"] == []
    assert "old_value" not in assignees["meta"]
    assert status["user"] == {"type": "HumanUser", "id": 101}
    api_write = http.put("/api/v1/entity/tasks/5002", json={"sg_status_list": "ip"})
    assert api_write.status_code == 200
    hooked.flush()
    assert hooked.receiver.payloads()[-1]["data"]["user"] == {"type": "ApiUser", "id": 1}


@pytest.mark.sandbox
def test_create_delete_and_revive_deliveries(hooked: Hooked) -> None:
    http = hooked.sg.client.http
    created = http.post(
        "/api/v1/entity/tasks",
        json={
            "project": {"type": "Project", "id": PROJECT_ID},
            "content": "Groom",
            "sg_status_list": "rdy",
        },
    )
    task_id = created.json()["data"]["id"]
    http.delete(f"/api/v1/entity/tasks/{task_id}")
    http.post(f"/api/v1/entity/tasks/{task_id}", params={"revive": "true"})
    hooked.flush()
    new, retired, revived = (p["data"] for p in hooked.receiver.payloads())
    assert (new["event_type"], new["operation"], new["attribute_name"]) == (
        "Shotgun_Task_New",
        "create",
        None,
    )
    assert new["meta"] == {"type": "new_entity", "entity_type": "Task", "entity_id": task_id}
    assert (retired["event_type"], retired["operation"]) == ("Shotgun_Task_Retirement", "delete")
    assert retired["meta"]["display_name"] == "Groom"
    assert (revived["event_type"], revived["operation"]) == ("Shotgun_Task_Revival", "revive")
    ids = [new["event_log_entry_id"], retired["event_log_entry_id"], revived["event_log_entry_id"]]
    assert ids == sorted(ids) and len(set(ids)) == 3


@pytest.mark.sandbox
def test_batched_format_groups_a_writes_events_up_to_fifty(hooked: Hooked) -> None:
    http, url = hooked.sg.client.http, hooked.sg.server.url
    switched = http.put(f"{url}/_sandbox/webhook/format", json={"batched": True})
    assert switched.json() == {"batched": True}
    http.put(
        "/api/v1/entity/tasks/5003",
        json={"sg_status_list": "fin", "sg_jira_status": "Done", "sg_milestone": "M2"},
    )
    hooked.flush()
    ((headers, body),) = hooked.receiver.deliveries
    verify_shotgrid(headers, body, SECRET)
    payload = json.loads(body)
    assert set(payload) == {"timestamp", "data"}
    deliveries = payload["data"]["deliveries"]
    assert [d["attribute_name"] for d in deliveries] == [
        "sg_status_list",
        "sg_jira_status",
        "sg_milestone",
    ]
    assert headers["x-sg-event-batch-size"] == "3"

    hooked.receiver.deliveries.clear()
    many = [
        {
            "request_type": "update",
            "entity": "Task",
            "record_id": 5001 + i % 12,
            "data": {"sg_jira_status": f"Status {i}"},
        }
        for i in range(60)
    ]
    assert http.post("/api/v1/entity/_batch", json={"requests": many}).status_code == 200
    hooked.flush()
    sizes = [len(p["data"]["deliveries"]) for p in hooked.receiver.payloads()]
    assert sizes == [50, 10]


@pytest.mark.sandbox
def test_failed_deliveries_are_not_redelivered_unless_configured(hooked: Hooked) -> None:
    http, url, sandbox = hooked.sg.client.http, hooked.sg.server.url, hooked.sg.sandbox
    hooked.receiver.status = 500
    http.put("/api/v1/entity/tasks/5004", json={"sg_status_list": "fin"})
    hooked.flush()
    assert len(hooked.receiver.deliveries) == 1
    assert sandbox.webhooks.stats.failed == 1

    # A config PUT without max_attempts keeps ShotGrid's single attempt...
    http.put(f"{url}/_sandbox/webhook", json={"url": hooked.url, "secret": SECRET})
    http.put("/api/v1/entity/tasks/5004", json={"sg_status_list": "apr"})
    hooked.flush()
    assert len(hooked.receiver.deliveries) == 2
    # ...and an explicit one turns redelivery on.
    http.put(
        f"{url}/_sandbox/webhook",
        json={"url": hooked.url, "secret": SECRET, "max_attempts": 3, "backoff_seconds": 0.01},
    )
    http.put("/api/v1/entity/tasks/5004", json={"sg_status_list": "fin"})
    hooked.flush()
    assert len(hooked.receiver.deliveries) == 5
    assert len({body for _, body in hooked.receiver.deliveries[2:]}) == 1  # the same bytes resent


@pytest.mark.sandbox
def test_script_that_logs_no_events_sends_no_webhooks() -> None:
    receiver = Receiver()
    server = ServedApp.start(receiver.app())
    sg = serve(webhook=WebhookConfig(url=f"{server.url}/hook"), script_generates_events=False)
    try:
        sg.client.http.put("/api/v1/entity/tasks/5001", json={"sg_status_list": "ip"})
        sg.sandbox.edit_as("mia", "Task", 5001, {"sg_status_list": "rev"})
        assert sg.sandbox.webhooks.flush(5)
        (only,) = receiver.payloads()
        assert only["data"]["user"] == {"type": "HumanUser", "id": 101}
        headers, _ = receiver.deliveries[0]
        assert "x-sg-signature" not in headers  # no secret configured: unsigned
    finally:
        shutdown(sg)
        server.stop()
