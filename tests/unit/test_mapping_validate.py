"""Mapping files: the shipped ones pass; broken ones list every problem with its place."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from syncd.cli import app
from syncd.errors import ConfigError
from syncd.mapping.load import MappingSet, MappingSource, load_mappings

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

BROKEN = """
connector = "jira"

[entities.issue]
kind = "task"
key = "key"

[[entities.issue.links]]
path = "fields.sg"
connector = "nowhere"
entity = "Task"

[entities.issue.fields.titel]
path = "fields.summary"

[entities.issue.fields.status]
path = "fields.status.name"
policy = "loudest_wins"
values = "jira_status"

[entities.issue.fields.assignee]
path = "fields.assignee"
transform = "frobnicate"

[entities.issue.fields.jira_key]
path = "key"
direction = "both"

[entities.issue.fields.estimate_hours]
path = "fields.timeoriginalestimate"
transform = "entity_name"

[values.jira_status]
source_values = ["To Do", "Done", "QA Hold"]
[values.jira_status.map]
"To Do" = "todo"
"Done" = "finished"
"""


def test_shipped_mappings_load() -> None:
    mappings = load_mappings(MAPPINGS)
    assert {"jira", "sheets", "shotgrid"} <= set(mappings.files)
    assert mappings.entity("shotgrid", "Task").kind == "task"
    assert len(mappings.version) == 16


def test_broken_mapping_reports_every_problem_with_its_place() -> None:
    with pytest.raises(ConfigError) as caught:
        MappingSet([MappingSource("mappings/jira.toml", BROKEN)])
    messages = [str(p) for p in caught.value.problems]
    text = "\n".join(messages)
    # The shape problem (unknown policy) is reported first, alone: the file could not be read.
    assert "mappings/jira.toml [entities.issue.fields.status] policy" in text
    assert "loudest_wins" in text


def test_semantic_problems_are_all_listed() -> None:
    fixed = BROKEN.replace('policy = "loudest_wins"', 'policy = "manual"')
    with pytest.raises(ConfigError) as caught:
        MappingSet([MappingSource("mappings/jira.toml", fixed)])
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "[entities.issue.fields.titel]: task records have no field 'titel'" in text
    assert "[entities.issue.links.0] connector: no mapping file is for connector 'nowhere'" in (
        text
    )
    assert "[entities.issue.fields.assignee] transform: unknown transform 'frobnicate'" in text
    assert "[entities.issue.fields.jira_key] direction: pushes to 'key'" in text
    assert "transform 'entity_name' cannot be reversed" in text
    assert "[values.jira_status] map: source value 'QA Hold' is not mapped" in text
    assert "[values.jira_status.map] Done: 'finished' is not a valid status" in text


def test_policy_owner_must_be_one_connector(tmp_path: Path) -> None:
    a = (
        'connector = "a"\n[entities.x]\nkind = "task"\nkey = "id"\n'
        '[entities.x.fields.title]\npath = "t"\npolicy = "owner_wins"\nowner = true\n'
    )
    b = a.replace('connector = "a"', 'connector = "b"')
    with pytest.raises(ConfigError) as caught:
        MappingSet([MappingSource("a.toml", a), MappingSource("b.toml", b)])
    assert "exactly one connector must say owner = true (found ['a', 'b'])" in str(caught.value)


def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["mappings", "validate", str(MAPPINGS)])
    assert ok.exit_code == 0, ok.output
    assert "ok:" in ok.output
    broken = tmp_path / "jira.toml"
    broken.write_text(BROKEN.replace('policy = "loudest_wins"', 'policy = "manual"'))
    bad = runner.invoke(app, ["mappings", "validate", str(broken)])
    assert bad.exit_code == 1
    assert "titel" in bad.output and "frobnicate" in bad.output and "error(s)" in bad.output


def test_cli_validate_reports_toml_syntax(tmp_path: Path) -> None:
    broken = tmp_path / "x.toml"
    broken.write_text('connector = "x"\n[entities\n')
    result = CliRunner().invoke(app, ["mappings", "validate", str(broken)])
    assert result.exit_code == 1
    assert "not valid TOML" in result.output and "line 2" in result.output
