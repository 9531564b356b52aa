"""The official `shotgun_api3` client (3.10.3) against the sandbox's `/api3/json` over real HTTP.

Expected values come from the raw `Production` the sandbox was seeded with (and from REST v1
for "both views agree"), never from the api3 code under test. Shapes are the ones the client
documents and consumes (`shotgun_api3/shotgun.py`): `find` dicts with `type` and `id`,
datetimes converted to aware datetimes by the client, dates left as strings, entity links
`{"type", "id", "name"}`, `delete` / `revive` booleans, `summarize` groups.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cmp_to_key
from typing import Any
from xmlrpc.client import ProtocolError  # what shotgun_api3 raises for a non-2xx reply

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shotgun_api3.shotgun import AuthenticationFault, Fault, Shotgun

from syncd_sandbox.knobs import Knobs
from syncd_sandbox.production import Production
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.shotgrid import ShotGridSandbox
from syncd_sandbox.webhooks import WebhookConfig
from tests.sandbox.test_shotgrid_sandbox import (
    PROJECT_ID,
    STATUS_CODES,
    FakeClock,
    SgClient,
    make_production,
)
from tests.sandbox.test_shotgrid_webhooks import Receiver

SCRIPT, KEY, PASSWORD = "syncd", "sandbox-sg-key", "sandbox-sg-password"
PROJECT = {"type": "Project", "id": PROJECT_ID}
API3 = "/api3/json"


@dataclass
class Site:
    """A seeded sandbox served on loopback, its production, and clients of both protocols."""

    sandbox: ShotGridSandbox
    server: ServedApp
    production: Production
    clock: FakeClock
    rest: SgClient
    clients: list[Any] = field(default_factory=list)

    def client(self, **auth: Any) -> Any:
        """A `shotgun_api3.Shotgun` for this site (the script unless told otherwise).

        Typed `Any`: the client's `BaseEntity` TypedDict knows only `type` and `id`, not the
        fields a test asks for.
        """
        auth = auth or {"script_name": SCRIPT, "api_key": KEY}
        sg = Shotgun(self.server.url, **auth)
        sg.config.rpc_attempt_interval = 1  # ms between connection-level retries
        sg.BACKOFF = 0.001  # seconds per attempt between 502/504 retries
        self.clients.append(sg)
        return sg

    def release(self) -> None:
        """Close every client's keep-alive connection (an open socket fails the run)."""
        while self.clients:
            self.clients.pop().close()

    def rpc(self, payload: Any, **headers: str) -> httpx.Response:
        """A raw POST to /api3/json, for what the client hides."""
        return httpx.post(self.server.url + API3, content=json.dumps(payload), headers=headers)

    def close(self) -> None:
        self.release()
        self.rest.http.close()
        self.server.stop()
        self.sandbox.close()


def open_site(tasks: int = 12, knobs: Knobs | None = None) -> Site:
    clock = FakeClock()
    production = make_production(tasks)
    sandbox = ShotGridSandbox(clock=clock, knobs=knobs)
    sandbox.seed(production)
    server = ServedApp.start(sandbox.create_app())
    rest = SgClient(server.url)
    rest.login()
    return Site(sandbox, server, production, clock, rest)


@pytest.fixture
def site() -> Iterator[Site]:
    opened = open_site()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def shared() -> Iterator[Site]:
    """A site no test writes to (the read-only tests and the filter property)."""
    opened = open_site()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def faulty() -> Iterator[Site]:
    """A site of its own for the fault property, whose examples write to it."""
    opened = open_site()
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def _release_clients(request: pytest.FixtureRequest) -> Iterator[None]:
    # Fetched before the test so that this teardown runs before the site's own.
    sites = [
        request.getfixturevalue(name)
        for name in ("shared", "faulty", "site")
        if name in request.fixturenames
    ]
    yield
    for opened in sites:
        opened.release()


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [int(r["id"]) for r in rows]


# -- handshake ----------------------------------------------------------------------------


