"""Jira webhooks (signing, retries, attribution) and the person control API, over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jira
import pytest
from fastapi import FastAPI, Request, Response

from syncd.signatures import SignatureError, verify_jira
from syncd_sandbox.jira import DEFAULT_ACCOUNT_ID, DEFAULT_API_TOKEN, DEFAULT_EMAIL, JiraSandbox
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.webhooks import WebhookConfig
from tests.sandbox.test_jira_sandbox import MIA, ZOE, connect, fresh, serving

SECRET = "jira-webhook-secret"
pytestmark = pytest.mark.sandbox


@dataclass
class Receiver:
    """A webhook receiver that records every delivery and answers from a script."""

    answers: list[int] = field(default_factory=list)
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/jira")
        async def hook(request: Request) -> Response:
            self.deliveries.append((dict(request.headers), await request.body()))
            return Response(status_code=self.answers.pop(0) if self.answers else 200)

        return app

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.deliveries]


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[JiraSandbox, str, Receiver, str]]:
    box, receiver = JiraSandbox(), Receiver()
    hook = ServedApp.start(receiver.app())
    with serving(box) as base:
        yield box, base, receiver, f"{hook.url}/hooks/jira"
    hook.stop()
    box.close()


@pytest.fixture
def sandbox(world: tuple[JiraSandbox, str, Receiver, str]) -> JiraSandbox:
    box, _, receiver, hook_url = world
    fresh(box)
    receiver.answers.clear()
    receiver.deliveries.clear()
    box.webhooks.config = WebhookConfig(url=hook_url, secret=SECRET, backoff_seconds=0.01)
    return box


@pytest.fixture
def receiver(world: tuple[JiraSandbox, str, Receiver, str], sandbox: JiraSandbox) -> Receiver:
    return world[2]


@pytest.fixture
def url(world: tuple[JiraSandbox, str, Receiver, str], sandbox: JiraSandbox) -> str:
    return world[1]


@pytest.fixture
def client(url: str) -> jira.JIRA:
    return connect(url)


@pytest.fixture
def control(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url) as session:
        yield session


def delivered(sandbox: JiraSandbox, receiver: Receiver) -> list[dict[str, Any]]:
    assert sandbox.webhooks.flush(timeout=10)
    return receiver.payloads()


def test_api_edit_is_signed_and_attributed_to_the_integration_user(
    sandbox: JiraSandbox, receiver: Receiver, client: jira.JIRA, url: str
) -> None:
    client.issue("HRB-4").update(fields={"summary": "Hero prop v2"})
    (payload,) = delivered(sandbox, receiver)
    headers, body = receiver.deliveries[0]
    verify_jira(headers, body, SECRET)
    tampered = body.replace(b"Hero prop v2", b"Hero prop v3")
    with pytest.raises(SignatureError):
        verify_jira(headers, tampered, SECRET)
    assert headers["x-atlassian-webhook-identifier"]
    assert "x-atlassian-webhook-retry" not in headers
    assert payload["webhookEvent"] == "jira:issue_updated"
    assert payload["issue_event_type_name"] == "issue_updated"
    assert payload["user"]["accountId"] == DEFAULT_ACCOUNT_ID
    issue = payload["issue"]
    assert issue["key"] == "HRB-4" and issue["self"] == f"{url}/rest/api/2/issue/10004"
    assert issue["fields"]["summary"] == "Hero prop v2"
    assert issue["fields"]["status"]["name"] == "Done"
    assert issue["fields"]["updated"] == client.issue("HRB-4").fields.updated
    assert isinstance(payload["timestamp"], int)
    (item,) = payload["changelog"]["items"]
    assert item == {
        "field": "summary",
        "fieldtype": "jira",
        "fieldId": "summary",
        "from": None,
        "fromString": "Model prop 4",
        "to": None,
        "toString": "Hero prop v2",
    }


def test_person_edit_is_attributed_to_the_person(
    sandbox: JiraSandbox, receiver: Receiver, control: httpx.Client
) -> None:
    answer = control.post(
        "/_sandbox/issues/HRB-1/edit",
        json={"as": MIA.email, "fields": {"duedate": "2027-02-01"}, "status": "Done"},
    )
    assert answer.status_code == 200
    assert answer.json()["fields"]["status"]["name"] == "Done"
    edit, transition = delivered(sandbox, receiver)
    assert edit["user"]["accountId"] == transition["user"]["accountId"] == MIA.jira_account_id
    assert edit["issue_event_type_name"] == "issue_updated"
    assert edit["changelog"]["items"][0]["toString"] == "2027-02-01 00:00:00.0"
    assert transition["issue_event_type_name"] == "issue_generic"
    (status,) = transition["changelog"]["items"]
    assert (status["fromString"], status["toString"]) == ("In Progress", "Done")


def test_transition_and_assign_event_types(
    sandbox: JiraSandbox, receiver: Receiver, client: jira.JIRA
) -> None:
    client.transition_issue("HRB-2", "Blocked")
    client.assign_issue("HRB-2", ZOE.jira_account_id)
    transition, assignment = delivered(sandbox, receiver)
    assert transition["issue_event_type_name"] == "issue_generic"
    assert assignment["issue_event_type_name"] == "issue_assigned"
    assert assignment["changelog"]["items"][0]["to"] == ZOE.jira_account_id
    assert "emailAddress" not in assignment["issue"]["fields"]["assignee"]


def test_retries_keep_the_identifier_and_count_retries(
    sandbox: JiraSandbox, receiver: Receiver, client: jira.JIRA
) -> None:
    receiver.answers.extend([503, 409, 200])
    client.issue("HRB-2").update(fields={"summary": "Retried"})
    assert len(delivered(sandbox, receiver)) == 3
    headers = [h for h, _ in receiver.deliveries]
    assert len({h["x-atlassian-webhook-identifier"] for h in headers}) == 1
    assert [h.get("x-atlassian-webhook-retry") for h in headers] == [None, "1", "2"]
    assert sandbox.webhooks.stats.retried == 2 and sandbox.webhooks.stats.delivered == 1


def test_a_client_error_is_not_retried(
    sandbox: JiraSandbox, receiver: Receiver, client: jira.JIRA
) -> None:
    receiver.answers.append(400)
    client.issue("HRB-2").update(fields={"summary": "Refused"})
    assert len(delivered(sandbox, receiver)) == 1
    assert sandbox.webhooks.stats.failed == 1


def test_unsigned_without_a_secret(
    sandbox: JiraSandbox, receiver: Receiver, control: httpx.Client
) -> None:
    config = sandbox.webhooks.config.model_dump() | {"secret": None}
    assert control.put("/_sandbox/webhook", json=config).status_code == 200
    control.post(
        "/_sandbox/issues/HRB-2/edit",
        json={"as": ZOE.jira_account_id, "fields": {"summary": "Unsigned"}},
    )
    assert len(delivered(sandbox, receiver)) == 1
    assert "x-hub-signature" not in receiver.deliveries[0][0]


def test_a_no_op_edit_changes_nothing(
    sandbox: JiraSandbox, receiver: Receiver, client: jira.JIRA
) -> None:
    before = client.issue("HRB-2").fields.updated
    client.issue("HRB-2").update(fields={"summary": "Model prop 2"})
    assert delivered(sandbox, receiver) == []
    assert client.issue("HRB-2").fields.updated == before


def test_create_and_delete_through_the_control_api(
    sandbox: JiraSandbox, receiver: Receiver, control: httpx.Client
) -> None:
    made = control.post(
        "/_sandbox/issues", json={"as": ZOE.jira_account_id, "fields": {"summary": "Rig the crane"}}
    )
    assert made.status_code == 201 and made.json()["key"] == "HRB-31"
    assert control.delete("/_sandbox/issues/HRB-31", params={"as": ZOE.email}).status_code == 204
    auth = (DEFAULT_EMAIL, DEFAULT_API_TOKEN)
    assert control.get("/rest/api/3/issue/HRB-31", auth=auth).status_code == 404
    again = control.post("/_sandbox/issues", json={"as": MIA.email, "fields": {"summary": "Again"}})
    assert again.json()["key"] == "HRB-32"  # a deleted key is never reused
    created, deleted, _ = delivered(sandbox, receiver)
    assert created["webhookEvent"] == "jira:issue_created"
    assert created["user"]["accountId"] == ZOE.jira_account_id
    assert "changelog" not in created
    assert deleted["webhookEvent"] == "jira:issue_deleted"
    assert deleted["issue"]["key"] == "HRB-31"


def test_control_api_follows_the_workflow(
    sandbox: JiraSandbox, receiver: Receiver, control: httpx.Client
) -> None:
    refused = control.post(
        "/_sandbox/issues/HRB-4/edit",
        json={"as": MIA.email, "fields": {"summary": "Not saved"}, "status": "In Review"},
    )
    assert refused.status_code == 400
    assert refused.json()["errorMessages"] == [
        "No transition from 'Done' to 'In Review'; offered: Reopen → To Do."
    ]
    assert sandbox.issue("HRB-4")["fields"]["summary"] == "Model prop 4"  # all or nothing
    assert delivered(sandbox, receiver) == []
    unknown = control.post("/_sandbox/issues/HRB-4/edit", json={"as": "nobody@x", "status": "Done"})
    assert unknown.status_code == 400


def test_people_lists_everyone(control: httpx.Client) -> None:
    people = {p["accountId"]: p for p in control.get("/_sandbox/people").json()}
    assert people[DEFAULT_ACCOUNT_ID]["integration"] is True
    assert people[ZOE.jira_account_id] == {
        "accountId": ZOE.jira_account_id,
        "displayName": "Zoë Lefèvre",
        "email": ZOE.email,
        "emailVisible": False,
        "integration": False,
    }
