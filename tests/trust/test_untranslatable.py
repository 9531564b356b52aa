"""Untranslatable means untouchable: a value no mapping reads is never written over.

Issue #15, finding 2: with faults injected during a first sync, ShotGrid tasks holding the
studio-added status `cbb` (no mapping translates it) were set to `rev`. The trigger: when
a task is read before the Jira issue tracking it, the task's status is flagged and left
unset on the record; the issue then brings its status as the record's first value, and
that value was queued for every linked tool, the task included (and the read before the
write, seeing `cbb` again, did not stop it). Faults only changed which tool was read first.

Over real HTTP: the sandbox's emulators, the shipped mappings, syncd's engine. Expected
values come from the production's raw data and the emulators' own state.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from syncd_sandbox.dataset import generate
from syncd_sandbox.production import Production
from syncd_sandbox.stack import linked_pairs
from tests.trust.first_link_raw import Harness, changed, stored_state, tool_state

pytestmark = [pytest.mark.sandbox]

UNMAPPED = "cbb"  # the seeded production's studio-added ShotGrid status
ARTIST = 1  # index of the person who edits, in production.people


def _plant_unmapped(
    harness: Harness, count: int, sg_status: str | None = None
) -> list[tuple[str, int]]:
    """Set `count` linked tasks to the unmapped status, as an artist would in ShotGrid."""
    production = harness.production
    pairs = linked_pairs(production, sg_status=sg_status)[:count]
    for _, task_id in pairs:
        harness.box.shotgrid.edit_as(
            production.people[ARTIST].email, "Task", task_id, {"sg_status_list": UNMAPPED}
        )
    return pairs


@pytest.fixture
def production() -> Production:
    return generate(seed=11, issues=120)


@pytest.fixture
def harness(production: Production, tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(production, tmp_path)
    yield harness
    harness.close()


@pytest.mark.parametrize("first", ["shotgrid", "jira"])
def test_a_task_read_before_its_issue_keeps_its_unmapped_status(
    harness: Harness, first: str
) -> None:
    """Deterministic: one tool read to the end, then the other, then the writes."""
    pairs = _plant_unmapped(harness, 4)
    jira_before = {key: harness.box.jira.issue(key)["fields"]["status"]["name"] for key, _ in pairs}
    second = "jira" if first == "shotgrid" else "shotgrid"
    engine = harness.engine
    assert not engine.sync(only=[first], push=False).errors
    assert not engine.sync(only=[second], push=False).errors
    report = engine.sync()
    assert not report.errors, report.errors
    for key, task_id in pairs:
        task = harness.box.shotgrid.record("Task", task_id)["attributes"]
        assert task["sg_status_list"] == UNMAPPED, (first, task_id)
        assert harness.box.jira.issue(key)["fields"]["status"]["name"] == jira_before[key]
    # Flagged where a producer sees it, not overwritten.
    with harness.store.transaction() as tx:
        errors = tx.records.load([r for (r,) in tx.conn.exec_driver_sql("select id from records")])
    flagged = [
        view for view in errors.values() if view.flags.get("shotgrid:status", {}).get("value")
    ]
    assert len([v for v in flagged if v.flags["shotgrid:status"]["value"] == UNMAPPED]) >= 4


def test_a_change_elsewhere_never_reaches_an_unmapped_value(harness: Harness) -> None:
    """After the first sync, the issue moves in Jira: the task with `cbb` is not touched,
    the other linked tasks follow."""
    pairs = _plant_unmapped(harness, 2)
    production = harness.production
    plain = next(pair for pair in linked_pairs(production, sg_status="ip") if pair not in pairs)
    assert not harness.engine.sync(only=["shotgrid"], push=False).errors
    assert not harness.engine.sync().errors
    before = tool_state(harness.box, production)
    producer = production.people[0].email
    for key, _ in [*pairs, plain]:
        harness.box.jira.edit_issue(key, as_user=producer, status="Done")
    assert not harness.engine.sync().errors
    after = tool_state(harness.box, production)
    for _, task_id in pairs:
        assert after["shotgrid"][task_id]["sg_status_list"] == UNMAPPED
    assert after["shotgrid"][plain[1]]["sg_status_list"] == "apr"  # the write-back still works
    written = {(tool, key) for tool, key, name in changed(before, after) if tool == "shotgrid"}
    assert ("shotgrid", str(plain[1])) in written
    assert not any(("shotgrid", str(task_id)) in written for _, task_id in pairs)


# -- the property: faults and read orders change nothing -------------------------------------

TOOLS = ("jira", "shotgrid", "sheets")
_FAULT_KINDS = ("500", "503", "timeout", "drop")
_tool_faults = st.fixed_dictionaries(
    {
        "fault_rate": st.sampled_from([0.0, 0.05, 0.1, 0.2]),
        "faults": st.lists(st.sampled_from(_FAULT_KINDS), min_size=1, max_size=4, unique=True),
        "page_size_cap": st.sampled_from([None, 7, 40]),  # partial pages: fewer per call
        "seed": st.integers(0, 2**16),
    }
)
_schedules = st.fixed_dictionaries(dict.fromkeys(TOOLS, _tool_faults))
# One tool read to the end after another, or all at once (a sync's own order).
_orders = st.one_of(st.permutations(TOOLS), st.just(("together",)))
# A client gives up on a call after this long; a "timeout" fault stalls longer than that.
_CLIENT_TIMEOUT = {"timeout_seconds": 0.3}
_QUIET: dict[str, Any] = {"fault_rate": 0.0, "page_size_cap": None}


def _run(
    production: Production, order: Sequence[str], schedule: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A first sync under `schedule`, reading in `order`; then, faults off and retries due,
    syncs until quiet. Returns the tools' state and syncd's stored state."""
    with tempfile.TemporaryDirectory(prefix="syncd-untranslatable-") as workdir:
        harness = Harness(production, Path(workdir), connector_settings=_CLIENT_TIMEOUT)
        try:
            _plant_unmapped(harness, 4)
            for tool, knobs in schedule.items():
                harness.knobs(tool, timeout_seconds=0.6, **knobs)
            engine = harness.engine
            if order == ("together",):
                engine.sync(push=False)
            else:
                for tool in order:
                    engine.sync(only=[tool], push=False)
            engine.sync()  # pushes (and their reads before writing) under faults too
            for tool in TOOLS:
                harness.knobs(tool, **_QUIET)
            for _ in range(2):
                harness.clock.advance(timedelta(days=1))  # writes scheduled for retry are due
                engine.sync()
            return tool_state(harness.box, production), stored_state(harness)
        finally:
            harness.close()


