"""Applying a mapping: repeated source values are translated once per people directory,
never served from another directory's translation."""

from __future__ import annotations

import pytest

from syncd.mapping.apply import EntityMapping
from syncd.mapping.load import MappingSet, MappingSource

TRACKER = """
connector = "jira"

[entities.issue]
kind = "task"
key = "key"

[entities.issue.fields.title]
path = "summary"

[entities.issue.fields.assignee]
path = "owner"
transform = "person"

[entities.issue.fields.estimate_hours]
path = "estimate"
transform = "seconds_to_hours"
"""


@pytest.fixture
def issue_mapping() -> EntityMapping:
    return MappingSet([MappingSource("mappings/jira.toml", TRACKER)]).entity("jira", "issue")


def test_a_changed_people_directory_translates_people_again(issue_mapping: EntityMapping) -> None:
    record = {"key": "HRB-1", "summary": "Rig", "owner": "acc-1", "estimate": 7200}
    first = issue_mapping.pull(record, {"acc-1": "mia@studio.example"})
    same = issue_mapping.pull(dict(record), {"acc-1": "mia@studio.example"})  # equal, new dict
    moved = issue_mapping.pull(dict(record), {"acc-1": "mia.roux@studio.example"})
    assert (
        first.values
        == same.values
        == {
            "title": "Rig",
            "assignee": "mia@studio.example",
            "estimate_hours": "2",
        }
    )
    assert moved.values["assignee"] == "mia.roux@studio.example"


def test_a_value_that_fails_is_reported_every_time(issue_mapping: EntityMapping) -> None:
    for key in ("A", "B"):
        pulled = issue_mapping.pull({"key": key, "owner": "acc-unknown"}, {})
        assert [i.field for i in pulled.issues] == ["assignee"]
        assert "assignee" not in pulled.values