def test_info_needs_no_auth_and_its_version_selects_paging_without_counts(shared: Site) -> None:
    reply = shared.rpc({"method_name": "info", "params": []})
    assert reply.status_code == 200
    info = reply.json()
    assert len(info["version"]) == 3 and all(isinstance(n, int) for n in info["version"])
    assert info["full_version"][:3] == info["version"]
    sg = shared.client()
    assert sg.server_caps.version == tuple(info["version"])
    # From 7.4.0 the client pages on has_next_page (ensure_paging_info_without_counts_support).
    assert sg.server_caps.ensure_paging_info_without_counts_support() is True
    assert sg.info()["user_authentication_method"] == "default"


# -- find ---------------------------------------------------------------------------------


def test_find_returns_the_fields_in_the_types_the_client_documents(shared: Site) -> None:
    sg, production = shared.client(), shared.production
    task = production.sg_tasks[4]
    (row,) = sg.find(
        "Task",
        [["id", "is", task.id]],
        [
            "content",
            "due_date",
            "updated_at",
            "entity",
            "task_assignees",
            "est_in_mins",
            "entity.Asset.code",
            "no_such_field",
        ],
    )
    assert row["type"] == "Task" and row["id"] == task.id
    assert row["content"] == task.content
    assert task.due_date is not None
    assert row["due_date"] == task.due_date.isoformat()  # dates stay strings
    assert isinstance(row["updated_at"], datetime) and row["updated_at"] == task.updated_at
    asset = next(a for a in production.assets if a.id == task.entity_id)
    assert row["entity"] == {"type": "Asset", "id": asset.id, "name": asset.code}
    people = {p.sg_user_id: p.display_name for p in production.people}
    assert row["task_assignees"] == [
        {"type": "HumanUser", "id": i, "name": people[i]} for i in task.assignee_ids
    ]
    assert row["est_in_mins"] == task.est_in_mins
    assert row["entity.Asset.code"] == asset.code
    assert "no_such_field" not in row  # dropped, as REST v1 drops it
    assert sg.find("Task", [["id", "is", task.id]]) == [{"type": "Task", "id": task.id}]


def test_find_orders_limits_and_pages(shared: Site) -> None:
    sg, tasks = shared.client(), shared.production.sg_tasks
    by_due = [t.id for t in sorted(tasks, key=lambda t: (t.due_date, t.id), reverse=True)]
    order = [{"field_name": "due_date", "direction": "desc"}]
    assert ids(sg.find("Task", [], ["content"], order=order)) == by_due
    assert ids(sg.find("Task", [], order=order, limit=5)) == by_due[:5]
    assert ids(sg.find("Task", [], order=order, limit=5, page=2)) == by_due[5:10]
    assert ids(sg.find("Task", [], order=order, limit=5, page=9)) == []
    status_of = {t.id: t.status for t in tasks}
    first = sg.find_one("Task", [["sg_status_list", "is", "wtg"]], ["content"], order=order)
    assert first is not None
    assert first["id"] == next(i for i in by_due if status_of[i] == "wtg")
    assert sg.find_one("Task", [["content", "is", "no such task"]]) is None


