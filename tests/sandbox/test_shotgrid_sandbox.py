"""The ShotGrid REST v1 sandbox seen through httpx over loopback, as the connector will see it.

Also holds the small hand-built production and the served-sandbox fixtures that
`test_shotgrid_webhooks.py` reuses.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from syncd_sandbox.knobs import Knobs
from syncd_sandbox.production import (
    Department,
    Milestone,
    Person,
    Production,
    SgAsset,
    SgShot,
    SgTask,
    SheetTab,
    Step,
)
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.shotgrid import ShotGridSandbox
from syncd_sandbox.webhooks import WebhookConfig

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
ARRAY = {"Content-Type": "application/vnd+shotgun.api3_array+json"}
HASH = {"Content-Type": "application/vnd+shotgun.api3_hash+json"}
PROJECT_ID = 122
STATUS_CODES = ("wtg", "rdy", "ip", "rev", "apr", "fin", "hld", "omt", "blk")


def make_production(tasks: int = 12) -> Production:
    """A small production: 2 assets, 3 shots in 2 sequences, `tasks` tasks a minute apart."""
    people = (
        Person("mia", "Mia Krystof", "mia@studio.test", "Production", "acc-mia", 101),
        Person("raj", "Raj Patel", "raj@studio.test", "Modeling", "acc-raj", 102),
        Person("ana", "Ana Ruiz", "ana@studio.test", "Rigging", "acc-ana", 103),
    )
    steps = (Step(10, "Model", "Modeling"), Step(11, "Rig", "Rigging"))
    assets = (
        SgAsset(1001, "heroProp", "Prop", "ip", "The hero prop", T0, T0),
        SgAsset(1002, "villain", "Character", "wtg", "Main villain", T0, T0),
    )
    shots = (
        SgShot(2001, "sq010_sh010", "sq010", "ip", 1001, 1040, T0, T0),
        SgShot(2002, "sq010_sh020", "sq010", "wtg", 1001, 1080, T0, T0),
        SgShot(2003, "sq020_sh010", "sq020", "wtg", 1001, 1020, T0, T0),
    )
    sg_tasks = tuple(
        SgTask(
            id=5001 + i,
            content=f"Task {i:02d}",
            entity_type="Asset" if i % 2 == 0 else "Shot",
            entity_id=1001 + i % 4 // 2 if i % 2 == 0 else 2001 + i % 3,
            step_id=10 + i % 2,
            assignee_ids=(102,) if i % 3 else (102, 103),
            status=STATUS_CODES[i % 4],
            start_date=date(2025, 1, 6),
            due_date=date(2025, 2, 3) + timedelta(days=i),
            est_in_mins=480 * (i + 1),
            milestone="M1" if i < 6 else "M2",
            jira_key=f"PRJ-{i + 1}" if i % 2 else None,
            created_at=T0,
            updated_at=T0 + timedelta(minutes=i),
        )
        for i in range(tasks)
    )
    return Production(
        name="Demo",
        seed=1,
        jira_project_key="PRJ",
        jira_project_name="Demo",
        sg_project_id=PROJECT_ID,
        sg_project_name="Demo Show",
        spreadsheet_id="sheet",
        spreadsheet_title="Producer sheet",
        milestones=(
            Milestone("M1", "Alpha", date(2025, 3, 1)),
            Milestone("M2", "Beta", date(2025, 5, 1)),
        ),
        departments=(
            Department("Production", 40),
            Department("Modeling", 120),
            Department("Rigging", 80),
        ),
        steps=steps,
        people=people,
        assets=assets,
        shots=shots,
        sg_tasks=sg_tasks,
        jira_issues=(),
        invoices=SheetTab("Invoices", ()),
        budget=SheetTab("Budget", ()),
        jira_statuses=("To Do", "In Progress", "Done"),
        sg_status_codes=STATUS_CODES,
    )


@dataclass
class FakeClock:
    """A settable UTC clock: token expiry and updated_at without sleeping."""

    now: datetime = field(default_factory=lambda: datetime(2025, 3, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class SgClient:
    """httpx against the served sandbox, authenticated as the script (or a person)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=10)

    def login(self, **grant: str) -> dict[str, Any]:
        grant = grant or {
            "grant_type": "client_credentials",
            "client_id": "syncd",
            "client_secret": "sandbox-sg-key",
        }
        reply = self.http.post("/api/v1/auth/access_token", data=grant)
        assert reply.status_code == 200, reply.text
        token: dict[str, Any] = reply.json()
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"
        return token

    def search(
        self, entity: str, body: dict[str, Any], *, hash_form: bool = False
    ) -> httpx.Response:
        headers = HASH if hash_form else ARRAY
        return self.http.post(f"/api/v1/entity/{entity}/_search", json=body, headers=headers)

    def ids(self, entity: str, body: dict[str, Any], **kw: Any) -> list[int]:
        reply = self.search(entity, body, **kw)
        assert reply.status_code == 200, reply.text
        return [row["id"] for row in reply.json()["data"]]


