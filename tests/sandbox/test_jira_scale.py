"""A 10,000-issue site paged end to end through the `jira` client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from syncd_sandbox.jira import JiraSandbox
from tests.sandbox.test_jira_sandbox import build_production, connect, live_count, serving

COUNT = 10_000
pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    box = JiraSandbox()
    box.seed(build_production(COUNT))
    with serving(box) as base:
        yield base
    box.close()


def test_every_issue_is_served_once_in_order(url: str) -> None:
    client = connect(url)
    issues = client.search_issues(
        "project = HRB ORDER BY updated ASC", maxResults=False, fields="summary,updated,status"
    )
    keys = [issue.key for issue in issues]
    assert len(keys) == len(set(keys)) == live_count(COUNT)
    updated = [issue.fields.updated for issue in issues]
    assert updated == sorted(updated)


def test_an_incremental_window_starts_where_it_should(url: str) -> None:
    client = connect(url)
    # HRB-n was updated at 2026-10-01 09:30 UTC + n hours: HRB-9975 on 2027-11-21 at 00:30.
    recent = client.search_issues(
        'updated >= "2027/11/21 00:30" ORDER BY updated ASC', maxResults=False, fields="updated"
    )
    assert [issue.key for issue in recent] == [f"HRB-{n}" for n in range(9975, COUNT + 1)]
