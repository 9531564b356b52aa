"""Deletions, over the sandbox on real HTTP: a row deleted from the invoice sheet, a Jira
issue deleted, a ShotGrid task retired, and each brought back.

The figures are recomputed in the test from the sheet's raw cells (`deletions_raw`), never
with syncd's rollup code; the sheet is changed through the emulators as a person would
(the Apps Script webhook fires), and the full-read path is checked with the service's
webhooks held back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from syncd_sandbox.stack import Stack, linked_pairs
from tests.trust.deletions_raw import (
    BUDGET,
    INVOICES,
    KEY,
    LINE,
    Agreed,
    expected_figures,
    in_dollars,
    matches,
    money,
    places,
    rows_of,
    tab,
    wait_for,
)
from tests.trust.sheet_stack import link, synced_stack

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    yield from synced_stack(seed=11)


def person(stack: Stack) -> str:
    return stack.production.people[0].email


def history(stack: Stack, record_id: str) -> list[dict[str, Any]]:
    with stack.service.store.transaction() as tx:
        return tx.audit.history(record_id)


_used: set[str] = set()


def paid_dollar_invoice(stack: Stack) -> tuple[str, int, dict[str, str]]:
    """A paid US dollar invoice on a known budget line, alone with its number (unused)."""
    rows = rows_of(tab(stack, INVOICES))
    lines = {r.get(LINE, "") for _, r in rows_of(tab(stack, BUDGET))}
    where = places(rows)
    for number, row in rows:
        key = row[KEY].strip()
        if (
            key not in _used
            and len(where.get(key, [])) == 1
            and in_dollars(row)
            and row.get("Status", "").strip().lower() == "paid"
            and row.get(LINE, "").strip() in lines
            and (money(row.get("Amount", "")) or 0) > 0
        ):
            _used.add(key)
            return key, number, row
    raise LookupError("no paid dollar invoice left")


def current(stack: Stack) -> tuple[Agreed, dict[str, tuple[str, str, str]]]:
    agreed = Agreed()
    agreed.read(tab(stack, INVOICES))
    return agreed, expected_figures(agreed, tab(stack, BUDGET))


def test_a_deleted_row_leaves_the_figures_and_a_restored_row_comes_back_with_its_history(
    stack: Stack,
) -> None:
    _, before = current(stack)
    wait_for(matches(stack, before), what="the first figures")
    number, row_number, row = paid_dollar_invoice(stack)
    line = row[LINE].strip()
    record_id = link(stack, "sheets", INVOICES, number).record_id
    first_history = history(stack, record_id)

    stack.box.sheets.person_delete_rows(
        stack.production.spreadsheet_id, as_=person(stack), sheet=INVOICES, at=row_number
    )
    _, after = current(stack)
    assert after[line] != before[line]  # the premise: the row counted for its line
    wait_for(matches(stack, after), what="the figures without the deleted row")
    gone = link(stack, "sheets", INVOICES, number)
    assert gone.deleted and gone.record_id == record_id
    deleted = [e for e in history(stack, record_id) if e["reason"] == "deleted"]
    # Who deleted it, as the sheet's webhook says.
    assert [(e["field"], e["old"], e["new"], e["origin"]) for e in deleted] == [
        (f"link:sheets:{INVOICES}:{number}", "live", "deleted", person(stack))
    ]

    # Undo: the row typed back in where it was. The same record returns, history and all.
    header = tab(stack, INVOICES)[0]
    values = [[row.get(h.strip(), "") for h in header if h.strip() not in {"Sync Status"}]]
    stack.box.sheets.person_insert_rows(
        stack.production.spreadsheet_id,
        as_=person(stack),
        sheet=INVOICES,
        at=row_number,
        values=values,
    )
    _, restored = current(stack)
    assert restored[line] == before[line]
    wait_for(matches(stack, restored), what="the figures with the row back")
    back = link(stack, "sheets", INVOICES, number)
    assert not back.deleted and back.record_id == record_id
    entries = history(stack, record_id)
    assert entries[: len(first_history)] == first_history
    assert [e["reason"] for e in entries if e["field"].startswith("link:")] == [
        "deleted",
        "restored",
    ]


def test_a_full_sync_notices_deletions_no_webhook_told(stack: Stack) -> None:
    number, row_number, row = paid_dollar_invoice(stack)
    key, _ = linked_pairs(stack.production)[-1]
    line = row[LINE].strip()
    _, before = current(stack)
    stack.service.stop()  # nothing reaches the worker: only the full read can tell
    try:
        stack.box.sheets.person_delete_rows(
            stack.production.spreadsheet_id, as_=person(stack), sheet=INVOICES, at=row_number
        )
        stack.box.jira.delete_issue(key, as_user=person(stack))
        assert not link(stack, "sheets", INVOICES, number).deleted
        assert not link(stack, "jira", "issue", key).deleted
        report = stack.service.engine.sync(full=True, push=False)
        assert not report.errors, report.errors
        gone = link(stack, "sheets", INVOICES, number)
        assert gone.deleted
        assert link(stack, "jira", "issue", key).deleted  # Jira's search no longer has it
        assert report.deleted == 2
        # No delivery said who: the tool is named.
        assert [
            e["origin"] for e in history(stack, gone.record_id) if e["reason"] == "deleted"
        ] == ["sheets"]
        assert stack.service.rollups is not None
        stack.service.rollups.run(force=True)
        _, after = current(stack)
        assert after[line] != before[line]
        assert matches(stack, after)()
    finally:
        stack.service.start()
        stack.flush_webhooks()


def test_a_deleted_jira_issue_and_a_retired_shotgrid_task_are_marked_gone_and_come_back(
    stack: Stack,
) -> None:
    key, task_id = linked_pairs(stack.production)[0]
    record_id = link(stack, "jira", "issue", key).record_id
    shotgrid = stack.box.shotgrid
    shotgrid.delete_as(stack.production.people[1].email, "Task", task_id)
    wait_for(lambda: link(stack, "shotgrid", "Task", str(task_id)).deleted, what="retired")
    assert shotgrid.revive_as(stack.production.people[1].email, "Task", task_id)
    wait_for(lambda: not link(stack, "shotgrid", "Task", str(task_id)).deleted, what="revived")
    assert link(stack, "shotgrid", "Task", str(task_id)).record_id == record_id

    stack.box.jira.delete_issue(key, as_user=stack.production.people[0].email)
    wait_for(lambda: link(stack, "jira", "issue", key).deleted, what="the Jira issue gone")
    states = [
        (e["field"], e["reason"], e["origin"])
        for e in history(stack, record_id)
        if str(e["field"]).startswith("link:")
    ]
    artist_email, producer = stack.production.people[1].email, stack.production.people[0].email
    with stack.service.store.transaction() as tx:
        [artist_id] = [u for u, e in tx.identities.emails("shotgrid").items() if e == artist_email]
    artist = f"shotgrid user HumanUser:{artist_id}"  # as ShotGrid's event names its user
    assert states == [
        (f"link:shotgrid:Task:{task_id}", "deleted", artist),
        (f"link:shotgrid:Task:{task_id}", "restored", artist),
        (f"link:jira:issue:{key}", "deleted", producer),
    ]