@dataclass
class Served:
    """A seeded sandbox, its server and a logged-in client."""

    sandbox: ShotGridSandbox
    server: ServedApp
    client: SgClient
    clock: FakeClock


def serve(
    *, clock: FakeClock | None = None, webhook: WebhookConfig | None = None, **kwargs: Any
) -> Served:
    clock = clock or FakeClock()
    sandbox = ShotGridSandbox(clock=clock, webhook=webhook, **kwargs)
    sandbox.seed(make_production())
    server = ServedApp.start(sandbox.create_app())
    client = SgClient(server.url)
    client.login()
    return Served(sandbox, server, client, clock)


def shutdown(served: Served) -> None:
    served.client.http.close()
    served.server.stop()
    served.sandbox.close()


@pytest.fixture
def sg() -> Iterator[Served]:
    served = serve()
    yield served
    shutdown(served)


def error_of(reply: httpx.Response) -> dict[str, Any]:
    """The single error of an envelope, checking the envelope's shape on the way."""
    body = reply.json()
    assert set(body) == {"errors"}
    (error,) = body["errors"]
    assert set(error) == {"id", "status", "code", "title", "source", "detail", "meta"}
    assert error["status"] == reply.status_code
    return dict(error)


# -- auth ---------------------------------------------------------------------------------


@pytest.mark.sandbox
def test_token_expires_after_its_lifetime_and_reauth_recovers() -> None:
    served = serve(token_lifetime_seconds=60)
    try:
        client, clock = served.client, served.clock
        token = client.login()
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 60
        assert client.http.get("/api/v1/entity/tasks/5001").status_code == 200

        clock.advance(61)
        expired = client.http.get("/api/v1/entity/tasks/5001")
        assert expired.status_code == 401
        assert error_of(expired)["title"] == "Unauthorized"

        client.login()  # re-authenticate with the script credentials, as the docs advise
        assert client.http.get("/api/v1/entity/tasks/5001").status_code == 200
    finally:
        shutdown(served)