def test_nested_filters_any_and_all(shared: Site) -> None:
    sg, tasks = shared.client(), shared.production.sg_tasks
    filters = [
        ["project", "is", PROJECT],
        {
            "filter_operator": "any",
            "filters": [
                ["sg_status_list", "is", "ip"],
                {
                    "filter_operator": "all",
                    "filters": [["est_in_mins", "greater_than", 2000], ["milestone", "is", "M2"]],
                },
            ],
        },
    ]
    # `milestone` is `sg_milestone` on the site: an unknown field is a fault naming it.
    with pytest.raises(Fault, match=r"Task\.milestone"):
        sg.find("Task", filters)
    filters[1]["filters"][1]["filters"][1] = ["sg_milestone", "is", "M2"]  # type: ignore[index]
    expected = [
        t.id
        for t in tasks
        if t.status == "ip" or ((t.est_in_mins or 0) > 2000 and t.milestone == "M2")
    ]
    assert ids(sg.find("Task", filters)) == expected
    assert ids(
        sg.find(
            "Task",
            [["sg_status_list", "is", "ip"], ["sg_status_list", "is", "wtg"]],
            filter_operator="any",
        )
    ) == [t.id for t in tasks if t.status in ("ip", "wtg")]
    # A filter hash goes to the server untranslated by the client: the older documented form.
    legacy = {
        "filter_operator": "any",
        "filters": [
            ["sg_status_list", "in", "ip", "wtg"],
            {"filter_operator": "all", "filters": [["sg_milestone", "is", "M2"]]},
        ],
    }
    assert ids(sg.find("Task", legacy)) == [
        t.id for t in tasks if t.status in ("ip", "wtg") or t.milestone == "M2"
    ]
    with pytest.raises(Fault, match="filter_operator"):
        sg.find("Task", {"filter_operator": "some", "filters": []})


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    # The client itself cannot send an empty `in` list (IndexError in _translate_filters_simple).
    statuses=st.lists(st.sampled_from(STATUS_CODES), min_size=1, max_size=4),
    negate=st.booleans(),
    threshold=st.integers(0, 7000),
    any_of=st.booleans(),
    assignee=st.sampled_from([101, 102, 103]),
)
def test_api3_and_rest_filter_the_same_as_the_raw_data(
    shared: Site,
    statuses: list[str],
    negate: bool,
    threshold: int,
    any_of: bool,
    assignee: int,
) -> None:
    """Both protocols agree with a filter evaluated on the production by plain Python."""
    sg, tasks = shared.client(), shared.production.sg_tasks
    relation = "not_in" if negate else "in"
    person = {"type": "HumanUser", "id": assignee}
    triples: list[list[Any]] = [
        ["sg_status_list", relation, statuses],
        ["est_in_mins", "less_than", threshold],
        ["task_assignees", "is", person],
    ]

    def matches(t: Any) -> bool:
        tests = [
            (t.status in statuses) != negate,
            t.est_in_mins < threshold,
            assignee in t.assignee_ids,
        ]
        return any(tests) if any_of else all(tests)

    expected = [t.id for t in tasks if matches(t)]
    api3 = ids(sg.find("Task", triples, filter_operator="any" if any_of else "all"))
    rest = shared.rest.ids(
        "Task",
        {"filters": {"logical_operator": "or" if any_of else "and", "conditions": triples}},
        hash_form=True,
    )
    assert api3 == expected
    assert rest == expected


def test_paging_over_more_than_500_records_reads_every_record_once() -> None:
    opened = open_site(tasks=1234)
    try:
        sg = opened.client()
        expected = sorted(t.id for t in opened.production.sg_tasks)
        opened.sandbox.calls.reset()
        rows = sg.find("Task", [], ["content"])
        assert ids(rows) == expected  # id ascending, no gaps, no duplicates
        reads = opened.sandbox.calls.snapshot()["POST /api3/json"]
        assert reads == math.ceil(1234 / 500)
        # A lower page cap is announced in `info`; a new client pages by it.
        opened.sandbox.knobs.page_size_cap = 100
        small = opened.client()
        opened.sandbox.calls.reset()
        assert ids(small.find("Task", [["sg_status_list", "is_not", "zzz"]])) == expected
        assert opened.sandbox.calls.snapshot()["POST /api3/json"] == math.ceil(1234 / 100)
        assert len(small.find("Task", [], limit=730)) == 730
    finally:
        opened.close()


# -- writes, and both views agreeing --------------------------------------------------------


