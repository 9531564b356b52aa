"""Records and links, run on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from syncd.model import RecordKind
from syncd.reconcile import FieldMeta, RecordView
from syncd.store.store import Store

KEY = ("jira", "issue", "HRB-1")


def test_record_roundtrip_keeps_canonical_values(store: Store) -> None:
    at = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    with store.transaction() as tx:
        rid = tx.records.insert(RecordKind.INVOICE)
        view = RecordView(
            kind=RecordKind.INVOICE,
            fields={"amount": "1200.5", "currency": "EUR", "vendor": "Studio Łódź", "issued": None},
            meta={"amount": FieldMeta("sheets", at)},
            flags={"sheets:status": {"value": "On hold?", "reason": "unmapped", "unknown": True}},
        )
        tx.records.save({rid: view})
    with store.transaction() as tx:
        loaded = tx.records.load([rid])[rid]
    assert loaded.fields == view.fields
    assert loaded.meta["amount"].at == at and loaded.meta["amount"].origin == "sheets"
    assert loaded.flags == view.flags


def test_link_is_unique_per_source_record(store: Store) -> None:
    with store.transaction() as tx:
        rid = tx.records.insert(RecordKind.TASK)
        tx.links.insert(KEY, rid)
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.links.insert(KEY, rid)
    with store.transaction() as tx:
        assert list(tx.links.find([KEY])) == [KEY]


def test_record_ids_sort_in_the_order_records_were_made() -> None:
    from syncd.store.records import new_record_id

    ids = [new_record_id() for _ in range(2_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
