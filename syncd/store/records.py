"""Records: the normalized records syncd keeps, one per piece of work, with fields, field
times and flags."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import uuid6
from sqlalchemy import Connection

from syncd.model import JsonValue, RecordKind
from syncd.reconcile import Conflict, FieldMeta, RecordView
from syncd.store import tables as t
from syncd.store.batches import chunks
from syncd.store.bulk import execute_many

# Page-sized writes (`execute_many`): every value a parameter, so each compiles once.
_INSERT_RECORDS = t.records.insert()
_SAVE_RECORDS = (
    t.records.update()
    .where(t.records.c.id == sa.bindparam("rid"))
    .values(
        fields=sa.bindparam("fields"),
        meta=sa.bindparam("meta"),
        flags=sa.bindparam("flags"),
        updated_at=sa.bindparam("now"),
    )
)


def new_record_id() -> str:
    """A new record's id: a UUID whose leading bits are the time (version 7), so records
    made one after another sit side by side in the indexes keyed by record id (records,
    links, audit). Random ids (version 4) spread a page of new records over the whole
    index, each insert a different page to read and write back."""
    return str(uuid6.uuid7())


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as stored, for people to read."""

    id: str
    kind: str
    created_at: datetime
    updated_at: datetime
    fields: dict[str, JsonValue]
    meta: dict[str, Any]
    flags: dict[str, Any]


def _meta_to_json(meta: Mapping[str, FieldMeta]) -> dict[str, Any]:
    # A record's fields mostly share a few change times: format each one once.
    stamps: dict[tuple[datetime, Any], str] = {}
    out: dict[str, Any] = {}
    for name, m in meta.items():
        at = None
        if m.at is not None:
            key = (m.at, m.at.utcoffset())  # equal instants in other zones print otherwise
            at = stamps.get(key)
            if at is None:
                at = stamps[key] = m.at.isoformat()
        out[name] = {"origin": m.origin, "at": at}
    return out


def _meta_from_json(raw: Mapping[str, Any]) -> dict[str, FieldMeta]:
    return {
        name: FieldMeta(m.get("origin"), datetime.fromisoformat(m["at"]) if m.get("at") else None)
        for name, m in raw.items()
    }


class Records:
    """Queries on the `records` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def load(self, record_ids: Iterable[str]) -> dict[str, RecordView]:
        """Records with their open conflicts, by id."""
        views: dict[str, RecordView] = {}
        ids = sorted(set(record_ids))
        for chunk in chunks(ids):
            for row in self.conn.execute(sa.select(t.records).where(t.records.c.id.in_(chunk))):
                views[row.id] = RecordView(
                    kind=RecordKind(row.kind),
                    fields=dict(row.fields),
                    meta=_meta_from_json(row.meta),
                    flags=dict(row.flags),
                )
            query = sa.select(t.conflicts).where(
                t.conflicts.c.record_id.in_(chunk), t.conflicts.c.status == "open"
            )
            for row in self.conn.execute(query):
                views[row.record_id].conflicts[row.field] = Conflict(row.base, dict(row.candidates))
        return views

    def insert(self, kind: RecordKind) -> str:
        """A new, empty record; returns its id."""
        record_id = new_record_id()
        self.conn.execute(
            t.records.insert().values(
                id=record_id,
                kind=kind.value,
                fields={},
                meta={},
                flags={},
                created_at=self.now,
                updated_at=self.now,
            )
        )
        return record_id

    def insert_many(self, rows: Sequence[tuple[str, RecordKind]]) -> None:
        """New, empty records with ids chosen by the caller (one statement for a page)."""
        execute_many(
            self.conn,
            _INSERT_RECORDS,
            [
                {
                    "id": rid,
                    "kind": kind.value,
                    "fields": {},
                    "meta": {},
                    "flags": {},
                    "created_at": self.now,
                    "updated_at": self.now,
                }
                for rid, kind in rows
            ],
        )

    def save(self, views: Mapping[str, RecordView]) -> None:
        """Write records' fields, meta and flags."""
        execute_many(
            self.conn,
            _SAVE_RECORDS,
            [
                {
                    "rid": rid,
                    "fields": v.fields,
                    "meta": _meta_to_json(v.meta),
                    "flags": v.flags,
                    "now": self.now,
                }
                for rid, v in views.items()
            ],
        )

    def delete(self, record_id: str) -> None:
        """Remove a record that no link names any more (after a merge)."""
        self.conn.execute(t.records.delete().where(t.records.c.id == record_id))

    def get(self, record_id: str) -> StoredRecord | None:
        """One record as stored, or None."""
        row = self.conn.execute(sa.select(t.records).where(t.records.c.id == record_id)).first()
        if row is None:
            return None
        return StoredRecord(
            id=row.id,
            kind=row.kind,
            created_at=row.created_at,
            updated_at=row.updated_at,
            fields=dict(row.fields),
            meta=dict(row.meta),
            flags=dict(row.flags),
        )

    def exists(self, record_id: str) -> bool:
        """Whether a record with this id is stored."""
        query = sa.select(t.records.c.id).where(t.records.c.id == record_id)
        return self.conn.execute(query).first() is not None

    def count_by_kind(self) -> list[tuple[str, int]]:
        """(kind, number of records), by kind."""
        return [
            (str(kind), int(count))
            for kind, count in self.conn.exec_driver_sql(
                "select kind, count(*) from records group by kind order by kind"
            )
        ]

    def flag_lists(self) -> list[dict[str, Any]]:
        """The flags of every record that has any."""
        rows = self.conn.exec_driver_sql("select flags from records where flags != '{}'")
        return [json.loads(flags) for (flags,) in rows]

    def fields_linked_from(self, connector: str, external_id: str) -> list[dict[str, Any]]:
        """The fields of the records linked to a connector's source record of this id, of any
        entity (SQLite: the demo's store)."""
        rows = self.conn.exec_driver_sql(
            "select r.fields from records r join links l on l.record_id = r.id "
            "where l.connector = ? and l.external_id = ?",
            (connector, external_id),
        ).all()
        return [json.loads(fields) for (fields,) in rows]
