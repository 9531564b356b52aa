"""The Jira connector's API-call floors as the sandbox counts them (bench/jira_api_calls.py)."""

from __future__ import annotations

import pytest

from bench.jira_api_calls import measure

pytestmark = pytest.mark.sandbox

SEARCH = "GET /rest/api/3/search/jql"


def test_api_calls_stay_at_the_floor() -> None:
    full, incremental, fetch, edits, moves, both = measure(issues=1000, k=10)
    # ceil(999 / 100) list calls, plus serverInfo and the field list, once per connector.
    assert full.records == 999 and full.count(SEARCH) == 10 and full.total == 12
    # One list call (the edits and a re-read overlap), plus `myself` for the time zone.
    assert incremental.count(SEARCH) == 1 and incremental.total == 2
    assert incremental.records >= 10
    # One query for the 10 keys; Jira refuses it for the deleted one, named, then answers.
    assert fetch.calls == {SEARCH: 2}
    assert edits.calls == {"PUT /rest/api/3/issue/{id_or_key}": 10}
    # One read of what "To Do" offers (per project, issue type and status), a POST each.
    assert moves.calls == {
        "GET /rest/api/3/issue/{id_or_key}": 1,
        "POST /rest/api/3/issue/{id_or_key}/transitions": 10,
    }
    assert both.calls == {
        "PUT /rest/api/3/issue/{id_or_key}": 10,
        "POST /rest/api/3/issue/{id_or_key}/transitions": 10,
    }
