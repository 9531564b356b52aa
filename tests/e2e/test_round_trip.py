"""End to end on loopback: the sandbox and the service, driven by webhooks alone.

After the first sync nothing calls `sync` again: every change travels tool -> webhook ->
inbox -> worker -> other tools, as in production.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from syncd.store.conflicts import ConflictRow
from syncd_sandbox.dataset import generate
from syncd_sandbox.production import Production
from syncd_sandbox.sheets.errors import SheetsApiError
from syncd_sandbox.stack import Stack, linked_pairs

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


_used: set[str] = set()


def linked_pair(production: Production, status: str = "ip") -> tuple[str, int]:
    """A fresh agreeing pair for each test (tests share one stack)."""
    for key, task_id in linked_pairs(production, sg_status=status):
        if key not in _used:
            _used.add(key)
            return key, task_id
    raise LookupError(f"no unused linked pair with ShotGrid status {status}")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    stack = Stack(
        generate(seed=11, issues=120),
        workers=1,
        settings={"rollup": {"flush_interval_seconds": 1}},
    )
    report = stack.service.engine.sync()
    assert not report.errors, report.errors
    yield stack
    stack.close()


def jira_status(stack: Stack, key: str) -> str:
    return str(stack.box.jira.issue(key)["fields"]["status"]["name"])


def sg(stack: Stack, task_id: int) -> dict[str, object]:
    attributes: dict[str, object] = stack.box.shotgrid.record("Task", task_id)["attributes"]
    return attributes


def from_webhooks(stack: Stack, connector: str) -> float:
    """Records the service brought up to date from webhook values (no re-read)."""
    registry = stack.service.metrics.registry
    value = registry.get_sample_value("syncd_records_from_webhooks_total", {"connector": connector})
    return value or 0.0


def test_shotgrid_edit_reaches_jira_through_webhooks(stack: Stack) -> None:
    key, task_id = linked_pair(stack.production)
    artist = stack.production.people[1].email
    # The scheduler's next poll reads back what the first sync wrote (a record syncd wrote
    # to is re-read on its next webhook; one it has read since is updated from the event).
    stack.service.engine.sync(push=False)
    # ShotGrid's clocks have whole seconds: an edit in the second of the last write to the
    # task could be older than what syncd read, so syncd would (rightly) re-read it.
    time.sleep(1.05 - time.time() % 1)
    before = from_webhooks(stack, "shotgrid")
    stack.box.shotgrid.edit_as(artist, "Task", task_id, {"sg_status_list": "rev"})
    wait_for(lambda: jira_status(stack, key) == "In Review")
    assert from_webhooks(stack, "shotgrid") > before  # the event's value, not a re-read
    # The ShotGrid status also lands in Jira's "Pipeline Status" write-back field.
    wait_for(
        lambda: stack.box.jira.issue(key)["fields"].get("customfield_10033") == "Pending Review"
    )


def test_shotgrid_edit_reaches_the_consolidated_sheet(stack: Stack) -> None:
    production = stack.production
    assets = {a.id: a.code for a in production.assets}
    steps = {s.id: s.name for s in production.steps}
    tasks = {t.id: t for t in production.sg_tasks}
    for _, task_id in linked_pairs(production, sg_status="ip"):
        task = tasks[task_id]
        if task.entity_type == "Asset" and not any(
            t.entity_id == task.entity_id and t.step_id == task.step_id and t.id != task.id
            for t in production.sg_tasks
        ):
            break
    else:
        raise LookupError("no asset task that is alone in its step")
    asset, step = assets[task.entity_id], steps[task.step_id]
    stack.box.shotgrid.edit_as(
        production.people[1].email, "Task", task.id, {"sg_status_list": "apr"}
    )
    tab = f"{stack.settings.rollup.tab_prefix}Pipeline"

    def cell() -> str | None:
        try:
            rows = stack.box.sheets.values(production.spreadsheet_id, f"'{tab}'")
        except SheetsApiError:  # the tab is not written yet
            return None
        header = next((r for r in rows if "Asset" in r and step in r), None)
        row = next((r for r in rows if r and r[0] == asset), None)
        if header is None or row is None or len(row) <= header.index(step):
            return None
        return str(row[header.index(step)])

    wait_for(lambda: cell() == "approved", timeout=30)


def test_jira_edit_reaches_shotgrid(stack: Stack) -> None:
    key, task_id = linked_pair(stack.production, status="rdy")
    producer = stack.production.people[0].email
    # The shipped mappings relate the two: Jira's "[<code>] <step>" is the task's content.
    code = str(stack.box.jira.issue(key)["fields"]["summary"]).split("] ", 1)[0]
    stack.box.jira.edit_issue(key, as_user=producer, fields={"summary": f"{code}] Renamed"})
    wait_for(lambda: sg(stack, task_id)["content"] == "Renamed")


def test_conflict_lands_in_the_inbox_and_its_resolution_reaches_both(stack: Stack) -> None:
    key, task_id = linked_pair(stack.production, status="wtg")
    people = stack.production.people
    stack.service.stop()  # both edits land before either is applied
    stack.box.shotgrid.edit_as(people[1].email, "Task", task_id, {"sg_status_list": "ip"})
    stack.box.jira.edit_issue(key, as_user=people[2].email, status="Blocked")
    stack.flush_webhooks()
    stack.service.start()
    found: list[ConflictRow] = []

    def opened() -> bool:
        with stack.service.store.transaction() as tx:
            found[:] = [
                c
                for c in tx.conflicts.find()
                if c.field == "status" and set(c.candidates.values()) == {"in_progress", "blocked"}
            ]
        return bool(found)

    wait_for(opened)
    conflict = found[0]
    assert sg(stack, task_id)["sg_status_list"] == "ip"  # nothing overwritten meanwhile
    assert jira_status(stack, key) == "Blocked"
    stack.service.engine.resolve_conflict(
        conflict.record_id,
        "status",
        "in_progress",
        by="producer",
    )
    for name in stack.service.connectors:
        stack.service.engine.push_pending(name)
    wait_for(lambda: jira_status(stack, key) == "In Progress")
    assert sg(stack, task_id)["sg_status_list"] == "ip"


def test_a_forged_webhook_changes_nothing(stack: Stack) -> None:
    key, _ = linked_pair(stack.production, status="ip")
    before = jira_status(stack, key)
    body = (
        b'{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"'
        + key.encode()
        + b'","fields":{"status":{"name":"Done"}}}}'
    )
    response = httpx.post(
        f"{stack.url}/webhooks/jira",
        content=body,
        headers={"X-Hub-Signature": "sha256=" + "ab" * 32, "content-type": "application/json"},
    )
    assert response.status_code == 401
    time.sleep(0.5)
    assert jira_status(stack, key) == before
    with stack.service.store.transaction() as tx:
        stored = tx.conn.exec_driver_sql(
            "select count(*) from inbox where connector='jira' and body like '%Done%'"
        ).scalar_one()
    assert stored == 0