def test_create_update_delete_revive_and_rest_sees_the_same_records(site: Site) -> None:
    sg, rest = site.client(), site.rest.http
    created = sg.create(
        "Task",
        {"content": "Layout", "project": PROJECT, "sg_status_list": "ip", "due_date": "2025-04-01"},
        ["created_at", "step"],
    )
    assert set(created) == {
        "type",
        "id",
        "content",
        "project",
        "sg_status_list",
        "due_date",
        "created_at",
        "step",
    }
    assert created["created_at"] == site.clock.now and created["step"] is None
    assert created["project"] == {"type": "Project", "id": PROJECT_ID, "name": "Demo Show"}
    seen = rest.get(f"/api/v1/entity/tasks/{created['id']}").json()["data"]
    assert seen["attributes"]["content"] == "Layout"
    assert seen["attributes"]["due_date"] == "2025-04-01"

    updated = sg.update(
        "Task",
        created["id"],
        {"content": "Layout v2", "task_assignees": [{"type": "HumanUser", "id": 101}]},
    )
    assert updated == {
        "type": "Task",
        "id": created["id"],
        "content": "Layout v2",
        # Links in an update's reply carry "valid", as the client's `update` docstring shows.
        "task_assignees": [
            {"type": "HumanUser", "id": 101, "name": "Mia Krystof", "valid": "valid"}
        ],
    }
    added = sg.update(
        "Task",
        created["id"],
        {"task_assignees": [{"type": "HumanUser", "id": 103}]},
        multi_entity_update_modes={"task_assignees": "add"},
    )
    assert ids(added["task_assignees"]) == [101, 103]

    # An edit through REST v1 is what api3 reads next, and the other way round.
    reply = site.rest.http.put(
        f"/api/v1/entity/tasks/{created['id']}", json={"sg_status_list": "fin"}
    )
    assert reply.status_code == 200
    row = sg.find_one("Task", [["id", "is", created["id"]]], ["sg_status_list", "updated_by"])
    assert row is not None and row["sg_status_list"] == "fin"
    assert row["updated_by"]["type"] == "ApiUser"

    assert sg.delete("Task", created["id"]) is True
    assert sg.delete("Task", created["id"]) is False  # already retired
    assert rest.get(f"/api/v1/entity/tasks/{created['id']}").status_code == 404
    retired = sg.find("Task", [], retired_only=True)
    assert ids(retired) == [created["id"]]
    assert created["id"] not in ids(sg.find("Task", []))
    assert sg.revive("Task", created["id"]) is True
    assert sg.revive("Task", created["id"]) is False  # not retired any more
    assert rest.get(f"/api/v1/entity/tasks/{created['id']}").status_code == 200
    with pytest.raises(Fault, match="does not exist"):
        sg.delete("Task", 999_999)


def test_a_refused_write_names_the_field_and_stores_nothing(site: Site) -> None:
    sg = site.client()
    task = site.production.sg_tasks[0]
    with pytest.raises(Fault, match="not a valid status") as refused:
        sg.update("Task", task.id, {"content": "changed", "sg_status_list": "nope"})
    assert not isinstance(refused.value, AuthenticationFault)
    row = sg.find_one("Task", [["id", "is", task.id]], ["content", "sg_status_list"])
    assert row == {
        "type": "Task",
        "id": task.id,
        "content": task.content,
        "sg_status_list": task.status,
    }
    with pytest.raises(Fault, match=r"Task\.bogus"):
        sg.create("Task", {"content": "x", "project": PROJECT, "bogus": 1})
    with pytest.raises(Fault, match="Entity type 'Nope'"):
        sg.find("Nope", [])


def test_batch_is_all_or_nothing_and_answers_in_request_order(site: Site) -> None:
    sg = site.client()
    before = ids(sg.find("Task", []))
    first = site.production.sg_tasks[0]
    with pytest.raises(Fault, match="batch request 2"):
        sg.batch(
            [
                {
                    "request_type": "create",
                    "entity_type": "Task",
                    "data": {"content": "A", "project": PROJECT},
                },
                {
                    "request_type": "update",
                    "entity_type": "Task",
                    "entity_id": first.id,
                    "data": {"content": "B"},
                },
                {
                    "request_type": "update",
                    "entity_type": "Task",
                    "entity_id": first.id,
                    "data": {"sg_status_list": "bad"},
                },
            ]
        )
    assert ids(sg.find("Task", [])) == before
    assert sg.find_one("Task", [["id", "is", first.id]], ["content"])["content"] == first.content

    results = sg.batch(
        [
            {
                "request_type": "create",
                "entity_type": "Task",
                "data": {"content": "A", "project": PROJECT},
            },
            {
                "request_type": "update",
                "entity_type": "Task",
                "entity_id": first.id,
                "data": {"content": "B"},
            },
            {
                "request_type": "delete",
                "entity_type": "Task",
                "entity_id": site.production.sg_tasks[1].id,
            },
        ]
    )
    assert results[0]["content"] == "A" and results[0]["type"] == "Task"
    assert results[1] == {"type": "Task", "id": first.id, "content": "B"}
    assert results[2] is True
    assert ids(sg.find("Task", [])) == sorted(
        [*[i for i in before if i != site.production.sg_tasks[1].id], results[0]["id"]]
    )


