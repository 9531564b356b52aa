"""JQL parsing and evaluation, and keyset paging, exercised on the site directly (no HTTP)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from syncd_sandbox.jira import JiraSandbox
from syncd_sandbox.jira.errors import JiraError
from syncd_sandbox.jira.jql import JqlError, parse
from syncd_sandbox.jira.render import View
from tests.sandbox.test_jira_sandbox import DELETED, MIA, T0, build_production

ALL = [f"HRB-{n}" for n in range(1, 31) if n != DELETED]


@pytest.fixture
def sandbox() -> JiraSandbox:
    box = JiraSandbox(clock=lambda: T0 + timedelta(days=10))
    box.seed(build_production())
    return box


def search(sandbox: JiraSandbox, jql: str, *, limit: int = 100, token: str | None = None) -> Any:
    return sandbox.site.search(
        jql,
        token=token,
        limit=limit,
        fields=["summary"],
        expand=frozenset(),
        view=View("http://jira.test", "3"),
    )


def keys(sandbox: JiraSandbox, jql: str) -> list[str]:
    return [issue["key"] for issue in search(sandbox, jql)["issues"]]


def refusal(sandbox: JiraSandbox, jql: str) -> str:
    with pytest.raises(JiraError) as refused:
        search(sandbox, jql)
    assert refused.value.status == 400
    return refused.value.messages[0]


def test_parser_reads_clauses_lists_and_order() -> None:
    query = parse('project = HRB AND (key in ("HRB-1", HRB-2)) ORDER BY updated ASC, key')
    assert [(c.field, c.operator, c.values) for c in query.clauses] == [
        ("project", "=", ("HRB",)),
        ("key", "in", ("HRB-1", "HRB-2")),
    ]
    assert query.order is not None
    assert [(s.field, s.descending) for s in query.order] == [("updated", False), ("key", None)]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        (
            'summary = "open',
            "The quoted string 'open' has not been completed. (line 1, character 11)",
        ),
        (
            "project HRB",
            "Expecting operator but got 'HRB'. The valid operators are '=', '!='",
        ),
        (
            "project = HRB OR key = HRB-1",
            "The Jira sandbox does not evaluate the OR operator. (line 1, character 15)",
        ),
        (
            "project = AND",
            "Expecting either a value, list or function but got 'AND'.",
        ),
        (
            "assignee = currentUser()",
            "The Jira sandbox does not evaluate the function 'currentUser()'.",
        ),
        (
            "key in (HRB-1",
            "Expecting ')' but reached the end of the query.",
        ),
    ],
)
def test_parser_refuses_with_jiras_wording(jql: str, message: str) -> None:
    with pytest.raises(JqlError) as refused:
        parse(jql)
    assert str(refused.value).startswith(f"Error in the JQL Query: {message}")


def test_project_key_and_id_clauses(sandbox: JiraSandbox) -> None:
    assert keys(sandbox, "project = hrb ORDER BY key ASC") == ALL
    assert keys(sandbox, "project in (HRB, Harbor) ORDER BY key ASC") == ALL
    assert keys(sandbox, "key in (HRB-3, hrb-1) ORDER BY key ASC") == ["HRB-1", "HRB-3"]
    assert keys(sandbox, "issuekey = HRB-12") == ["HRB-12"]
    assert keys(sandbox, "id in (10004, 10005) ORDER BY key DESC") == ["HRB-5", "HRB-4"]
    assert (
        refusal(sandbox, "project = NOPE")
        == "The value 'NOPE' does not exist for the field 'project'."
    )


def test_deleted_and_malformed_keys_are_refused(sandbox: JiraSandbox) -> None:
    assert refusal(sandbox, f"key in (HRB-1, HRB-{DELETED})") == (
        f"An issue with key 'HRB-{DELETED}' does not exist for field 'key'."
    )
    assert refusal(sandbox, "key = banana") == "The issue key 'banana' for field 'key' is invalid."


def test_status_and_labels(sandbox: JiraSandbox) -> None:
    assert keys(sandbox, 'status = "in review" ORDER BY key ASC') == [
        "HRB-2",
        "HRB-8",
        "HRB-14",
        "HRB-20",
        "HRB-26",
    ]
    assert keys(sandbox, "status in (Done, 'QA Hold') AND key in (HRB-4, HRB-5, HRB-6)") == [
        "HRB-5",
        "HRB-4",
    ]
    assert len(keys(sandbox, "project = HRB AND status != Done")) == len(ALL) - 5
    assert keys(sandbox, "labels = sg-sync AND key in (HRB-1, HRB-2) ORDER BY key") == ["HRB-1"]
    assert (
        refusal(sandbox, "status = Shipped")
        == "The value 'Shipped' does not exist for the field 'status'."
    )
    assert (
        refusal(sandbox, "status ~ Done")
        == "The operator '~' is not supported by the 'status' field."
    )
    assert refusal(sandbox, "summary ~ prop").startswith(
        "Error in the JQL Query: The Jira sandbox does not search by 'summary'."
    )


def test_updated_dates_in_every_format(sandbox: JiraSandbox) -> None:
    # HRB-n was updated at T0 + n h + 30 min, T0 = 2026-10-01 09:00 UTC.
    for literal in ('"2026/10/01 13:30"', '"2026-10-01 13:30"'):
        assert keys(sandbox, f"updated >= {literal} ORDER BY updated ASC")[:2] == ["HRB-4", "HRB-5"]
        assert keys(sandbox, f"updated > {literal} ORDER BY updated ASC")[0] == "HRB-5"
        assert keys(sandbox, f"updated <= {literal} ORDER BY updated DESC")[0] == "HRB-4"
        assert keys(sandbox, f"updated < {literal} ORDER BY updated DESC")[0] == "HRB-3"
    assert keys(sandbox, 'updated < "2026/10/02" ORDER BY updated DESC')[0] == "HRB-14"
    assert keys(sandbox, "updated >= 2026-10-02 ORDER BY updated ASC")[0] == "HRB-15"
    # The clock stands at T0 + 10 days: -9d is T0 + 1 day, and HRB-24 was updated at T0 + 24.5 h.
    assert keys(sandbox, "updated >= -9d ORDER BY updated ASC")[0] == "HRB-24"
    assert keys(sandbox, "updated >= '-8d 1h'") == []
    assert keys(sandbox, "created >= -10d ORDER BY created ASC")[0] == "HRB-1"
    assert refusal(sandbox, 'updated >= "yesterday"').startswith(
        "Date value 'yesterday' for field 'updated' is invalid."
    )


def test_date_literals_are_in_the_users_time_zone() -> None:
    paris = JiraSandbox(time_zone="Europe/Paris")
    paris.seed(build_production())
    # HRB-1 was updated at 10:30 UTC, which is 12:30 in Paris (CEST, UTC+2).
    assert keys(paris, 'updated >= "2026/10/01 12:30" ORDER BY updated ASC')[0] == "HRB-1"
    assert keys(paris, 'updated > "2026/10/01 12:30" ORDER BY updated ASC')[0] == "HRB-2"
    issue = paris.issue("HRB-1")
    assert issue["fields"]["updated"] == "2026-10-01T12:30:00.000+0200"


def test_order_by_and_its_defaults(sandbox: JiraSandbox) -> None:
    assert keys(sandbox, "project = HRB ORDER BY key DESC")[:2] == ["HRB-30", "HRB-29"]
    assert keys(sandbox, "project = HRB ORDER BY created ASC")[:2] == ["HRB-1", "HRB-2"]
    # A date field's own order is newest first; no ORDER BY at all means `created DESC`.
    assert keys(sandbox, "project = HRB ORDER BY updated")[0] == "HRB-30"
    assert keys(sandbox, "project = HRB")[0] == "HRB-30"
    assert keys(sandbox, "project = HRB ORDER BY key")[0] == "HRB-1"
    assert refusal(sandbox, "project = HRB ORDER BY priority").startswith(
        "Field 'priority' does not exist"
    )


def test_unbounded_query_is_refused(sandbox: JiraSandbox) -> None:
    message = (
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
    )
    assert refusal(sandbox, "") == message
    assert refusal(sandbox, "ORDER BY created DESC") == message


def page_through(
    sandbox: JiraSandbox, jql: str, limit: int, between_pages: Any = None
) -> list[str]:
    seen: list[str] = []
    token = None
    while True:
        page = search(sandbox, jql, limit=limit, token=token)
        seen.extend(issue["key"] for issue in page["issues"])
        token = page.get("nextPageToken")
        assert page["isLast"] is (token is None)
        if token is None:
            return seen
        if between_pages:
            between_pages(len(seen))


@pytest.mark.parametrize(
    "jql",
    [
        "project = HRB ORDER BY updated ASC",
        "project = HRB ORDER BY updated DESC",
        "project = HRB ORDER BY key DESC",
        "project = HRB ORDER BY updated ASC, created DESC",
        "key in (HRB-1, HRB-2, HRB-3, HRB-4, HRB-5, HRB-6, HRB-8) ORDER BY created ASC",
        'updated >= "2026/10/01 15:00" AND status != Done ORDER BY created DESC',
        'updated > "2026/10/01 11:00" AND updated < "2026/10/02 05:00" ORDER BY updated DESC',
    ],
)
def test_paging_matches_a_single_page(sandbox: JiraSandbox, jql: str) -> None:
    assert page_through(sandbox, jql, limit=4) == keys(sandbox, jql)


def test_an_issue_edited_while_paging_is_read_again_not_skipped(sandbox: JiraSandbox) -> None:
    site = sandbox.site

    def edit_during_paging(seen: int) -> None:
        if seen == 5:  # HRB-3 was already served, HRB-20 not yet
            site.edit(
                "HRB-3",
                {"summary": "edited while paging"},
                {},
                actor=MIA.jira_account_id,
                rich_text=True,
            )
            site.edit(
                "HRB-20", {"summary": "edited too"}, {}, actor=MIA.jira_account_id, rich_text=True
            )

    seen = page_through(sandbox, "project = HRB ORDER BY updated ASC", 5, edit_during_paging)
    assert set(seen) == set(ALL)
    assert seen.count("HRB-3") == 2 and seen.count("HRB-20") == 1
    assert seen[-2:] == ["HRB-3", "HRB-20"]


def test_page_tokens_are_checked(sandbox: JiraSandbox) -> None:
    token = search(sandbox, "project = HRB ORDER BY key ASC", limit=3)["nextPageToken"]
    invalid = "The provided nextPageToken is invalid or has expired."
    for bad in ("not-a-token", token[:-3]):
        with pytest.raises(JiraError) as refused:
            search(sandbox, "project = HRB ORDER BY key ASC", token=bad)
        assert refused.value.messages == [invalid]
    with pytest.raises(JiraError) as other_query:
        search(sandbox, "project = HRB ORDER BY created ASC", token=token)
    assert other_query.value.messages == [invalid]


def test_approximate_count(sandbox: JiraSandbox) -> None:
    assert sandbox.site.count("project = HRB") == len(ALL)
    assert sandbox.site.count("status = Done") == 5


def test_updated_never_runs_behind_issued_timestamps() -> None:
    frozen = JiraSandbox(clock=lambda: datetime(2026, 9, 1, tzinfo=T0.tzinfo))  # before the seed
    frozen.seed(build_production())
    frozen.edit_issue("HRB-1", as_user=MIA.email, fields={"summary": "first"})
    frozen.edit_issue("HRB-2", as_user=MIA.email, fields={"summary": "second"})
    first, second = frozen.issue("HRB-1"), frozen.issue("HRB-2")
    newest_seeded = frozen.issue("HRB-30")["fields"]["updated"]
    assert newest_seeded < first["fields"]["updated"] < second["fields"]["updated"]
    assert keys(frozen, "project = HRB ORDER BY updated DESC")[:2] == ["HRB-2", "HRB-1"]
