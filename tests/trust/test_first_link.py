"""The first-sync contract: linking two existing records never renames anyone's work.

Issue #15, finding 1: the first link of a ShotGrid task and its Jira ticket ran
`latest_wins` on the title with no base, so "[chr_tomas_cinematic] Model" in Jira became
"Model" (and ShotGrid tasks the other way). Two tools naming one thing by their own
conventions is not a conflict and not an edit. The shipped mappings declare the relation
(a template: Jira's summary is "[<ShotGrid entity code>] <task content>"); where no
relation is declared and the values differ at link, the field's policy keeps a declared
`initial` tool's value or holds a conflict, never the later time stamp.

The pure rules first (template, mapping checks, reconcile), then scenarios over real HTTP
against values computed here from the production's raw data.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.errors import ConfigError
from syncd.mapping.apply import FieldIssue
from syncd.mapping.load import MappingSet, MappingSource
from syncd.mapping.template import parse_template
from syncd.model import JsonValue, RecordKind
from syncd.reconcile import (
    FieldMeta,
    FieldPolicy,
    Incoming,
    LinkView,
    RecordView,
    apply_outcome,
    is_untranslatable,
    reconcile,
)
from syncd.settings import default_mappings_dir
from syncd_sandbox.dataset import generate
from syncd_sandbox.production import Production
from syncd_sandbox.stack import linked_pairs
from tests.trust.first_link_raw import Harness, changed, tool_state

EARLY, LATE = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
TASK_FIELDS = frozenset({"title", "status", "assignee"})


# -- the template relation -------------------------------------------------------------------


def test_template_composes_and_splits_both_ways() -> None:
    template = parse_template("[{entity.name}] {content}")
    data = {"content": "Model", "entity": {"type": "Asset", "id": 3, "name": "chr_tomas"}}
    assert template.compose(data) == "[chr_tomas] Model"
    parts = template.split("[chr_tomas] Model [v2]")
    assert parts == {("entity", "name"): "chr_tomas", ("content",): "Model [v2]"}
    with pytest.raises(ValueError, match="does not have the form"):
        template.split("Model")
    with pytest.raises(ValueError, match="is blank"):
        template.compose({"content": "Model", "entity": None})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{a}{b}", "no text between"),
        ("[{a}", None),
        ("{a", "unbalanced"),
        ("plain", "no slot"),
        ("{}", "empty slot"),
    ],
)
def test_template_syntax_is_checked(text: str, problem: str | None) -> None:
    if problem is None:
        assert parse_template(text).slots == [("a",)]
    else:
        with pytest.raises(ValueError, match=problem):
            parse_template(text)


def _mapping_set(**files: str) -> MappingSet:
    return MappingSet(
        [MappingSource(f"mappings/{name}.toml", text) for name, text in files.items()]
    )


_JIRA = """
connector = "jira"
[entities.issue]
kind = "task"
key = "key"
[entities.issue.fields.title]
path = "fields.summary"
policy = "latest_wins"
{extra}
"""
_SG = """
connector = "shotgrid"
[entities.Task]
kind = "task"
key = "id"
[entities.Task.fields.title]
path = "content"
policy = "latest_wins"
{extra}
"""


@pytest.mark.parametrize(
    ("jira", "sg", "message"),
    [
        ("", 'template = "[{entity.name}]"', "own path {content} exactly once"),
        ("", 'template = "[{entity.name}] {content}"\ntransform = "text"', "no transform"),
        ("initial = true", "initial = true", "at most one connector may say initial"),
    ],
)
def test_mapping_checks_name_the_place(jira: str, sg: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _mapping_set(jira=_JIRA.format(extra=jira), shotgrid=_SG.format(extra=sg))
    assert message in str(raised.value)


def test_initial_is_refused_on_owner_wins() -> None:
    jira = _JIRA.replace('"latest_wins"', '"owner_wins"').format(extra="owner = true")
    sg = _SG.replace('"latest_wins"', '"owner_wins"').format(extra="initial = true")
    with pytest.raises(ConfigError, match="initial is for latest_wins and manual"):
        _mapping_set(jira=jira, shotgrid=sg)


# -- reconcile at link -----------------------------------------------------------------------


def _link(connector: str, bases: dict[str, JsonValue] | None = None) -> LinkView:
    entity = "issue" if connector == "jira" else "Task"
    return LinkView(connector, entity, "1", dict(bases or {}), TASK_FIELDS, TASK_FIELDS)


def _held_by_shotgrid(value: str, at: datetime) -> tuple[RecordView, list[LinkView]]:
    record = RecordView(RecordKind.TASK, {"title": value}, {"title": FieldMeta("shotgrid", at)})
    return record, [_link("shotgrid", {"title": value}), _link("jira")]


@pytest.mark.parametrize("jira_clock", [EARLY, LATE])
def test_latest_wins_at_link_is_a_conflict_whatever_the_clocks(jira_clock: datetime) -> None:
    record, links = _held_by_shotgrid("Model", EARLY)
    incoming = Incoming("jira", "issue", "1", {"title": "Model (retake)"}, jira_clock)
    outcome = reconcile(record, links, incoming, {"title": FieldPolicy("latest_wins")})
    assert not outcome.changes and not outcome.pushes
    assert outcome.opened["title"].candidates == {"shotgrid": "Model", "jira": "Model (retake)"}
    [differs] = outcome.differs
    assert (differs.field, differs.kept) == ("title", "conflict")


@pytest.mark.parametrize(("initial", "kept"), [("jira", "theirs"), ("shotgrid", "ours")])
def test_initial_owner_is_adopted_at_link(initial: str, kept: str) -> None:
    record, links = _held_by_shotgrid("Model", LATE)
    incoming = Incoming("jira", "issue", "1", {"title": "Model (retake)"}, EARLY)
    policy = {"title": FieldPolicy("latest_wins", initial=initial)}
    outcome = reconcile(record, links, incoming, policy)
    assert not outcome.opened and [d.kept for d in outcome.differs] == [kept]
    if kept == "theirs":
        assert outcome.changes[0].new == "Model (retake)"
        assert outcome.changes[0].reason == "differs_at_link"
        assert outcome.pushes == {("shotgrid", "Task", "1"): {"title": "Model (retake)"}}
    else:
        assert not outcome.changes
        assert outcome.pushes == {("jira", "issue", "1"): {"title": "Model"}}


@pytest.mark.parametrize("first", ["jira", "shotgrid"])
def test_a_value_left_at_its_default_is_held_too_whatever_is_read_first(first: str) -> None:
    """Jira (the owner) logs no time, ShotGrid says 0 hours: either order ends with Jira's."""
    policies = {"spent_hours": FieldPolicy("owner_wins", owner="jira")}
    record = RecordView(RecordKind.TASK)
    links = [_link("jira"), _link("shotgrid")]
    links[0].pulls = links[1].pulls = links[0].pushes = frozenset({"spent_hours"})
    values = {"jira": None, "shotgrid": "0"}
    order = [first, "shotgrid" if first == "jira" else "jira"]
    for tool in order:
        entity = "issue" if tool == "jira" else "Task"
        incoming = Incoming(tool, entity, "1", {"spent_hours": values[tool]}, LATE)
        apply_outcome(record, links, reconcile(record, links, incoming, policies))
    assert record.value("spent_hours") is None