# -- summarize ------------------------------------------------------------------------------


def test_summarize_counts_and_sums_with_groups(shared: Site) -> None:
    sg, production = shared.client(), shared.production
    tasks = production.sg_tasks
    reply = sg.summarize(
        "Task",
        [["project", "is", PROJECT]],
        [{"field": "id", "type": "count"}, {"field": "est_in_mins", "type": "sum"}],
        grouping=[{"field": "sg_status_list", "type": "exact", "direction": "asc"}],
    )
    assert reply["summaries"] == {
        "id": len(tasks),
        "est_in_mins": sum(t.est_in_mins or 0 for t in tasks),
    }
    statuses = sorted({t.status for t in tasks})
    assert [g["group_value"] for g in reply["groups"]] == statuses
    for group in reply["groups"]:
        mine = [t for t in tasks if t.status == group["group_value"]]
        assert group["group_name"] == group["group_value"]
        assert group["summaries"] == {
            "id": len(mine),
            "est_in_mins": sum(t.est_in_mins or 0 for t in mine),
        }

    by_entity = sg.summarize(
        "Task",
        [["entity", "type_is", "Asset"]],
        [{"field": "id", "type": "record_count"}, {"field": "due_date", "type": "latest"}],
        grouping=[{"field": "entity", "type": "exact", "direction": "desc"}],
    )
    assets = {a.id: a.code for a in production.assets}
    expected_order = sorted(assets, key=lambda i: assets[i].casefold(), reverse=True)
    assert [g["group_value"]["id"] for g in by_entity["groups"]] == expected_order
    for group in by_entity["groups"]:
        mine = [
            t
            for t in tasks
            if t.entity_type == "Asset" and t.entity_id == group["group_value"]["id"]
        ]
        assert group["group_name"] == assets[group["group_value"]["id"]]
        assert group["group_value"]["type"] == "Asset"
        assert group["summaries"] == {
            "id": len(mine),
            "due_date": max(t.due_date for t in mine if t.due_date is not None).isoformat(),
        }
    with pytest.raises(Fault, match="percentage"):
        sg.summarize("Task", [], [{"field": "id", "type": "percentage"}])


# -- schema -----------------------------------------------------------------------------------


def test_schema_reads(shared: Site) -> None:
    sg = shared.client()
    everything = sg.schema_read()
    types = sg.schema_entity_read()
    assert set(everything) == set(types) >= {"Task", "Shot", "Asset", "HumanUser", "Project"}
    assert types["HumanUser"] == {
        "name": {"value": "Person", "editable": False},
        "visible": {"value": True, "editable": False},
    }
    fields = sg.schema_field_read("Task")
    assert fields == everything["Task"]
    status = sg.schema_field_read("Task", "sg_status_list")
    assert list(status) == ["sg_status_list"]
    prop = status["sg_status_list"]
    for key in ("data_type", "editable", "entity_type", "mandatory", "name", "visible"):
        assert set(prop[key]) == {"value", "editable"}, key
    assert all(set(v) == {"value", "editable"} for v in prop["properties"].values())
    assert prop["data_type"]["value"] == "status_list"
    assert prop["properties"]["valid_values"]["value"] == list(STATUS_CODES)
    assert fields["entity"]["properties"]["valid_types"]["value"] == ["Asset", "Shot", "Sequence"]
    with pytest.raises(Fault, match="Entity type 'Nope'"):
        sg.schema_field_read("Nope")
    with pytest.raises(Fault, match=r"Task\.nope"):
        sg.schema_field_read("Task", "nope")


