"""The sandbox's `GET users/search` (Jira Cloud's "get all users"), added for the connector."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from syncd_sandbox.jira import DEFAULT_ACCOUNT_ID, DEFAULT_API_TOKEN, DEFAULT_EMAIL, JiraSandbox
from tests.sandbox.test_jira_sandbox import MIA, ZOE, build_production, serving

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    box = JiraSandbox()
    box.seed(build_production(5))
    with (
        serving(box) as url,
        httpx.Client(base_url=url, auth=(DEFAULT_EMAIL, DEFAULT_API_TOKEN)) as client,
    ):
        yield client
    box.close()


def test_lists_every_user_with_visible_emails_only(http: httpx.Client) -> None:
    users = http.get("/rest/api/3/users/search").json()
    by_id = {u["accountId"]: u for u in users}
    assert set(by_id) == {DEFAULT_ACCOUNT_ID, MIA.jira_account_id, ZOE.jira_account_id}
    assert by_id[MIA.jira_account_id]["emailAddress"] == MIA.email
    assert "emailAddress" not in by_id[ZOE.jira_account_id]  # Zoë hides her email
    assert by_id[ZOE.jira_account_id]["displayName"] == ZOE.display_name


def test_pages_by_start_at(http: httpx.Client) -> None:
    everyone = http.get("/rest/api/3/users/search").json()
    first = http.get("/rest/api/3/users/search", params={"maxResults": 2}).json()
    rest = http.get("/rest/api/3/users/search", params={"startAt": 2, "maxResults": 2}).json()
    beyond = http.get("/rest/api/3/users/search", params={"startAt": 3}).json()
    assert first + rest == everyone and len(first) == 2 and beyond == []


def test_needs_a_credential(http: httpx.Client) -> None:
    anonymous = httpx.get(f"{http.base_url}/rest/api/3/users/search")
    assert anonymous.status_code == 401