def test_after_link_latest_wins_still_uses_the_clocks() -> None:
    record, links = _held_by_shotgrid("Model", EARLY)
    links[1].bases["title"] = "Model"  # linked and agreed before
    record.fields["title"] = "Model v2"  # then ShotGrid changed it
    incoming = Incoming("jira", "issue", "1", {"title": "Model (retake)"}, LATE)
    outcome = reconcile(record, links, incoming, {"title": FieldPolicy("latest_wins")})
    assert [c.reason for c in outcome.changes] == ["latest_wins"] and not outcome.differs


def test_an_untranslatable_value_is_never_written_and_keeps_its_last_base() -> None:
    record = RecordView(RecordKind.TASK, {"status": "todo"}, {"status": FieldMeta("jira", EARLY)})
    links = [_link("shotgrid", {"status": "todo"}), _link("jira", {"status": "todo"})]
    issue = FieldIssue("status", "cbb", "'cbb' is not in the value table", unknown=True)
    unreadable = Incoming("shotgrid", "Task", "1", {}, LATE, [issue])
    outcome = reconcile(record, links, unreadable, {})
    assert outcome.cancels[("shotgrid", "Task", "1")] == {"status"}
    apply_outcome(record, links, outcome)
    assert is_untranslatable(links[0].bases["status"])
    # Jira moves: the record follows, ShotGrid is left alone.
    moved = reconcile(record, links, Incoming("jira", "issue", "1", {"status": "done"}, LATE), {})
    assert moved.changes[0].new == "done" and not moved.pushes
    assert "status" in moved.cancels[("shotgrid", "Task", "1")]
    # ShotGrid becomes readable again: compared with its last readable base ("todo").
    record2 = RecordView(RecordKind.TASK, {"status": "todo"}, {"status": FieldMeta("jira", EARLY)})
    readable = reconcile(
        record2, links, Incoming("shotgrid", "Task", "1", {"status": "review"}, LATE), {}
    )
    assert [c.reason for c in readable.changes] == ["pulled"] and not readable.opened