@pytest.fixture(scope="module")
def fault_free() -> tuple[Production, tuple[dict[str, Any], dict[str, Any]]]:
    production = generate(seed=11, issues=120)
    return production, _run(production, TOOLS, {tool: dict(_QUIET) for tool in TOOLS})


@pytest.mark.slow
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # a run is seconds long: report, don't shrink
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=_schedules, order=_orders)
@example(  # the order the issue's audit showed: ShotGrid first, under faults
    schedule={
        tool: {"fault_rate": 0.1, "faults": list(_FAULT_KINDS), "page_size_cap": 7, "seed": 1}
        for tool in TOOLS
    },
    order=("shotgrid", "sheets", "jira"),
)
def test_faults_and_read_orders_end_as_the_fault_free_run(
    fault_free: tuple[Production, tuple[dict[str, Any], dict[str, Any]]],
    schedule: dict[str, dict[str, Any]],
    order: tuple[str, ...],
) -> None:
    """Every run ends with the tools and the store as the fault-free run leaves them: no
    unmapped value written, no other write different."""
    production, (tools_expected, stored_expected) = fault_free
    tools, stored = _run(production, order, schedule)
    for task_id, values in tools["shotgrid"].items():
        if values["sg_status_list"] != tools_expected["shotgrid"][task_id]["sg_status_list"]:
            pytest.fail(f"task {task_id}: {values} under {schedule} read in {order}")
    assert tools == tools_expected
    assert stored == stored_expected


SG_TASK_FIELD = "customfield_10030"  # Jira's "ShotGrid Task" on the sandbox's site


def test_records_joined_later_keep_the_unmapped_value_untouchable(harness: Harness) -> None:
    """A task and its issue first seen apart (no link field on either side), then joined
    when someone fills in the issue's "ShotGrid Task": the task's unmapped status still
    stays (joining records compares their links afresh, and the task is not re-read)."""
    production = harness.production
    [(key, task_id)] = _plant_unmapped(harness, 1, sg_status="ip")  # Jira: In Progress
    producer = production.people[0].email
    harness.box.shotgrid.edit_as(producer, "Task", task_id, {"sg_jira_key": None})
    harness.box.jira.edit_issue(key, as_user=producer, fields={SG_TASK_FIELD: None})
    assert not harness.engine.sync().errors  # two records: nothing says they are one
    # Someone links them and moves the issue in one edit: joined and changed in one page.
    harness.box.jira.edit_issue(
        key, as_user=producer, fields={SG_TASK_FIELD: task_id}, status="In Review"
    )
    assert harness.box.jira.issue(key)["fields"]["status"]["name"] == "In Review"
    assert not harness.engine.sync().errors
    assert harness.box.shotgrid.record("Task", task_id)["attributes"]["sg_status_list"] == UNMAPPED
    with harness.store.transaction() as tx:
        found = tx.links.find([("jira", "issue", key), ("shotgrid", "Task", str(task_id))])
    assert len({row.record_id for row in found.values()}) == 1