# -- auth -------------------------------------------------------------------------------------


def test_wrong_credentials_raise_authentication_fault(shared: Site) -> None:
    for auth in (
        {"script_name": SCRIPT, "api_key": "wrong"},
        {"script_name": "someone-else", "api_key": KEY},
        {"login": "raj", "password": "wrong"},
        {"login": "nobody", "password": PASSWORD},
        {"session_token": "0123456789abcdef"},
    ):
        with pytest.raises(AuthenticationFault):
            shared.client(**auth).find("Task", [])


def test_person_login_and_session_tokens(site: Site) -> None:
    person = site.client(login="raj", password=PASSWORD)
    task = site.production.sg_tasks[2]
    person.update("Task", task.id, {"sg_milestone": "M9"})
    row = person.find_one("Task", [["id", "is", task.id]], ["updated_by"])
    assert row is not None and row["updated_by"] == {
        "type": "HumanUser",
        "id": 102,
        "name": "Raj Patel",
    }
    assert person.authenticate_human_user("raj", PASSWORD) is not None

    token = person.get_session_token()
    by_token = site.client(session_token=token)
    me = by_token.find_one("HumanUser", [["login", "is", "raj"]], ["name"])
    assert me == {"type": "HumanUser", "id": 102, "name": "Raj Patel"}
    site.clock.advance(86_400 + 1)  # the session outlives nothing
    with pytest.raises(AuthenticationFault):
        site.client(session_token=token).find("Task", [])
    # A person moved to "dis" can no longer log in.
    site.rest.login()  # the REST token expired with the day that passed
    reply = site.rest.http.put("/api/v1/entity/human_users/103", json={"sg_status_list": "dis"})
    assert reply.status_code == 200, reply.text
    with pytest.raises(AuthenticationFault):
        site.client(login="ana", password=PASSWORD).find("Task", [])


# -- the wire ---------------------------------------------------------------------------------


def test_envelope_faults_come_back_as_exception_hashes(shared: Site) -> None:
    auth = {"script_name": SCRIPT, "script_key": KEY}
    payloads: list[Any] = [
        {"method_name": "no_such_method", "params": [auth]},
        {"method_name": "read", "params": [auth, {"type": "Task", "paging": "x"}]},
        {"params": []},
        [1, 2],
        "not json at all",
    ]
    for payload in payloads:
        reply = shared.rpc(payload)
        assert reply.status_code == 200
        body = reply.json()
        assert body["exception"] is True and isinstance(body["message"], str)
        assert body["error_code"] != 102
    unauthenticated = shared.rpc({"method_name": "read", "params": [{"type": "Task"}]}).json()
    assert unauthenticated["error_code"] == 102
    wrong_key = {"script_name": SCRIPT, "script_key": "s3cret-guess"}
    refused = shared.rpc({"method_name": "read", "params": [wrong_key, {"type": "Task"}]})
    assert refused.json()["error_code"] == 102
    assert "s3cret-guess" not in refused.text  # a key sent is never echoed back