def test_a_value_readable_again_as_before_makes_the_field_writable_again() -> None:
    record = RecordView(RecordKind.TASK, {"status": "todo"}, {"status": FieldMeta("jira", EARLY)})
    links = [_link("shotgrid", {"status": "todo"}), _link("jira", {"status": "todo"})]
    issue = FieldIssue("status", "cbb", "'cbb' is not in the value table", unknown=True)
    apply_outcome(
        record,
        links,
        reconcile(record, links, Incoming("shotgrid", "Task", "1", {}, LATE, [issue]), {}),
    )
    back = reconcile(record, links, Incoming("shotgrid", "Task", "1", {"status": "todo"}, LATE), {})
    assert back.bases[("shotgrid", "Task", "1")] == {"status": "todo"} and not back.changes
    apply_outcome(record, links, back)
    moved = reconcile(record, links, Incoming("jira", "issue", "1", {"status": "done"}, LATE), {})
    assert moved.pushes == {("shotgrid", "Task", "1"): {"status": "done"}}


# -- over real HTTP: the seeded production ---------------------------------------------------


@pytest.fixture(scope="module")
def seeded() -> Production:
    return generate(seed=7)


@pytest.fixture
def harness(seeded: Production, tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(seeded, tmp_path)
    yield harness
    harness.close()


def _codes(production: Production) -> dict[tuple[str, int], str]:
    codes = {("Asset", a.id): a.code for a in production.assets}
    return codes | {("Shot", s.id): s.code for s in production.shots}


def _tracked(production: Production) -> dict[int, str]:
    """ShotGrid task id -> the key of the live Jira issue tracking it (either side's link)."""
    live = {i.key: i for i in production.jira_issues if not i.deleted}
    out = {i.sg_task_id: i.key for i in live.values() if i.sg_task_id is not None}
    for task in production.sg_tasks:
        if task.jira_key in live and task.id not in out:
            out[task.id] = task.jira_key
    return out


@pytest.mark.slow
def test_shipped_mappings_link_the_seeded_production_with_no_renames(
    harness: Harness, seeded: Production
) -> None:
    before = tool_state(harness.box, seeded)
    report = harness.engine.sync()
    assert not report.errors, report.errors
    after = tool_state(harness.box, seeded)
    renamed = [
        (tool, key)
        for tool, key, name in changed(before, after)
        if (tool, name) in {("jira", "summary"), ("shotgrid", "content")}
    ]
    assert renamed == []
    # Every pipeline ticket and its task hold one title: computed here from the raw data.
    codes, tracked = _codes(seeded), _tracked(seeded)
    issues = {i.key: i for i in seeded.jira_issues}
    linked = [(task, issues[tracked[task.id]]) for task in seeded.sg_tasks if task.id in tracked]
    assert len(linked) > 100
    for task, issue in linked:
        assert issue.summary == f"[{codes[(task.entity_type, task.entity_id)]}] {task.content}"
    with harness.store.transaction() as tx:
        conflicts = tx.conflicts.find(limit=10_000)
        titles = {
            str(row[0])
            for row in tx.conn.exec_driver_sql(
                "select distinct json_extract(fields, '$.title') from records"
            )
        }
    assert not [c for c in conflicts if c.field == "title"]
    assert {issue.summary for _, issue in linked} <= titles


@pytest.mark.slow
def test_titles_that_differ_at_link_are_held_not_rewritten(
    harness: Harness, seeded: Production
) -> None:
    key, task_id = linked_pairs(seeded)[0]
    retake = f"{harness.box.jira.issue(key)['fields']['summary']} (retake)"
    producer = seeded.people[0].email
    harness.box.jira.edit_issue(key, as_user=producer, fields={"summary": retake})
    content = harness.box.shotgrid.record("Task", task_id)["attributes"]["content"]
    report = harness.engine.sync()
    assert not report.errors, report.errors
    assert harness.box.jira.issue(key)["fields"]["summary"] == retake
    assert harness.box.shotgrid.record("Task", task_id)["attributes"]["content"] == content
    assert report.differs_at_link >= 1
    with harness.store.transaction() as tx:
        [conflict] = [c for c in tx.conflicts.find(limit=10_000) if c.field == "title"]
    assert conflict.candidates["jira"] == retake
    assert conflict.candidates["shotgrid"] == retake.removesuffix(" (retake)")


def _mappings_with_initial(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), target)
    jira = target / "jira.toml"
    text = jira.read_text()
    old = 'path = "fields.summary"\ndirection = "both"\n'
    assert old in text
    jira.write_text(text.replace(old, old + "initial = true\n"))
    return target


