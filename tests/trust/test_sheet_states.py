"""Random sheet states as a property: rows deleted, keys retyped and repeated, rows shuffled
and blank rows inserted, read by the sheets connector's row logic into the real engine and
store.

The expected state is a producer's bookkeeping, computed here from the rows alone: a number
on one row is that row; a number on several rows keeps what it last had; a number on no row
is gone. After every read the store must hold exactly that (live links, record values),
flag exactly the rows holding a repeated number (and rows without one) where they are now,
and a shuffle of the same rows must change nothing.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.memory import MemoryConnector
from connectors.sheets.rows import Tab
from syncd.connector import Batch, Capability
from syncd.engine import Engine
from syncd.mapping.load import MappingSet, MappingSource
from syncd.store.store import Store
from tests.factories import sqlite_copy

MAPPING = """
connector = "grid"
[entities.Invoices]
kind = "invoice"
key = "Invoice #"
[entities.Invoices.fields.number]
path = "Invoice #"
direction = "pull"
policy = "owner_wins"
owner = true
[entities.Invoices.fields.vendor]
path = "Vendor"
direction = "pull"
policy = "owner_wins"
owner = true
[entities.Invoices.fields.po]
path = "PO"
direction = "pull"
policy = "owner_wins"
owner = true
"""
HEADER = ["Invoice #", "Vendor", "PO"]
Row = tuple[str, str, str]


class Grid(MemoryConnector):
    """A tab held as rows, read whole every time as the sheets connector reads it."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PULL, Capability.FETCH})
    rows: list[list[str]]

    def pull(
        self, entity: str, cursor: str | None, *, fields: Sequence[tuple[str, ...]]
    ) -> Iterator[Batch]:
        del cursor, fields
        tab = Tab.read(entity, {"range": f"{entity}!A1:C500", "values": [HEADER, *self.rows]}, 1)
        records = tab.records("Invoice #")
        for start in range(0, len(records), 3):  # several pages: one complete read
            yield Batch(records=records[start : start + 3], cursor=None)


def places(rows: Sequence[Sequence[str]]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for offset, row in enumerate(rows):
        if row[0].strip():
            found.setdefault(row[0].strip(), []).append(offset + 2)
    return found


def agree(agreed: dict[str, Row], rows: Sequence[Row]) -> dict[str, Row]:
    """A producer's bookkeeping: one row agrees; several keep the last; none is gone. A tab
    read with no row at all tells nothing (documented: more likely a fault)."""
    if not any(v.strip() for row in rows for v in row):
        return agreed
    where = places(rows)
    out: dict[str, Row] = {}
    for key, numbers in where.items():
        if len(numbers) == 1:
            out[key] = rows[numbers[0] - 2]
        elif key in agreed:
            out[key] = agreed[key]
    return out


def flags(rows: Sequence[Row]) -> set[tuple[str, str | None]]:
    """The rows that must be flagged, where they are: repeated numbers and rows without one."""
    out: set[tuple[str, str | None]] = set()
    for key, numbers in places(rows).items():
        if len(numbers) > 1:
            out |= {(f"Invoices row {n}", key) for n in numbers}
    for offset, row in enumerate(rows):
        if not row[0].strip() and any(v.strip() for v in row):
            out.add((f"Invoices row {offset + 2}", None))
    return out


def stored(store: Store) -> tuple[dict[str, Row], set[tuple[str, str | None]]]:
    """The live invoices with their values, and the flags at rows, as syncd holds them."""
    with store.transaction() as tx:
        found = tx.links.find(("grid", "Invoices", k) for k in KEYS if k)
        links = {k: ln for k, ln in found.items() if not (ln.deleted or ln.placeholder)}
        records = tx.records.load({ln.record_id for ln in links.values()})
        errors = tx.source_errors.unresolved()
    live: dict[str, Row] = {}
    for (_, _, key), link in links.items():
        fields: dict[str, Any] = records[link.record_id].fields
        live[key] = (key, fields.get("vendor") or "", fields.get("po") or "")
    return live, {(e["location"], e["external_id"]) for e in errors if e["location"]}


KEYS = ["INV-1", "INV-2", "INV-3", "INV-4", ""]
row_strategy = st.tuples(
    st.sampled_from(KEYS), st.sampled_from(["Acme", "Böse", "Cho"]), st.sampled_from(["", "P7"])
)
state_strategy = st.lists(st.one_of(row_strategy, st.just(("", "", ""))), min_size=0, max_size=8)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(states=st.lists(state_strategy, min_size=1, max_size=5), seed=st.integers(0, 2**16))
def test_any_sequence_of_sheet_states_ends_as_a_producer_would_count_it(
    states: list[list[Row]], seed: int
) -> None:
    shuffle = random.Random(seed).shuffle
    with tempfile.TemporaryDirectory() as directory:
        store = Store(sqlite_copy(Path(directory)), migrate=False)
        grid = Grid(name="grid")
        engine = Engine(store, {"grid": grid}, MappingSet([MappingSource("grid.toml", MAPPING)]))
        try:
            agreed: dict[str, Row] = {}
            expected_flags: set[tuple[str, str | None]] = set()
            for state in states:
                grid.rows = [list(r) for r in state]
                report = engine.sync(push=False)
                assert not report.errors, report.errors
                agreed = agree(agreed, state)
                live, flagged = stored(store)
                assert live == agreed
                if any(v.strip() for row in state for v in row):
                    expected_flags = flags(state)
                assert flagged == expected_flags
                # The same rows in another order, with blank rows inserted: nothing moves but
                # the flags, which follow their rows.
                moved = [*state, ("", "", "")]
                shuffle(moved)
                grid.rows = [list(r) for r in moved]
                assert not engine.sync(push=False).errors
                live_after, flagged_after = stored(store)
                assert live_after == agreed
                if any(v.strip() for row in state for v in row):
                    expected_flags = flags(moved)
                assert flagged_after == expected_flags
                assert agree(agreed, moved) == agreed
        finally:
            store.close()