def test_large_replies_are_gzipped_for_clients_that_ask(shared: Site) -> None:
    payload = {
        "method_name": "schema_read",
        "params": [{"script_name": SCRIPT, "script_key": KEY}],
    }
    raw = httpx.post(
        shared.server.url + API3,
        content=json.dumps(payload),
        headers={"accept-encoding": "gzip"},
    )
    assert raw.headers["content-encoding"] == "gzip"  # httpx undoes it, as httplib2 does
    assert "Task" in raw.json()["results"]
    plain = httpx.post(
        shared.server.url + API3,
        content=json.dumps(payload),
        headers={"accept-encoding": "identity"},
    )
    assert "content-encoding" not in plain.headers
    assert plain.json() == raw.json()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 11), st.sampled_from(STATUS_CODES)), min_size=1, max_size=8
    ),
    seed=st.integers(0, 10_000),
    kinds=st.lists(st.sampled_from(["500", "503", "drop"]), min_size=1, max_size=3),
)
def test_faults_never_apply_a_write_twice_or_return_a_wrong_answer(
    faulty: Site, edits: list[tuple[int, str]], seed: int, kinds: list[Any]
) -> None:
    """Under injected 500/503/drops each call either fails or is right; retried edits land once."""
    sandbox = faulty.sandbox
    sg = faulty.client()
    sg.config.max_rpc_attempts = 1
    tasks = faulty.production.sg_tasks
    # Work on a copy of the current state so examples compose on the shared site.
    baseline = {r["id"]: r["sg_status_list"] for r in sg.find("Task", [], ["sg_status_list"])}
    expected = dict(baseline)
    sandbox.knobs.seed, sandbox.knobs.faults, sandbox.knobs.fault_rate = seed, kinds, 0.4
    try:
        for index, status in edits:
            task_id = tasks[index].id
            for _attempt in range(200):
                try:
                    answer = sg.update("Task", task_id, {"sg_status_list": status})
                except ProtocolError:
                    continue
                except Exception:  # a dropped connection, as httplib2 reports it
                    continue
                assert answer == {"type": "Task", "id": task_id, "sg_status_list": status}
                expected[task_id] = status
                break
            else:
                pytest.fail("200 attempts all faulted at rate 0.4")
    finally:
        sandbox.knobs.fault_rate = 0.0
    after = {r["id"]: r["sg_status_list"] for r in sg.find("Task", [], ["sg_status_list"])}
    assert after == expected
    assert len(after) == len(baseline)  # no write created anything


def test_rate_limit_reaches_the_client_as_a_429_protocol_error(site: Site) -> None:
    sg = site.client()  # its `info` handshake happens before the limit is set
    site.sandbox.knobs.rate_limit_per_minute = 1
    try:
        sg.find("Task", [])
        with pytest.raises(ProtocolError) as refused:
            sg.find("Task", [])
        assert refused.value.errcode == 429
    finally:
        site.sandbox.knobs.rate_limit_per_minute = None


def test_api3_writes_send_the_webhooks_rest_writes_send() -> None:
    receiver = Receiver()
    hook_server = ServedApp.start(receiver.app())
    sandbox = ShotGridSandbox(
        clock=FakeClock(),
        webhook=WebhookConfig(url=f"{hook_server.url}/hook", secret="sg-webhook-secret"),
    )
    sandbox.seed(make_production())
    server = ServedApp.start(sandbox.create_app())
    rest = SgClient(server.url)
    sg = Shotgun(server.url, script_name=SCRIPT, api_key=KEY)
    try:
        rest.login()
        reply = rest.http.put("/api/v1/entity/tasks/5001", json={"sg_status_list": "ip"})
        assert reply.status_code == 200
        sg.update("Task", 5005, {"sg_status_list": "ip"})  # was "wtg", as 5001
        assert sandbox.webhooks.flush(5)
        by_rest, by_api3 = (json.loads(body)["data"] for _, body in receiver.deliveries)

        def same_parts(event: dict[str, Any]) -> dict[str, Any]:
            meta = {k: v for k, v in event["meta"].items() if k != "entity_id"}
            return {"meta": meta, **{k: event[k] for k in ("event_type", "operation", "user")}}

        assert by_api3["entity"] == {"type": "Task", "id": 5005}
        assert same_parts(by_api3) == same_parts(by_rest)
    finally:
        sg.close()
        rest.http.close()
        server.stop()
        sandbox.close()
        hook_server.stop()


def test_sudo_as_login_and_archived_projects(site: Site) -> None:
    as_mia = site.client(script_name=SCRIPT, api_key=KEY, sudo_as_login="mia")
    task = site.production.sg_tasks[3]
    as_mia.update("Task", task.id, {"sg_milestone": "M3"})
    row = site.client().find_one("Task", [["id", "is", task.id]], ["updated_by"])
    assert row["updated_by"] == {"type": "HumanUser", "id": 101, "name": "Mia Krystof"}
    with pytest.raises(AuthenticationFault):
        site.client(script_name=SCRIPT, api_key=KEY, sudo_as_login="nobody").find("Task", [])

    sg = site.client()
    every = ids(sg.find("Task", []))
    assert len(every) == len(site.production.sg_tasks)
    reply = site.rest.http.put(f"/api/v1/entity/projects/{PROJECT_ID}", json={"archived": True})
    assert reply.status_code == 200, reply.text
    assert ids(sg.find("Task", [], include_archived_projects=False)) == []
    assert ids(sg.find("Task", [])) == every