@pytest.mark.slow
def test_a_declared_initial_owner_is_adopted_and_its_relation_written(
    seeded: Production, tmp_path: Path
) -> None:
    harness = Harness(seeded, tmp_path, mappings_dir=_mappings_with_initial(tmp_path))
    try:
        key, task_id = linked_pairs(seeded)[0]
        summary = harness.box.jira.issue(key)["fields"]["summary"]
        producer = seeded.people[0].email
        harness.box.jira.edit_issue(key, as_user=producer, fields={"summary": f"{summary} v2"})
        assert not harness.engine.sync().errors
        # Jira's title is kept; ShotGrid gets the part of it that is its own (the content).
        assert harness.box.jira.issue(key)["fields"]["summary"] == f"{summary} v2"
        content = harness.box.shotgrid.record("Task", task_id)["attributes"]["content"]
        assert f"] {content}" == summary[summary.index("]") :] + " v2"
        with harness.store.transaction() as tx:
            assert not [c for c in tx.conflicts.find(limit=10_000) if c.field == "title"]
        # A rename that changes the code in brackets cannot be written to ShotGrid (the
        # task's entity is not the title's to change): reported, nothing written.
        other = f"[somewhere_else] {content}"
        harness.box.jira.edit_issue(key, as_user=producer, fields={"summary": other})
        assert not harness.engine.sync().errors
        assert harness.box.shotgrid.record("Task", task_id)["attributes"]["content"] == content
        assert harness.box.jira.issue(key)["fields"]["summary"] == other
        with harness.store.transaction() as tx:
            problems = [e["message"] for e in tx.source_errors.unresolved()]
        assert any("somewhere_else" in m and "only content is written" in m for m in problems)
    finally:
        harness.close()
