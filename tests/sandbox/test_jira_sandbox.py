"""The Jira sandbox seen through the real `jira` client: construction, search, issues, edits.

Also home of the small hand-built production (`build_production`) and the serving helpers the
other `test_jira_*` files import.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
import jira
import pytest
import requests

from syncd_sandbox.jira import DEFAULT_ACCOUNT_ID, DEFAULT_API_TOKEN, DEFAULT_EMAIL, JiraSandbox
from syncd_sandbox.knobs import Knobs
from syncd_sandbox.production import (
    Department,
    JiraIssue,
    Milestone,
    Person,
    Production,
    SheetTab,
)
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.webhooks import WebhookConfig, WebhookStats

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
STATUSES = ("To Do", "In Progress", "In Review", "Blocked", "Done", "QA Hold")
MIA = Person("mia", "Mia Krystof", "mia@studio.example", "Art", "5b10ac8d82e05b22cc7d4ef5", 101)
ZOE = Person(
    "zoe",
    "Zoë Lefèvre",
    "zoe@studio.example",
    "Design",
    "712020:2f1c9d7e-8a4b-4c3d-9e2f-1a0b3c4d5e6f",
    102,
    jira_email_visible=False,
)
DELETED = 7
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}")


def make_issue(n: int) -> JiraIssue:
    """Issue HRB-n: status cycles through the workflow, created n hours after T0."""
    created = T0 + timedelta(hours=n)
    return JiraIssue(
        id=10000 + n,
        key=f"HRB-{n}",
        summary=f"Model prop {n}",
        issue_type="Task",
        status=STATUSES[n % len(STATUSES)],
        assignee_account_id=(MIA, ZOE)[n % 2].jira_account_id if n % 5 else None,
        reporter_account_id=MIA.jira_account_id,
        due_date=date(2026, 12, 1) if n % 2 else None,
        original_estimate_seconds=28800 if n % 2 else None,
        time_spent_seconds=3600 if n % 3 == 0 else None,
        labels=("sg-sync",) if n % 2 else (),
        department="Art" if n % 2 else None,
        milestone="Alpha",
        sprint=f"Sprint {n % 3 + 12}",
        story_points=3.0,
        sg_task_id=5000 + n,
        created=created,
        updated=created + timedelta(minutes=30),
        deleted=n == DELETED,
    )


def build_production(count: int = 30) -> Production:
    """A small production: project HRB, two people, `count` issues (HRB-7 deleted)."""
    return Production(
        name="test",
        seed=1,
        jira_project_key="HRB",
        jira_project_name="Harbor",
        sg_project_id=1,
        sg_project_name="Harbor",
        spreadsheet_id="sheet",
        spreadsheet_title="Harbor",
        milestones=(Milestone("M2", "Alpha", date(2026, 12, 1)),),
        departments=(Department("Art", 400), Department("Design", 200)),
        steps=(),
        people=(MIA, ZOE),
        assets=(),
        shots=(),
        sg_tasks=(),
        jira_issues=tuple(make_issue(n) for n in range(1, count + 1)),
        invoices=SheetTab("Invoices", ()),
        budget=SheetTab("Budget", ()),
        jira_statuses=STATUSES,
        sg_status_codes=(),
    )


def live_count(count: int) -> int:
    """Issues a production of `count` serves (the deleted one is not served)."""
    return count - (1 if count >= DELETED else 0)


def answer(error: jira.JIRAError) -> requests.Response:
    """The HTTP response behind a `JIRAError`."""
    assert error.response is not None
    return error.response


@contextmanager
def serving(sandbox: JiraSandbox) -> Iterator[str]:
    """Serve the sandbox on loopback; yields its base URL."""
    served = ServedApp.start(sandbox.create_app())
    try:
        yield served.url
    finally:
        served.stop()


def connect(url: str, *, max_retries: int = 0, token: str = DEFAULT_API_TOKEN) -> jira.JIRA:
    """A `jira` client the way the connector builds one."""
    return jira.JIRA(
        server=url,
        basic_auth=(DEFAULT_EMAIL, token),
        options={"rest_api_version": "3"},
        max_retries=max_retries,
    )


def fresh(sandbox: JiraSandbox, count: int = 30) -> JiraSandbox:
    """Put a shared sandbox back to a just-seeded state: issues, knobs, calls, webhook."""
    sandbox.seed(build_production(count))
    for name, spec in Knobs.model_fields.items():
        setattr(sandbox.knobs, name, spec.get_default(call_default_factory=True))
    sandbox.calls.reset()
    sandbox.webhooks.config = WebhookConfig()
    sandbox.webhooks.stats = WebhookStats()
    return sandbox


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[JiraSandbox, str]]:
    """One sandbox served for the whole module (starting uvicorn per test is slow)."""
    box = JiraSandbox()
    with serving(box) as base:
        yield box, base
    box.close()


@pytest.fixture
def sandbox(served: tuple[JiraSandbox, str]) -> JiraSandbox:
    return fresh(served[0])


@pytest.fixture
def url(sandbox: JiraSandbox, served: tuple[JiraSandbox, str]) -> str:
    return served[1]


@pytest.fixture
def client(url: str) -> jira.JIRA:
    return connect(url)


@pytest.fixture
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, auth=(DEFAULT_EMAIL, DEFAULT_API_TOKEN)) as session:
        yield session


pytestmark = pytest.mark.sandbox


def test_openapi_document_builds() -> None:
    paths = set(JiraSandbox().create_app().openapi()["paths"])
    assert {"/rest/api/3/search/jql", "/rest/api/2/issue/{id_or_key}", "/_sandbox/people"} <= paths


def test_client_detects_cloud(client: jira.JIRA) -> None:
    assert client._is_cloud
    info = client.server_info()
    assert info["deploymentType"] == "Cloud"
    assert info["versionNumbers"] == [1001, 0, 0]
    assert client.myself()["accountId"] == DEFAULT_ACCOUNT_ID


def test_search_issues_pages_through_everything(sandbox: JiraSandbox, url: str) -> None:
    fresh(sandbox, 250)
    issues = connect(url).search_issues("project = HRB ORDER BY key ASC", maxResults=False)
    keys = [issue.key for issue in issues]
    assert len(keys) == live_count(250)
    assert keys[:7] == ["HRB-1", "HRB-2", "HRB-3", "HRB-4", "HRB-5", "HRB-6", "HRB-8"]
    assert sandbox.calls.snapshot()["GET /rest/api/3/search/jql"] == 3  # 100 + 100 + 49


def test_enhanced_search_follows_next_page_token(client: jira.JIRA) -> None:
    jql = 'updated >= "2026/10/01 10:00" ORDER BY updated ASC'
    keys: list[str] = []
    token = None
    while True:
        page = client.enhanced_search_issues(
            jql, nextPageToken=token, maxResults=7, fields="summary,updated"
        )
        keys.extend(issue.key for issue in page)
        token = page.nextPageToken
        if token is None:
            break
    assert keys == [f"HRB-{n}" for n in range(1, 31) if n != DELETED]
    last = client.enhanced_search_issues(jql, maxResults=100, fields="summary", json_result=True)
    assert last["isLast"] is True and "nextPageToken" not in last


def test_search_by_post_takes_the_same_query(client: jira.JIRA) -> None:
    jql = "status = Done ORDER BY key ASC"
    by_post = client.enhanced_search_issues(jql, maxResults=3, fields=["summary"], use_post=True)
    by_get = client.enhanced_search_issues(jql, maxResults=3, fields=["summary"])
    assert [i.key for i in by_post] == [i.key for i in by_get] == ["HRB-4", "HRB-10", "HRB-16"]
    assert by_post.nextPageToken == by_get.nextPageToken is not None


def test_navigable_fields_and_expansions(http: httpx.Client) -> None:
    params = {"jql": "key = HRB-1", "fields": "*navigable,-labels", "expand": "names,transitions"}
    (issue,) = http.get("/rest/api/3/search/jql", params=params).json()["issues"]
    assert "timetracking" not in issue["fields"] and "labels" not in issue["fields"]
    assert {"summary", "status", "updated"} <= set(issue["fields"])
    assert issue["names"]["summary"] == "Summary"
    assert [t["name"] for t in issue["transitions"]][:2] == ["To Do", "In Review"]


def test_search_without_fields_returns_ids_only(http: httpx.Client) -> None:
    body = http.get("/rest/api/3/search/jql", params={"jql": "key = HRB-3"}).json()
    assert body == {"issues": [{"id": "10003"}], "isLast": True}


def test_search_fields_as_repeated_keys_or_comma_string(http: httpx.Client) -> None:
    repeated = http.get(
        "/rest/api/3/search/jql",
        params=[("jql", "key in (HRB-3, HRB-4)"), ("fields", "summary"), ("fields", "status")],
    ).json()
    joined = http.get(
        "/rest/api/3/search/jql",
        params={"jql": "key in (HRB-3, HRB-4)", "fields": "summary,status"},
    ).json()
    assert repeated == joined
    assert set(repeated["issues"][0]["fields"]) == {"summary", "status"}


def test_page_size_is_capped_by_the_server(sandbox: JiraSandbox, http: httpx.Client) -> None:
    fresh(sandbox, 150)
    with_fields: dict[str, str | int] = {
        "jql": "project = HRB",
        "maxResults": 1000,
        "fields": "summary",
    }
    assert len(http.get("/rest/api/3/search/jql", params=with_fields).json()["issues"]) == 100
    ids_only: dict[str, str | int] = {"jql": "project = HRB", "maxResults": 1000}
    assert len(http.get("/rest/api/3/search/jql", params=ids_only).json()["issues"]) == 149
    sandbox.knobs.page_size_cap = 10
    assert len(http.get("/rest/api/3/search/jql", params=with_fields).json()["issues"]) == 10
    refused = http.get("/rest/api/3/search/jql", params={"jql": "project = HRB", "maxResults": 0})
    assert refused.status_code == 400


def test_issue_has_cloud_shapes(client: jira.JIRA, url: str) -> None:
    issue = client.issue("HRB-3")
    raw = issue.raw
    fields = raw["fields"]
    assert raw["id"] == "10003" and raw["self"] == f"{url}/rest/api/3/issue/10003"
    assert fields["status"]["name"] == "Blocked"
    assert fields["status"]["statusCategory"]["key"] == "indeterminate"
    assert fields["assignee"]["accountId"] == ZOE.jira_account_id
    assert "emailAddress" not in fields["assignee"]  # Zoë hides her email
    assert fields["reporter"]["emailAddress"] == MIA.email
    assert TIMESTAMP.fullmatch(fields["created"]) and fields["updated"].endswith("+0000")
    assert fields["duedate"] == "2026-12-01"
    assert fields["timeoriginalestimate"] == 28800 and fields["timespent"] == 3600
    assert fields["timetracking"] == {
        "originalEstimate": "1d",
        "remainingEstimate": "7h",
        "timeSpent": "1h",
        "originalEstimateSeconds": 28800,
        "remainingEstimateSeconds": 25200,
        "timeSpentSeconds": 3600,
    }
    names = {f["name"]: f["id"] for f in client.fields()}
    assert fields[names["Department"]]["value"] == "Art"
    assert fields[names["ShotGrid Task"]] == 5003.0
    assert fields[names["Story point estimate"]] == 3.0
    assert fields[names["Sprint"]][0]["name"] == "Sprint 12"
    assert fields[names["Pipeline Status"]] is None
    assert fields["description"] is None


def test_field_metadata_lets_clients_discover_custom_fields(client: jira.JIRA) -> None:
    fields = {f["name"]: f for f in client.fields()}
    sprint = fields["Sprint"]
    assert sprint["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-sprint"
    assert sprint["clauseNames"] == [f"cf[{sprint['schema']['customId']}]", "Sprint"]
    assert fields["Department"]["schema"]["type"] == "option"


def test_description_is_adf_in_v3_and_text_in_v2(client: jira.JIRA, http: httpx.Client) -> None:
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Hero prop, hi-res."}]}
        ],
    }
    client.issue("HRB-4").update(fields={"description": doc})
    assert (
        http.get("/rest/api/2/issue/HRB-4").json()["fields"]["description"] == "Hero prop, hi-res."
    )
    assert http.get("/rest/api/3/issue/HRB-4").json()["fields"]["description"] == doc
    with pytest.raises(jira.JIRAError) as refused:
        client.issue("HRB-4").update(fields={"description": "plain text is a v2 value"})
    assert refused.value.status_code == 400


def test_update_changes_fields_and_writes_history(client: jira.JIRA) -> None:
    issue = client.issue("HRB-4")
    before = issue.fields.updated
    names = {f["name"]: f["id"] for f in client.fields()}
    issue.update(
        fields={
            "summary": "Model hero prop",
            "duedate": "2027-01-15",
            "assignee": {"accountId": MIA.jira_account_id},
            "timetracking": {"originalEstimate": "2d 4h"},
            names["Department"]: {"value": "Design"},
            names["Pipeline Status"]: "ip",
        },
        update={"labels": [{"add": "hero"}, {"remove": "missing"}]},
    )
    assert issue.fields.summary == "Model hero prop"  # reloaded by the library after the PUT
    assert issue.fields.duedate == "2027-01-15"
    assert issue.raw["fields"]["assignee"]["accountId"] == MIA.jira_account_id
    assert issue.fields.timeoriginalestimate == 72000
    assert issue.fields.labels == ["hero"]
    assert issue.raw["fields"][names["Department"]]["value"] == "Design"
    assert issue.fields.updated > before
    log = client.issue("HRB-4", expand="changelog").raw["changelog"]["histories"]
    assert log[-1]["author"]["accountId"] == DEFAULT_ACCOUNT_ID
    items = {item["fieldId"]: item for item in log[-1]["items"]}
    assert items["summary"]["fromString"] == "Model prop 4"
    assert items["summary"]["toString"] == "Model hero prop"
    assert items["timeoriginalestimate"]["to"] == "72000"
    assert items[names["Department"]]["toString"] == "Design"


def test_edit_refuses_status_and_unknown_fields(client: jira.JIRA) -> None:
    issue = client.issue("HRB-4")
    with pytest.raises(jira.JIRAError) as refused:
        issue.update(
            fields={"summary": "never applied", "status": {"name": "Done"}, "customfield_99999": 1}
        )
    assert refused.value.status_code == 400
    errors = answer(refused.value).json()["errors"]
    assert set(errors) == {"status", "customfield_99999"}
    assert "cannot be set" in errors["status"]
    assert client.issue("HRB-4").fields.summary == "Model prop 4"


def test_edit_refuses_an_unknown_select_option(client: jira.JIRA) -> None:
    department = next(f["id"] for f in client.fields() if f["name"] == "Department")
    with pytest.raises(jira.JIRAError) as refused:
        client.issue("HRB-4").update(fields={department: {"value": "Catering"}})
    assert (
        answer(refused.value).json()["errors"][department] == "Option value 'Catering' is not valid"
    )


def test_put_with_return_issue(http: httpx.Client) -> None:
    answer = http.put(
        "/rest/api/3/issue/HRB-4?returnIssue=true", json={"fields": {"summary": "Returned"}}
    )
    assert answer.status_code == 200
    assert answer.json()["fields"]["summary"] == "Returned"
    plain = http.put("/rest/api/3/issue/HRB-4", json={"fields": {"summary": "Quiet"}})
    assert plain.status_code == 204 and plain.content == b""


def test_transition_issue_moves_through_the_workflow(client: jira.JIRA) -> None:
    names = [t["name"] for t in client.transitions("HRB-1")]
    assert names == ["To Do", "In Review", "Blocked", "Done", "QA Hold"]
    client.transition_issue("HRB-1", "In Review")
    assert client.issue("HRB-1").fields.status.name == "In Review"


def test_done_offers_only_reopen(client: jira.JIRA, http: httpx.Client) -> None:
    assert client.issue("HRB-4").fields.status.name == "Done"
    transitions = client.transitions("HRB-4")
    assert [(t["name"], t["to"]["name"]) for t in transitions] == [("Reopen", "To Do")]
    with pytest.raises(jira.JIRAError, match="Invalid transition name"):
        client.transition_issue("HRB-4", "In Review")
    refused = http.post("/rest/api/3/issue/HRB-4/transitions", json={"transition": {"id": "31"}})
    assert refused.status_code == 400
    assert refused.json()["errorMessages"] == ["Transition id '31' is not valid for this issue."]
    client.transition_issue("HRB-4", "Reopen")
    assert client.issue("HRB-4").fields.status.name == "To Do"


def test_assign_issue_uses_account_ids(client: jira.JIRA) -> None:
    assert client.assign_issue("HRB-5", MIA.jira_account_id)
    assert client.issue("HRB-5").raw["fields"]["assignee"]["displayName"] == "Mia Krystof"
    assert client.assign_issue("HRB-5", None)
    assert client.issue("HRB-5").fields.assignee is None


def test_changelog_is_paged(client: jira.JIRA, http: httpx.Client) -> None:
    for n in range(3):
        client.issue("HRB-8").update(fields={"summary": f"Revision {n}"})
    first = http.get("/rest/api/3/issue/HRB-8/changelog", params={"maxResults": 2}).json()
    assert (first["total"], first["startAt"], first["isLast"]) == (3, 0, False)
    assert [v["items"][0]["toString"] for v in first["values"]] == ["Revision 0", "Revision 1"]
    rest = http.get("/rest/api/3/issue/HRB-8/changelog", params={"startAt": 2}).json()
    assert rest["isLast"] and rest["values"][0]["items"][0]["toString"] == "Revision 2"


def test_create_issue_takes_the_next_key(client: jira.JIRA) -> None:
    created = client.create_issue(
        fields={"project": {"key": "HRB"}, "summary": "New tool", "issuetype": {"name": "Bug"}}
    )
    assert created.key == "HRB-31"
    assert created.fields.status.name == "To Do"
    assert created.fields.reporter.accountId == DEFAULT_ACCOUNT_ID


def test_old_search_endpoint_is_gone(client: jira.JIRA, url: str) -> None:
    with pytest.raises(jira.JIRAError) as gone:
        client._session.get(f"{url}/rest/api/2/search", params={"jql": "project = HRB"})
    assert gone.value.status_code == 410
    assert "migrate to the /rest/api/3/search/jql API" in str(gone.value.text)


def test_jql_errors_are_400(client: jira.JIRA) -> None:
    with pytest.raises(jira.JIRAError) as unknown:
        client.search_issues("flavour = vanilla")
    assert unknown.value.status_code == 400
    assert unknown.value.text == (
        "Field 'flavour' does not exist or you do not have permission to view it."
    )
    with pytest.raises(jira.JIRAError) as syntax:
        client.search_issues('project = "HRB')
    assert str(syntax.value.text).startswith("Error in the JQL Query: The quoted string")
    with pytest.raises(jira.JIRAError) as unbounded:
        client.search_issues("ORDER BY updated ASC")
    assert str(unbounded.value.text).startswith("Unbounded JQL queries are not allowed here.")


def test_missing_issue_and_unknown_path(http: httpx.Client) -> None:
    gone = http.get(f"/rest/api/3/issue/HRB-{DELETED}")
    assert gone.status_code == 404
    assert gone.json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }
    nowhere = http.get("/rest/api/3/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.json()["detail"] == "No endpoint GET /rest/api/3/nowhere."