SORTABLE = {
    "sg_status_list": lambda t: t.status,
    "due_date": lambda t: t.due_date,
    "est_in_mins": lambda t: t.est_in_mins,
    "content": lambda t: t.content.casefold(),
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cap=st.integers(1, 7),
    field_name=st.sampled_from(sorted(SORTABLE)),
    descending=st.booleans(),
)
def test_paging_under_any_page_cap_and_sort_misses_and_repeats_nothing(
    shared: Site, cap: int, field_name: str, descending: bool
) -> None:
    """Pages read by the client under a tiny page cap join into the one sorted list."""
    key = SORTABLE[field_name]

    def before(a: Any, b: Any) -> int:  # key in the asked direction, ties by id ascending
        ka, kb = key(a), key(b)
        if ka != kb:
            return (-1 if ka > kb else 1) if descending else (-1 if ka < kb else 1)
        return -1 if a.id < b.id else 1

    expected = [t.id for t in sorted(shared.production.sg_tasks, key=cmp_to_key(before))]
    shared.sandbox.knobs.page_size_cap = cap
    try:
        sg = shared.client()  # reads the cap from `info` as its page size
        direction = "desc" if descending else "asc"
        rows = sg.find("Task", [], order=[{"field_name": field_name, "direction": direction}])
    finally:
        shared.sandbox.knobs.page_size_cap = None
    assert ids(rows) == expected


def test_datetimes_and_dates_sent_as_python_objects(site: Site) -> None:
    """The client turns datetimes into `...Z` strings (UTC) and dates into `YYYY-MM-DD`."""
    sg, tasks = site.client(), site.production.sg_tasks
    cut = tasks[5].updated_at  # an aware UTC datetime
    later = sg.find("Task", [["updated_at", "greater_than", cut]])
    assert ids(later) == [t.id for t in tasks if t.updated_at > cut]
    local = cut.astimezone(timezone(timedelta(hours=-7)))  # the same instant, another zone
    assert ids(sg.find("Task", [["updated_at", "greater_than", local]])) == ids(later)
    due = tasks[3].due_date
    assert due is not None
    assert ids(sg.find("Task", [["due_date", "is", due]])) == [
        t.id for t in tasks if t.due_date == due
    ]
    recent = sg.find("Task", [["updated_at", "in_last", 60, "DAY"]])
    assert ids(recent) == [
        t.id for t in tasks if site.clock.now - timedelta(days=60) <= t.updated_at <= site.clock.now
    ]
    made = sg.create(
        "Task", {"content": "Dated", "project": PROJECT, "start_date": date(2025, 4, 1)}
    )
    assert made["start_date"] == "2025-04-01"


def test_a_rest_reader_never_sees_half_of_an_api3_batch(site: Site) -> None:
    """Two tasks changed together by `batch` are always read together over REST v1."""
    first, second = (t.id for t in site.production.sg_tasks[:2])
    sg = site.client()
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for round_ in range(40):
                sg.batch(
                    [
                        {
                            "request_type": "update",
                            "entity_type": "Task",
                            "entity_id": task_id,
                            "data": {"sg_milestone": f"R{round_}"},
                        }
                        for task_id in (first, second)
                    ]
                )
        except BaseException as error:  # surfaced in the main thread below
            failures.append(error)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen = set()
    body = {"filters": [["id", "in", [first, second]]], "fields": ["sg_milestone"]}
    while not done.is_set():
        reply = site.rest.search("Task", body)
        assert reply.status_code == 200
        pair = {row["attributes"]["sg_milestone"] for row in reply.json()["data"]}
        assert len(pair) == 1, pair  # both or neither
        seen |= pair
    writer.join()
    assert not failures
    assert len(seen) >= 1, seen
