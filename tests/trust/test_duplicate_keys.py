"""Duplicate keys, over the sandbox on real HTTP: one invoice number retyped as another that
exists, the sheet re-sorted and rows inserted while the two rows share it, then the number
typed back.

Expected figures come from the sheet's raw cells (`deletions_raw`): a number on one row
counts with that row; a number on two rows counts once, with the values last agreed for
it, whichever rows hold it and in whatever order; a number on no row is gone. Every flag
must name the row where its number is now.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from syncd_sandbox.stack import Stack
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
from tests.trust.sheet_stack import synced_stack

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    yield from synced_stack(seed=23)


def person(stack: Stack) -> str:
    return stack.production.people[2].email


def located_flags(stack: Stack) -> list[dict[str, Any]]:
    """Unresolved problems syncd shows at an invoice row."""
    with stack.service.store.transaction() as tx:
        rows = tx.source_errors.unresolved()
    return [e for e in rows if e["entity"] == INVOICES and e["location"]]


def flags_name_rows_where_they_are(stack: Stack) -> bool:
    """Every flag at a row names a row that holds its number now, and every row of a
    repeated number is flagged."""
    where = places(rows_of(tab(stack, INVOICES)))
    flagged: dict[str, set[int]] = {}
    for flag in located_flags(stack):
        number = int(str(flag["location"]).rsplit(" ", 1)[1])
        key = flag["external_id"]
        if key is None:
            continue  # a row without a number: named by its place alone
        if number not in where.get(key, []):
            return False  # a stale flag: that row holds another number now
        flagged.setdefault(key, set()).add(number)
    repeated = {k: set(rows) for k, rows in where.items() if len(rows) > 1}
    return all(flagged.get(k) == rows for k, rows in repeated.items())


def record_fields(stack: Stack, number: str) -> tuple[str, bool, dict[str, Any]]:
    with stack.service.store.transaction() as tx:
        row = tx.links.find([("sheets", INVOICES, number)])[("sheets", INVOICES, number)]
        stored = tx.records.get(row.record_id)
    assert stored is not None
    return row.record_id, row.deleted, stored.fields


def two_dollar_invoices(stack: Stack) -> tuple[tuple[str, int, dict[str, str]], str]:
    """(retyped invoice: number, row, cells) and the existing number typed over it: both
    counted US dollar invoices on different known lines, each on one row."""
    rows = rows_of(tab(stack, INVOICES))
    lines = {r.get(LINE, "") for _, r in rows_of(tab(stack, BUDGET))}
    where = places(rows)
    usable = [
        (n, r)
        for n, r in rows
        if len(where.get(r[KEY].strip(), [])) == 1
        and in_dollars(r)
        and r.get("Status", "").strip().lower() in {"paid", "approved"}
        and r.get(LINE, "").strip() in lines
        and (money(r.get("Amount", "")) or 0) > 0
    ]
    first_number, first = usable[0]
    other = next(r for _, r in usable if r[LINE] != first[LINE])
    return (first[KEY].strip(), first_number, first), other[KEY].strip()


def test_a_retyped_number_a_resort_and_inserted_rows_then_the_fix(stack: Stack) -> None:
    sheet = stack.box.sheets
    spreadsheet = stack.production.spreadsheet_id
    agreed = Agreed()
    agreed.read(tab(stack, INVOICES))
    budget = tab(stack, BUDGET)
    baseline = expected_figures(agreed, budget)
    wait_for(matches(stack, baseline), what="the first figures")
    # The seeded production already has a number on two rows: both flagged, neither counted.
    wait_for(lambda: flags_name_rows_where_they_are(stack), what="the seeded duplicate's flags")

    (retyped, row_number, cells), existing = two_dollar_invoices(stack)
    retyped_id, _, _ = record_fields(stack, retyped)
    existing_id, _, existing_fields = record_fields(stack, existing)

    # 1. A person types an existing number over another invoice's number.
    sheet.person_edit(
        spreadsheet, as_=person(stack), range_=f"'{INVOICES}'!A{row_number}", values=[[existing]]
    )
    agreed.read(tab(stack, INVOICES))
    retyped_figures = expected_figures(agreed, budget)
    line = cells[LINE].strip()
    assert retyped_figures[line] != baseline[line]  # the premise: the retyped one counted
    wait_for(matches(stack, retyped_figures), what="the figures after the retype")
    wait_for(lambda: record_fields(stack, retyped)[1], what="the retyped number gone")
    wait_for(lambda: flags_name_rows_where_they_are(stack), what="both rows flagged")
    # The existing record keeps its values: neither row's data moved into it.
    assert record_fields(stack, existing) == (existing_id, False, existing_fields)

    # 2. Re-sorting and inserting rows moves the rows, and nothing else.
    held_at = places(rows_of(tab(stack, INVOICES)))[existing]
    sheet.person_sort(spreadsheet, as_=person(stack), sheet=INVOICES, column="B", descending=True)
    sheet.person_insert_rows(spreadsheet, as_=person(stack), sheet=INVOICES, at=3, count=2)
    values = tab(stack, INVOICES)
    agreed.read(values)
    assert expected_figures(agreed, budget) == retyped_figures
    assert places(rows_of(values))[existing] != held_at  # the premise: the rows moved
    wait_for(lambda: flags_name_rows_where_they_are(stack), what="the flags at the new rows")
    assert matches(stack, retyped_figures)()
    assert record_fields(stack, existing) == (existing_id, False, existing_fields)

    # 3. The number typed back where it belongs: the duplicate is fixed, flags clear, and
    # the retyped invoice comes back as the same record.
    rows = rows_of(tab(stack, INVOICES))
    mine = next(
        n
        for n, r in rows
        if r[KEY].strip() == existing
        and r.get("Vendor") == cells.get("Vendor")
        and r.get("Amount") == cells.get("Amount")
    )
    sheet.person_edit(
        spreadsheet, as_=person(stack), range_=f"'{INVOICES}'!A{mine}", values=[[retyped]]
    )
    agreed.read(tab(stack, INVOICES))
    assert expected_figures(agreed, budget) == baseline
    wait_for(matches(stack, baseline), what="the figures after the fix")
    wait_for(lambda: not record_fields(stack, retyped)[1], what="the retyped number back")
    assert record_fields(stack, retyped)[0] == retyped_id
    wait_for(lambda: flags_name_rows_where_they_are(stack), what="the flags cleared")
    assert not [f for f in located_flags(stack) if f["external_id"] in {retyped, existing}]