@pytest.mark.sandbox
def test_refresh_token_grant_issues_a_working_token_once(sg: Served) -> None:
    http = sg.client.http
    first = sg.client.login()
    refreshed = http.post(
        "/api/v1/auth/access_token",
        params={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["access_token"] != first["access_token"]
    reply = http.get(
        "/api/v1/entity/tasks/5001",
        headers={"Authorization": f"Bearer {new['access_token']}"},
    )
    assert reply.status_code == 200
    reused = http.post(
        "/api/v1/auth/access_token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert reused.status_code == 401


@pytest.mark.sandbox
def test_bad_credentials_and_missing_token_are_refused_in_the_envelope(sg: Served) -> None:
    http = sg.client.http
    bad = http.post(
        "/api/v1/auth/access_token",
        data={"grant_type": "client_credentials", "client_id": "syncd", "client_secret": "nope"},
    )
    assert bad.status_code == 400
    assert "Can't authenticate script 'syncd'" in error_of(bad)["title"]
    unknown_grant = http.post("/api/v1/auth/access_token", data={"grant_type": "implicit"})
    assert error_of(unknown_grant)["title"] == "Unsupported grant_type"
    no_token = httpx.get(f"{sg.server.url}/api/v1/entity/tasks/5001")
    assert no_token.status_code == 401
    assert error_of(no_token)["code"] == 102


@pytest.mark.sandbox
def test_password_grant_acts_as_the_person_and_the_token_names_its_user(sg: Served) -> None:
    person = SgClient(sg.server.url)
    token = person.login(grant_type="password", username="raj", password="sandbox-sg-password")
    claims_part = token["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(claims_part + "=" * (-len(claims_part) % 4)))
    assert claims["user"] == {"type": "HumanUser", "id": 102}
    reply = person.http.put("/api/v1/entity/tasks/5001", json={"sg_status_list": "rev"})
    assert reply.json()["data"]["relationships"]["updated_by"]["data"]["type"] == "HumanUser"
    person.http.close()


@pytest.mark.sandbox
def test_server_info_needs_no_token(sg: Served) -> None:
    info = httpx.get(f"{sg.server.url}/api/v1").json()["data"]
    assert info["api_version"] == "v1"
    assert "shotgun_version" in info
    # /api/v1.1 is the same API; links echo the prefix that was called.
    newer = sg.client.http.get("/api/v1.1/entity/tasks/5001", params={"fields": "entity"})
    assert newer.json()["data"]["links"]["self"] == "/api/v1.1/entity/tasks/5001"
    assert newer.json()["data"]["relationships"]["entity"]["links"]["related"] == (
        "/api/v1.1/entity/assets/1001"
    )


# -- reading --------------------------------------------------------------------------------


@pytest.mark.sandbox
def test_search_takes_both_vendor_types_and_refuses_plain_json(sg: Served) -> None:
    client = sg.client
    array = client.ids("Task", {"filters": [["sg_status_list", "is", "ip"]]})
    hashed = client.ids(
        "Task",
        {
            "filters": {
                "logical_operator": "or",
                "conditions": [
                    ["sg_status_list", "is", "ip"],
                    {"logical_operator": "and", "conditions": [["content", "is", "Task 00"]]},
                ],
            }
        },
        hash_form=True,
    )
    assert array == [5003, 5007, 5011]
    assert hashed == [5001, 5003, 5007, 5011]
    plain = client.http.post("/api/v1/entity/Task/_search", json={"filters": []})
    assert plain.status_code == 415
    assert "Unsupported Content-Type 'application/json'" in error_of(plain)["title"]
    wrong_shape = client.search("Task", {"filters": [["id", "is", 5001]]}, hash_form=True)
    assert error_of(wrong_shape)["title"] == "Query is not an Hash"


@pytest.mark.sandbox
def test_incremental_sync_filters(sg: Served) -> None:
    """The three conditions a connector's incremental pull sends, alone and together."""
    client = sg.client
    after = client.ids(
        "tasks", {"filters": [["updated_at", "greater_than", "2025-01-10T09:08:00Z"]]}
    )
    assert after == [5010, 5011, 5012]  # strictly later: 09:08 itself is excluded
    in_project = client.ids("Task", {"filters": [["project.Project.id", "is", PROJECT_ID]]})
    assert len(in_project) == 12
    assert client.ids("Task", {"filters": [["project.Project.id", "is", 999]]}) == []
    statuses = client.ids("Task", {"filters": [["sg_status_list", "in", ["rdy", "rev"]]]})
    assert statuses == [5002, 5004, 5006, 5008, 5010, 5012]
    combined = client.ids(
        "Task",
        {
            "filters": [
                ["updated_at", "greater_than", "2025-01-10T09:03:00Z"],
                ["project.Project.id", "is", PROJECT_ID],
                ["sg_status_list", "in", ["rdy", "rev"]],
            ],
            "sort": "updated_at,id",
        },
    )
    assert combined == [5006, 5008, 5010, 5012]


@pytest.mark.sandbox
def test_more_operators_and_linked_paths(sg: Served) -> None:
    client = sg.client

    def ids(*condition: Any) -> list[int]:
        return client.ids("Task", {"filters": [list(condition)]})

    assert ids("entity.Asset.code", "is", "HEROPROP") == [5001, 5005, 5009]  # case-insensitive
    assert ids("step.Step.code", "is", "Rig") == [5002, 5004, 5006, 5008, 5010, 5012]
    assert ids("entity", "type_is", "Shot") == [5002, 5004, 5006, 5008, 5010, 5012]
    assert ids("content", "starts_with", "task 1") == [5011, 5012]
    assert ids("content", "ends_with", "01") == [5002]
    assert ids("sg_jira_key", "is", None) == [5001, 5003, 5005, 5007, 5009, 5011]
    assert ids("sg_jira_key", "not_contains", "PRJ") == [5001, 5003, 5005, 5007, 5009, 5011]
    assert ids("est_in_mins", "between", [960, 1920]) == [5002, 5003, 5004]
    assert ids("est_in_mins", "less_than", 960) == [5001]
    assert ids("due_date", "greater_than", "2025-02-13") == [5012]
    assert ids("task_assignees", "is", {"type": "HumanUser", "id": 103}) == [5001, 5004, 5007, 5010]
    assert ids("task_assignees.HumanUser.login", "is", "ana") == [5001, 5004, 5007, 5010]
    assert len(ids("sg_status_list", "not_in", ["wtg"])) == 9
    recent = ids("updated_at", "in_last", [1, "DAY"])
    assert recent == []  # the fake clock is weeks after the seed
    sg.clock.now = T0 + timedelta(hours=2)
    assert len(ids("updated_at", "in_last", [3, "HOUR"])) == 12


@pytest.mark.sandbox
def test_filter_errors_name_the_field_or_relation(sg: Served) -> None:
    client = sg.client
    unknown = client.search("Task", {"filters": [["not_a_field", "is", "x"]]})
    assert unknown.status_code == 400
    error = error_of(unknown)
    assert error["title"] == "API read() Task.not_a_field doesn't exist."
    assert "Task.not_a_field" in error["source"]
    relation = client.search("Task", {"filters": [["sg_status_list", "contains", "i"]]})
    assert "doesn't support 'contains' 'relation'" in error_of(relation)["title"]
    bad_link = client.search("Task", {"filters": [["entity", "is", 1001]]})
    assert bad_link.status_code == 400
    bad_date = client.search("Task", {"filters": [["due_date", "is", "2025-02-03T00:00:00Z"]]})
    assert bad_date.status_code == 400


@pytest.mark.sandbox
def test_sort_and_paging_keep_links_next_on_the_short_last_page(sg: Served) -> None:
    client = sg.client
    body = {
        "filters": [],
        "sort": "-due_date",
        "fields": "content",
        "page": {"size": 5, "number": 1},
    }
    seen: list[int] = []
    reply = client.search("Task", body)
    pages = 0
    while True:
        pages += 1
        page = reply.json()
        assert "next" in page["links"]  # present on every page, as on the real site
        seen += [row["id"] for row in page["data"]]
        if len(page["data"]) < 5:
            break
        reply = client.http.post(page["links"]["next"], json=body, headers=ARRAY)
    assert pages == 3
    assert seen == list(range(5012, 5000, -1))
    last = reply.json()["links"]
    assert last["next"] == "/api/v1/entity/Task/_search?page%5Bnumber%5D=4&page%5Bsize%5D=5"
    assert last["prev"] == "/api/v1/entity/Task/_search?page%5Bnumber%5D=2&page%5Bsize%5D=5"
    beyond = client.http.post(last["next"], json=body, headers=ARRAY).json()
    assert beyond["data"] == [] and "next" in beyond["links"]
    multi = client.ids("Task", {"sort": "sg_status_list,-id", "page": {"size": 4}})
    assert multi == [5011, 5007, 5003, 5010]  # "ip" sorts first, id descending within a code


@pytest.mark.sandbox
def test_page_size_defaults_to_500_and_knob_caps_it(sg: Served) -> None:
    client = sg.client
    assert client.search("Task", {}).json()["links"]["next"].endswith("page%5Bsize%5D=500")
    sg.sandbox.knobs.page_size_cap = 4
    capped = client.search("Task", {"page": {"size": 10}}).json()
    assert len(capped["data"]) == 4
    assert capped["links"]["next"].endswith("page%5Bsize%5D=4")
    listed = client.http.get("/api/v1/entity/tasks", params={"page[size]": 10})
    assert len(listed.json()["data"]) == 4
    zero = client.search("Task", {"page": {"size": 0}})
    assert error_of(zero)["source"] == {"page": {"size": ["size must be greater than 0"]}}


@pytest.mark.sandbox
def test_fields_selection_shapes_attributes_and_relationships(sg: Served) -> None:
    client = sg.client
    reply = client.search(
        "Task",
        {
            "filters": [["id", "is", 5002]],
            "fields": "content,sg_status_list,entity,task_assignees,entity.Shot.code,bogus",
        },
    )
    (row,) = reply.json()["data"]
    assert row["type"] == "Task" and row["id"] == 5002
    assert row["attributes"] == {
        "content": "Task 01",
        "sg_status_list": "rdy",
        "entity.Shot.code": "sq010_sh020",
    }  # the unknown name is dropped silently, as the site does
    entity = row["relationships"]["entity"]
    assert entity["data"] == {"id": 2002, "name": "sq010_sh020", "type": "Shot"}
    assert entity["links"] == {
        "self": "/api/v1/entity/tasks/5002/relationships/entity",
        "related": "/api/v1/entity/shots/2002",
    }
    assert row["relationships"]["task_assignees"]["data"] == [
        {"id": 102, "name": "Raj Patel", "type": "HumanUser"}
    ]
    assert row["links"] == {"self": "/api/v1/entity/tasks/5002"}
    everything = client.search("Task", {"filters": [["id", "is", 5002]], "fields": "*"})
    attributes = everything.json()["data"][0]["attributes"]
    assert attributes["updated_at"] == "2025-01-10T09:01:00Z"
    assert attributes["due_date"] == "2025-02-04"


@pytest.mark.sandbox
def test_single_get_list_and_404_envelope(sg: Served) -> None:
    http = sg.client.http
    one = http.get("/api/v1/entity/Asset/1001", params={"fields": "code,tasks"}).json()
    assert one["data"]["attributes"] == {"code": "heroProp"}
    assert [t["id"] for t in one["data"]["relationships"]["tasks"]["data"]] == [5001, 5005, 5009]
    assert one["links"]["self"] == "/api/v1/entity/Asset/1001?fields=code%2Ctasks"
    listed = http.get("/api/v1/entity/shots", params={"filter[sg_sequence.Sequence.code]": "sq010"})
    assert [r["id"] for r in listed.json()["data"]] == [2001, 2002]
    missing = http.put("/api/v1/entity/Asset/400000", json={"description": "NOPE"})
    assert missing.status_code == 404
    error = error_of(missing)
    assert (error["code"], error["title"], error["source"], error["meta"]) == (
        104,
        "Not Found",
        None,
        None,
    )
    assert error["detail"] == "Entity of type [Asset] with id=400000 does not exist."
    assert len(error["id"]) == 32
    assert (
        error_of(http.get("/api/v1/entity/Widget/1"))["detail"]
        == "Entity type 'Widget' does not exist."
    )


# -- writing --------------------------------------------------------------------------------


@pytest.mark.sandbox
def test_update_bumps_updated_at_and_credits_the_api_user(sg: Served) -> None:
    http, clock = sg.client.http, sg.clock
    clock.now = datetime(2025, 3, 1, 12, 30, 15, 987000, tzinfo=UTC)
    sg.client.login()  # half an hour later the first token has expired
    reply = http.put(
        "/api/v1/entity/tasks/5001",
        json={"sg_status_list": "ip", "sg_jira_status": "In Progress", "sg_jira_key": "  PRJ-77 "},
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "successful"
    attributes = body["data"]["attributes"]
    assert attributes["updated_at"] == "2025-03-01T12:30:15Z"  # second precision, UTC
    assert attributes["sg_jira_key"] == "PRJ-77"  # whitespace stripped on write
    updated_by = body["data"]["relationships"]["updated_by"]["data"]
    assert updated_by == {"id": 1, "name": "syncd 1.0", "type": "ApiUser"}
    found = sg.client.ids(
        "Task", {"filters": [["updated_at", "greater_than", "2025-03-01T12:30:14Z"]]}
    )
    assert found == [5001]


@pytest.mark.sandbox
def test_update_validation(sg: Served) -> None:
    http = sg.client.http
    status = http.put("/api/v1/entity/tasks/5001", json={"sg_status_list": "done"})
    assert status.status_code == 400
    title = error_of(status)["title"]
    assert "'done' is not a valid status" in title and "'wtg'" in title
    unknown = http.put("/api/v1/entity/tasks/5001", json={"sg_jira_url": "x"})
    assert error_of(unknown)["title"] == "API update() Task.sg_jira_url doesn't exist."
    stamp = http.put("/api/v1/entity/tasks/5001", json={"updated_at": "2025-01-01T00:00:00Z"})
    assert error_of(stamp)["title"] == "API update() Task.updated_at is editable on create only."
    link = http.put("/api/v1/entity/tasks/5001", json={"entity": {"type": "Step", "id": 10}})
    assert "Value is not legal." in error_of(link)["title"]
    number = http.put("/api/v1/entity/tasks/5001", json={"est_in_mins": "abc"})
    assert number.status_code == 400
    vendor = http.put("/api/v1/entity/tasks/5001", json={"content": "x"}, headers=ARRAY)
    assert vendor.status_code == 415
    unchanged = http.get("/api/v1/entity/tasks/5001", params={"fields": "sg_status_list,content"})
    assert unchanged.json()["data"]["attributes"] == {"sg_status_list": "wtg", "content": "Task 00"}


@pytest.mark.sandbox
def test_multi_entity_update_modes(sg: Served) -> None:
    http = sg.client.http

    def assignees() -> list[int]:
        reply = http.get("/api/v1/entity/tasks/5002", params={"fields": "task_assignees"})
        return [u["id"] for u in reply.json()["data"]["relationships"]["task_assignees"]["data"]]

    add = {"multi_entity_update_mode": "add", "value": [{"type": "HumanUser", "id": 101}]}
    http.put("/api/v1/entity/tasks/5002", json={"task_assignees": add})
    assert assignees() == [102, 101]
    remove = {"multi_entity_update_mode": "remove", "value": [{"type": "HumanUser", "id": 102}]}
    http.put("/api/v1/entity/tasks/5002", json={"task_assignees": remove})
    assert assignees() == [101]
    http.put(
        "/api/v1/entity/tasks/5002", json={"task_assignees": [{"type": "HumanUser", "id": 103}]}
    )
    assert assignees() == [103]


@pytest.mark.sandbox
def test_create_delete_retired_and_revive(sg: Served) -> None:
    http, client = sg.client.http, sg.client
    no_project = http.post("/api/v1/entity/tasks", json={"content": "Orphan"})
    assert "missing 'project' attribute" in error_of(no_project)["title"]
    created = http.post(
        "/api/v1/entity/Task",
        json={
            "project": {"type": "Project", "id": PROJECT_ID},
            "content": "Lookdev",
            "entity": {"type": "Asset", "id": 1002},
        },
    )
    assert created.status_code == 201
    data = created.json()["data"]
    new_id = data["id"]
    assert data["attributes"]["created_at"].endswith(" UTC")  # the create reply's own format
    assert data["attributes"]["sg_status_list"] == "wtg"  # the field's default
    assert data["relationships"]["created_by"]["data"]["type"] == "ApiUser"
    asset = http.get("/api/v1/entity/assets/1002", params={"fields": "tasks"}).json()
    assert new_id in [t["id"] for t in asset["data"]["relationships"]["tasks"]["data"]]

    assert http.delete(f"/api/v1/entity/tasks/{new_id}").status_code == 204
    assert http.get(f"/api/v1/entity/tasks/{new_id}").status_code == 404
    assert http.delete(f"/api/v1/entity/tasks/{new_id}").status_code == 404
    retired = http.get(f"/api/v1/entity/tasks/{new_id}", params={"options[return_only]": "retired"})
    assert retired.status_code == 200
    in_search = client.ids(
        "Task", {"filters": [["id", "is", new_id]], "options": {"return_only": "retired"}}
    )
    assert in_search == [new_id]
    revived = http.post(f"/api/v1/entity/Task/{new_id}", params={"revive": "true"})
    assert revived.json() == {
        "data": {"type": "Task", "id": new_id},
        "links": {"self": f"/api/v1/entity/Task/{new_id}"},
        "meta": {"did_revive": True},
    }
    again = http.post(f"/api/v1/entity/Task/{new_id}", params={"revive": "true"})
    assert again.json()["meta"]["did_revive"] is False
    assert http.get(f"/api/v1/entity/tasks/{new_id}").status_code == 200


@pytest.mark.sandbox
def test_batch_applies_everything_in_order(sg: Served) -> None:
    http = sg.client.http
    requests = [
        {
            "request_type": "create",
            "entity": "Task",
            "data": {"project": {"type": "Project", "id": PROJECT_ID}, "content": "Batch A"},
        },
        {
            "request_type": "update",
            "entity": "Task",
            "record_id": 5003,
            "data": {"sg_status_list": "fin"},
        },
        {"request_type": "delete", "entity": "Task", "record_id": 5004},
    ]
    reply = http.post("/api/v1/entity/_batch", json={"requests": requests})
    assert reply.status_code == 200
    created, updated, deleted = reply.json()["data"]
    assert set(created) == {"data"} and created["data"]["attributes"]["content"] == "Batch A"
    assert updated["status"] == "successful"
    assert updated["data"]["attributes"]["sg_status_list"] == "fin"
    assert (deleted["request_type"], deleted["type"], deleted["id"], deleted["did_delete"]) == (
        "delete",
        "Task",
        5004,
        True,
    )
    assert http.get("/api/v1/entity/tasks/5004").status_code == 404
    assert http.post("/api/v1/entity/_batch", json={"requests": []}).json() == {"data": []}


@pytest.mark.sandbox
def test_batch_is_all_or_nothing(sg: Served) -> None:
    http, client = sg.client.http, sg.client
    before = client.ids("Task", {})
    requests = [
        {
            "request_type": "create",
            "entity": "Task",
            "data": {"project": {"type": "Project", "id": PROJECT_ID}, "content": "Never"},
        },
        {
            "request_type": "update",
            "entity": "Task",
            "record_id": 5003,
            "data": {"sg_status_list": "fin"},
        },
        {
            "request_type": "update",
            "entity": "Task",
            "record_id": 5005,
            "data": {"sg_status_list": "nope"},
        },
    ]
    reply = http.post("/api/v1/entity/_batch", json={"requests": requests})
    assert reply.status_code == 400
    error = error_of(reply)
    assert "'nope' is not a valid status" in error["title"]
    assert list(error["source"]["requests"]) == ["2"]  # the failing request's index
    assert client.ids("Task", {}) == before
    status = http.get("/api/v1/entity/tasks/5003", params={"fields": "sg_status_list"})
    assert status.json()["data"]["attributes"]["sg_status_list"] == "ip"
    missing = http.post(
        "/api/v1/entity/_batch",
        json={
            "requests": [
                {
                    "request_type": "update",
                    "entity": "Task",
                    "record_id": 999,
                    "data": {"content": "x"},
                }
            ]
        },
    )
    assert missing.status_code == 404
    malformed = http.post(
        "/api/v1/entity/_batch", json={"requests": [{"request_type": "read", "entity": "Task"}]}
    )
    assert error_of(malformed)["source"] == {
        "requests": {"0": {"request_type": ["request_type must be one of: create, update, delete"]}}
    }
    vendor = http.post("/api/v1/entity/_batch", json={"requests": []}, headers=ARRAY)
    assert vendor.status_code == 415


@pytest.mark.sandbox
def test_schema_lists_status_codes_with_display_names(sg: Served) -> None:
    http = sg.client.http
    field_schema = http.get("/api/v1/schema/Task/fields/sg_status_list").json()["data"]
    assert field_schema["data_type"]["value"] == "status_list"
    properties = field_schema["properties"]
    assert properties["valid_values"]["value"] == list(STATUS_CODES)
    assert properties["display_values"]["value"]["rev"] == "Pending Review"
    assert properties["display_values"]["value"]["wtg"] == "Waiting to Start"
    fields = http.get("/api/v1/schema/tasks/fields").json()["data"]
    expected = {
        "content": "text",
        "entity": "entity",
        "step": "entity",
        "task_assignees": "multi_entity",
        "start_date": "date",
        "due_date": "date",
        "est_in_mins": "duration",
        "duration": "duration",
        "time_logs_sum": "summary",
        "sg_jira_key": "text",
        "sg_jira_status": "text",
        "sg_milestone": "text",
        "project": "entity",
        "updated_at": "date_time",
    }
    assert {name: fields[name]["data_type"]["value"] for name in expected} == expected
    assert fields["entity"]["properties"]["valid_types"]["value"] == ["Asset", "Shot", "Sequence"]
    assert http.get("/api/v1/schema/Task/fields/nope").status_code == 404


# -- limits and faults ----------------------------------------------------------------------


@pytest.mark.sandbox
def test_rate_limit_answers_429_with_retry_after(sg: Served) -> None:
    http = sg.client.http
    http.patch(f"{sg.server.url}/_sandbox/knobs", json={"rate_limit_per_minute": 3})
    statuses = [http.get("/api/v1/entity/tasks/5001").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = http.get("/api/v1/entity/tasks/5001")
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert error_of(throttled)["title"] == "Too Many Requests"
    http.patch(f"{sg.server.url}/_sandbox/knobs", json={"rate_limit_per_minute": None})
    assert http.get("/api/v1/entity/tasks/5001").status_code == 200


@pytest.mark.sandbox
def test_injected_500_uses_the_errors_envelope(sg: Served) -> None:
    http = sg.client.http
    http.patch(f"{sg.server.url}/_sandbox/knobs", json={"fault_rate": 1.0, "faults": ["500"]})
    failed = http.get("/api/v1/entity/tasks/5001")
    assert failed.status_code == 500
    assert error_of(failed)["title"] == "Shotgun Server Error"
    http.patch(f"{sg.server.url}/_sandbox/knobs", json={"fault_rate": 0.0})
    assert http.get("/api/v1/entity/tasks/5001").status_code == 200
    calls = http.get(f"{sg.server.url}/_sandbox/calls").json()
    assert calls["GET /api/v1/entity/{entity}/{record_id}"] == 2


@pytest.mark.sandbox
def test_unrouted_api_paths_404_in_the_envelope(sg: Served) -> None:
    reply = sg.client.http.patch("/api/v1/entity/tasks/5001", json={"content": "x"})
    assert reply.status_code == 404
    assert error_of(reply)["detail"] is None


# -- the person control API -----------------------------------------------------------------


@pytest.mark.sandbox
def test_person_edits_through_control_routes_are_credited_to_the_person(sg: Served) -> None:
    http, url = sg.client.http, sg.server.url
    people = http.get(f"{url}/_sandbox/people").json()
    assert [p["login"] for p in people] == ["mia", "raj", "ana"]
    edit = http.post(
        f"{url}/_sandbox/entity/Task/5006/edit",
        json={"as": "ana@studio.test", "attributes": {"sg_status_list": "hld"}},
    )
    assert edit.status_code == 200
    updated_by = edit.json()["data"]["relationships"]["updated_by"]["data"]
    assert updated_by == {"id": 103, "name": "Ana Ruiz", "type": "HumanUser"}
    bad = http.post(
        f"{url}/_sandbox/entity/Task/5006/edit",
        json={"as": 102, "attributes": {"sg_status_list": "?"}},
    )
    assert bad.status_code == 400
    made = http.post(
        f"{url}/_sandbox/entity/Shot",
        json={
            "as": 101,
            "attributes": {"project": {"type": "Project", "id": PROJECT_ID}, "code": "sq030_sh010"},
        },
    )
    assert made.status_code == 201
    shot_id = made.json()["data"]["id"]
    assert (
        http.delete(f"{url}/_sandbox/entity/Shot/{shot_id}", params={"as": "raj"}).status_code
        == 204
    )
    assert http.get(f"/api/v1/entity/shots/{shot_id}").status_code == 404
    nobody = http.post(
        f"{url}/_sandbox/entity/Task/5006/edit", json={"as": "zed", "attributes": {}}
    )
    assert nobody.status_code == 404
    assert sg.sandbox.record("Task", 5006, "sg_status_list")["attributes"] == {
        "sg_status_list": "hld"
    }


# -- scale ------------------------------------------------------------------------------------


def test_incremental_search_on_a_large_seed_uses_the_updated_at_index() -> None:
    """20,000 tasks: the `updated_at greater_than` page is right and does not scan everything."""
    production = make_production(tasks=20_000)
    sandbox = ShotGridSandbox(knobs=Knobs())
    sandbox.seed(production)
    service = sandbox.service
    cutoff = (T0 + timedelta(minutes=19_990)).strftime("%Y-%m-%dT%H:%M:%SZ")
    calls = 0
    table = service.store.tables["Task"]
    original = table.updated_after

    def counting(moment: datetime) -> Iterator[int]:
        nonlocal calls
        calls += 1
        return original(moment)

    table.updated_after = counting  # type: ignore[method-assign]
    reply = service.search(
        "Task",
        {
            "filters": [
                ["updated_at", "greater_than", cutoff],
                ["project.Project.id", "is", PROJECT_ID],
            ],
            "sort": "updated_at,id",
            "fields": "updated_at",
        },
        hash_form=False,
        params=[],
        base="/api/v1",
        path="/api/v1/entity/Task/_search",
        raw_query="",
    )
    assert calls == 1
    assert [row["id"] for row in reply["data"]] == list(range(5001 + 19_991, 5001 + 20_000))
    sandbox.close()


def test_concurrent_edits_are_serialised_and_each_change_gets_one_event_id() -> None:
    """Four threads editing at once: no lost update, event ids neither skipped nor reused."""
    sandbox = ShotGridSandbox()
    sandbox.seed(make_production(tasks=40))
    start = sandbox.events.last_event_id

    def work(offset: int) -> None:
        for i in range(10):
            attributes = {"sg_status_list": "fin", "sg_jira_status": f"thread {offset}"}
            sandbox.edit_as(102, "Task", 5001 + offset * 10 + i, attributes)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sandbox.events.last_event_id == start + 80  # two changed fields per edit
    rows = sandbox.service.search(
        "Task",
        {"filters": [["sg_status_list", "is", "fin"]], "fields": "sg_jira_status"},
        hash_form=False,
        params=[],
        base="/api/v1",
        path="/api/v1/entity/Task/_search",
        raw_query="",
    )["data"]
    assert len(rows) == 40
    assert {row["attributes"]["sg_jira_status"] for row in rows} == {
        f"thread {n}" for n in range(4)
    }
    sandbox.close()
