"""The state store: records, links and bases, cursors, audit, conflicts, outbox, inbox.

`Store` owns the SQLAlchemy engine; `store.transaction()` yields a `Tx` whose methods read
and write in that one transaction. Reads are batch-shaped (many keys per query) because a
sync stores a page of records at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

import sqlalchemy as sa
import uuid6
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url

from syncd.jsontext import dumps, loads
from syncd.model import JsonValue, RecordKind
from syncd.reconcile import Change, Conflict, FieldMeta, LinkKey, RecordView
from syncd.store import tables as t
from syncd.store.bulk import execute_many
from syncd.store.migrate import upgrade

Clock = Callable[[], datetime]
_WRITE_LOCK = 0x5E7C_D002  # advisory lock id: record/link writers, across replicas


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True)
class LinkRow:
    """A stored link: this source record represents that syncd record."""

    id: int
    connector: str
    entity: str
    external_id: str
    record_id: str
    bases: dict[str, JsonValue]
    placeholder: bool
    deleted: bool
    content_hash: str | None

    @property
    def key(self) -> LinkKey:
        """(connector, entity, external_id)."""
        return (self.connector, self.entity, self.external_id)


@dataclass(slots=True)
class OutboxRow:
    """Values waiting to be written to one source record."""

    id: int
    connector: str
    entity: str
    external_id: str
    record_id: str
    fields: dict[str, JsonValue]
    attempts: int


@dataclass(slots=True)
class ConflictRow:
    """A conflict as listed for people."""

    id: int
    record_id: str
    kind: str
    field: str
    base: JsonValue
    candidates: dict[str, JsonValue]
    status: str
    opened_at: datetime
    resolution: JsonValue
    resolved_by: str | None


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


def _by_source(keys: Iterable[LinkKey]) -> Iterator[tuple[str, str, Sequence[str]]]:
    """(connector, entity, external ids) groups of keys, at most 500 ids a query."""
    by_source: dict[tuple[str, str], list[str]] = {}
    for connector, entity, external_id in set(keys):
        by_source.setdefault((connector, entity), []).append(external_id)
    for (connector, entity), ids in by_source.items():
        for chunk in _chunks(sorted(ids)):
            yield connector, entity, chunk


def _read_and_live(
    connector: str, entity: str, external_ids: Sequence[str], *columns: sa.ColumnElement[Any]
) -> sa.Select[Any]:
    """Columns of the links of these sources that are linked, read (a content hash) and live."""
    c = t.links.c
    return sa.select(*columns).where(
        c.connector == connector,
        c.entity == entity,
        c.external_id.in_(external_ids),
        c.content_hash.is_not(None),
        c.placeholder.is_(False),
        c.deleted.is_(False),
    )


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Written into the SQL, not bound: only then may PostgreSQL's generic plans use the outbox's
# partial indexes (`... WHERE status = 'pending'`).
PENDING: sa.ColumnElement[str] = sa.literal_column("'pending'")

# Page-sized writes (`execute_many`): every value a parameter, so each compiles once.
_INSERT_RECORDS = t.records.insert()
_INSERT_LINKS = t.links.insert()
_INSERT_AUDIT = t.audit.insert()
_INSERT_OUTBOX = t.outbox.insert()
_INSERT_CONFLICT = t.conflicts.insert()
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
_LINK_STATE: dict[str, sa.BindParameter[Any]] = {
    "bases": sa.bindparam("bases"),
    "placeholder": sa.bindparam("ph"),
    "deleted": sa.bindparam("del"),
    "content_hash": sa.bindparam("hash"),
    "seen_at": sa.bindparam("seen"),
    "source_updated_at": sa.bindparam("src"),
}
_SAVE_LINKS = t.links.update().where(t.links.c.id == sa.bindparam("lid")).values(_LINK_STATE)
_SAVE_LINKS_WITH_DATA = _SAVE_LINKS.values(data=sa.bindparam("data"))
# Only a merge moves links to another record: the record id index is left alone otherwise
# (SQLite rewrites an index entry whenever its column is set, even to the same value).
_MOVE_LINKS = _SAVE_LINKS.values(record_id=sa.bindparam("rec"))
_SAVE_OUTBOX = (
    t.outbox.update()
    .where(t.outbox.c.id == sa.bindparam("oid"))
    .values(
        fields=sa.bindparam("fields"),
        status=sa.bindparam("status"),
        updated_at=sa.bindparam("now"),
    )
)


class Tx:
    """One transaction on the store."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def serialize_writers(self) -> None:
        """Take the store's write lock for this transaction (PostgreSQL; SQLite has one writer).

        Pages from several tools and replicas create and move links; taken first thing in a
        transaction, this makes their reads see each other's committed links.
        """
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK})

    # -- links and records -------------------------------------------------------------

    def find_links(self, keys: Iterable[LinkKey]) -> dict[LinkKey, LinkRow]:
        """The stored links for these (connector, entity, external_id) keys."""
        found: dict[LinkKey, LinkRow] = {}
        for connector, entity, chunk in _by_source(keys):
            query = sa.select(*_LINK_ROW).where(
                t.links.c.connector == connector,
                t.links.c.entity == entity,
                t.links.c.external_id.in_(chunk),
            )
            for row in self.conn.execute(query):
                link = _link(row)
                found[link.key] = link
        return found

    def live_content_hashes(self, keys: Iterable[LinkKey]) -> dict[LinkKey, str]:
        """The content hash of each of these sources that is linked, seen and not deleted.

        A cheap probe (no JSON decoded): a source whose hash is unchanged is skipped
        before its link is loaded at all.
        """
        found: dict[LinkKey, str] = {}
        c = t.links.c
        for connector, entity, chunk in _by_source(keys):
            query = _read_and_live(connector, entity, chunk, c.external_id, c.content_hash)
            for external_id, content_hash in self.conn.execute(query):
                found[(connector, entity, external_id)] = content_hash
        return found

    def current_source_data(
        self, connector: str, entity: str, external_ids: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """Source records as last read, where that is still what the tool holds as far as
        syncd knows: linked, live, and not written by syncd since (a write clears the
        content hash; the next read sets it)."""
        found: dict[str, dict[str, Any]] = {}
        c = t.links.c
        for _, _, chunk in _by_source((connector, entity, e) for e in external_ids):
            query = _read_and_live(connector, entity, chunk, c.external_id, c.data)
            for external_id, data in self.conn.execute(query):
                if data:
                    found[external_id] = dict(data)
        return found

    def links_of(self, record_ids: Iterable[str]) -> dict[str, list[LinkRow]]:
        """Every link of these records, by record id."""
        out: dict[str, list[LinkRow]] = {}
        for chunk in _chunks(sorted(set(record_ids))):
            query = sa.select(*_LINK_ROW).where(t.links.c.record_id.in_(chunk))
            for row in self.conn.execute(query):
                out.setdefault(row.record_id, []).append(_link(row))
        return out

    def load_records(self, record_ids: Iterable[str]) -> dict[str, RecordView]:
        """Records with their open conflicts, by id."""
        views: dict[str, RecordView] = {}
        ids = sorted(set(record_ids))
        for chunk in _chunks(ids):
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

    def insert_record(self, kind: RecordKind) -> str:
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

    def insert_records(self, rows: Sequence[tuple[str, RecordKind]]) -> None:
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

    def insert_links(
        self,
        rows: Sequence[tuple[LinkKey, str, bool]],
        data: Mapping[LinkKey, Mapping[str, Any]] | None = None,
    ) -> dict[LinkKey, LinkRow]:
        """New links (key, record id, placeholder), in one statement; returns them stored.

        `data`: the source records as read, by key, for links that have one (stored with
        the link: a row written whole, not grown by an update in the same transaction)."""
        if not rows:
            return {}
        data = data or {}
        execute_many(
            self.conn,
            _INSERT_LINKS,
            [
                {
                    "connector": c,
                    "entity": e,
                    "external_id": x,
                    "record_id": rid,
                    "bases": {},
                    "placeholder": placeholder,
                    "deleted": False,
                    "seen_at": None if placeholder else self.now,
                    "data": data.get((c, e, x)),
                }
                for (c, e, x), rid, placeholder in rows
            ],
        )
        return self.find_links(key for key, _, _ in rows)

    def save_records(self, views: Mapping[str, RecordView]) -> None:
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

    def insert_link(self, key: LinkKey, record_id: str, *, placeholder: bool = False) -> LinkRow:
        """Link a source record to a record (a placeholder: named by another source)."""
        connector, entity, external_id = key
        result = self.conn.execute(
            t.links.insert().values(
                connector=connector,
                entity=entity,
                external_id=external_id,
                record_id=record_id,
                bases={},
                placeholder=placeholder,
                deleted=False,
                seen_at=None if placeholder else self.now,
            )
        )
        link_id = int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0
        return LinkRow(
            link_id, connector, entity, external_id, record_id, {}, placeholder, False, None
        )

    def save_links(
        self,
        rows: Iterable[LinkRow],
        source_times: Mapping[int, datetime],
        data: Mapping[int, Mapping[str, Any]] | None = None,
        *,
        moved: bool = False,
    ) -> None:
        """Write links' bases, flags and content hashes (and the source records as last
        read, by link id, when `data` gives them: then for every row). `moved`: the rows'
        record ids changed too (a merge)."""
        rows = list(rows)
        values: list[dict[str, Any]] = [
            {
                "lid": r.id,
                "bases": r.bases,
                "ph": r.placeholder,
                "del": r.deleted,
                "hash": r.content_hash,
                "seen": None if r.placeholder else self.now,
                "src": source_times.get(r.id),
            }
            for r in rows
        ]
        if moved:
            assert data is None, "a merge moves links; their source data stays"
            for value, link in zip(values, rows, strict=True):
                value["rec"] = link.record_id
            execute_many(self.conn, _MOVE_LINKS, values)
            return
        if data is None:
            execute_many(self.conn, _SAVE_LINKS, values)
            return
        for row in values:
            row["data"] = dict(data[row["lid"]])
        execute_many(self.conn, _SAVE_LINKS_WITH_DATA, values)

    def link_data(self, record_id: str) -> dict[LinkKey, dict[str, Any]]:
        """The source records behind a record, as last read."""
        query = sa.select(t.links).where(t.links.c.record_id == record_id)
        return {
            (row.connector, row.entity, row.external_id): dict(row.data or {})
            for row in self.conn.execute(query)
        }

    def delete_record(self, record_id: str) -> None:
        """Remove a record that no link names any more (after a merge)."""
        self.conn.execute(t.records.delete().where(t.records.c.id == record_id))

    # -- audit, conflicts, flags --------------------------------------------------------

    def audit_rows(
        self,
        record_id: str,
        changes: Sequence[Change],
        *,
        mapping_version: str | None,
        run_id: str | None,
    ) -> list[dict[str, Any]]:
        """Audit rows for changes, to insert later with `insert_audit`: one per run of
        changes that share origin, reason and time (a record read for the first time is one
        row, not one per field)."""
        rows = []
        for (origin, reason, at), group in groupby(changes, key=_change_set_key):
            rows.append(
                {
                    "record_id": record_id,
                    "changes": [[c.field, c.old, c.new] for c in group],
                    "field": None,
                    "old": None,
                    "new": None,
                    "origin": origin,
                    "reason": reason,
                    "at": at,
                    "recorded_at": self.now,
                    "mapping_version": mapping_version,
                    "run_id": run_id,
                }
            )
        return rows

    def insert_audit(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append audit rows (one statement)."""
        execute_many(self.conn, _INSERT_AUDIT, rows)

    def add_audit(
        self,
        record_id: str,
        changes: Sequence[Change],
        *,
        mapping_version: str | None,
        run_id: str | None,
    ) -> None:
        """Append changes to the record's history."""
        self.insert_audit(
            self.audit_rows(record_id, changes, mapping_version=mapping_version, run_id=run_id)
        )

    def open_conflict(self, record_id: str, field: str, conflict: Conflict) -> None:
        """Record a new conflict on a field."""
        # A precompiled statement: a first sync opens hundreds, one at a time.
        row = {
            "record_id": record_id,
            "field": field,
            "base": conflict.base,
            "candidates": conflict.candidates,
            "status": "open",
            "opened_at": self.now,
        }
        execute_many(self.conn, _INSERT_CONFLICT, [row])

    def update_conflict(self, record_id: str, field: str, conflict: Conflict) -> None:
        """Change what each side holds in an open conflict."""
        self.conn.execute(
            t.conflicts.update()
            .where(
                t.conflicts.c.record_id == record_id,
                t.conflicts.c.field == field,
                t.conflicts.c.status == "open",
            )
            .values(candidates=conflict.candidates)
        )

    def close_conflict(self, record_id: str, field: str, value: JsonValue, by: str) -> None:
        """Mark a field's open conflict resolved with `value`."""
        self.conn.execute(
            t.conflicts.update()
            .where(
                t.conflicts.c.record_id == record_id,
                t.conflicts.c.field == field,
                t.conflicts.c.status == "open",
            )
            .values(status="resolved", resolved_at=self.now, resolution=value, resolved_by=by)
        )

    def list_conflicts(self, *, status: str | None = "open", limit: int = 500) -> list[ConflictRow]:
        """Conflicts, newest first."""
        query = (
            sa.select(t.conflicts, t.records.c.kind)
            .join(t.records, t.records.c.id == t.conflicts.c.record_id)
            .order_by(t.conflicts.c.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(t.conflicts.c.status == status)
        return [
            ConflictRow(
                id=row.id,
                record_id=row.record_id,
                kind=row.kind,
                field=row.field,
                base=row.base,
                candidates=dict(row.candidates),
                status=row.status,
                opened_at=row.opened_at,
                resolution=row.resolution,
                resolved_by=row.resolved_by,
            )
            for row in self.conn.execute(query)
        ]

    def add_source_error(
        self,
        connector: str,
        entity: str,
        external_id: str | None,
        message: str,
        *,
        location: str | None = None,
        field: str | None = None,
    ) -> None:
        """Report a source record (or row) that could not be read or written.

        The same problem seen again only moves `seen_at`, so a re-read does not pile up
        copies and sync health can show what is wrong now.
        """
        c = t.source_errors.c
        same = sa.and_(
            c.connector == connector,
            c.entity == entity,
            c.message == message,
            c.resolved.is_(False),
            c.external_id.is_(None) if external_id is None else c.external_id == external_id,
            c.location.is_(None) if location is None else c.location == location,
            c.field.is_(None) if field is None else c.field == field,
        )
        updated = self.conn.execute(t.source_errors.update().where(same).values(seen_at=self.now))
        if updated.rowcount:
            return
        self.conn.execute(
            t.source_errors.insert().values(
                connector=connector,
                entity=entity,
                external_id=external_id,
                location=location,
                field=field,
                message=message,
                seen_at=self.now,
                resolved=False,
            )
        )

    def source_errors(self, *, since: datetime | None = None) -> list[dict[str, Any]]:
        """Unresolved source errors (seen since `since`), newest first."""
        query = (
            sa.select(t.source_errors)
            .where(t.source_errors.c.resolved.is_(False))
            .order_by(t.source_errors.c.seen_at.desc())
        )
        if since is not None:
            query = query.where(t.source_errors.c.seen_at >= since)
        return [dict(row._mapping) for row in self.conn.execute(query)]

    # -- cursors --------------------------------------------------------------------------

    def get_cursor(self, connector: str, entity: str) -> str | None:
        """How far a connector has read an entity (None: from the start)."""
        query = sa.select(t.cursors.c.value).where(
            t.cursors.c.connector == connector, t.cursors.c.entity == entity
        )
        value: str | None = self.conn.execute(query).scalar_one_or_none()
        return value

    def set_cursor(self, connector: str, entity: str, value: str | None) -> None:
        """Move a cursor (in the same transaction as what was read up to it)."""
        updated = self.conn.execute(
            t.cursors.update()
            .where(t.cursors.c.connector == connector, t.cursors.c.entity == entity)
            .values(value=value, updated_at=self.now)
        )
        if updated.rowcount == 0:
            self.conn.execute(
                t.cursors.insert().values(
                    connector=connector, entity=entity, value=value, updated_at=self.now
                )
            )

    # -- outbox ---------------------------------------------------------------------------

    def enqueue_push(self, key: LinkKey, record_id: str, fields: Mapping[str, JsonValue]) -> None:
        """Add values to the pending write for a source record (coalesced per record)."""
        connector, entity, external_id = key
        pending = self._pending(key)
        if pending is None:
            self.conn.execute(
                t.outbox.insert().values(
                    connector=connector,
                    entity=entity,
                    external_id=external_id,
                    record_id=record_id,
                    fields=dict(fields),
                    status="pending",
                    attempts=0,
                    next_attempt_at=self.now,
                    created_at=self.now,
                    updated_at=self.now,
                )
            )
        else:
            self.conn.execute(
                t.outbox.update()
                .where(t.outbox.c.id == pending.id)
                .values(fields={**pending.fields, **fields}, updated_at=self.now)
            )

    def cancel_push(self, key: LinkKey, names: Iterable[str]) -> None:
        """Drop fields from the pending write for a source record."""
        pending = self._pending(key)
        if pending is None:
            return
        remaining = {k: v for k, v in pending.fields.items() if k not in set(names)}
        self._set_pending_fields(pending.id, remaining)

    def _set_pending_fields(self, outbox_id: int, fields: dict[str, JsonValue]) -> None:
        values: dict[str, Any] = {"fields": fields, "updated_at": self.now}
        if not fields:
            values["status"] = "done"
        self.conn.execute(t.outbox.update().where(t.outbox.c.id == outbox_id).values(**values))

    def pending_pushes(self, keys: Iterable[LinkKey]) -> dict[LinkKey, OutboxRow]:
        """The pending writes for these source records (one query per source)."""
        found: dict[LinkKey, OutboxRow] = {}
        for connector, entity, chunk in _by_source(keys):
            query = sa.select(t.outbox).where(
                t.outbox.c.connector == connector,
                t.outbox.c.entity == entity,
                t.outbox.c.status == PENDING,
                t.outbox.c.external_id.in_(chunk),
            )
            for row in self.conn.execute(query):
                found[(row.connector, row.entity, row.external_id)] = _outbox(row)
        return found

    def _pending(self, key: LinkKey) -> OutboxRow | None:
        connector, entity, external_id = key
        row = self.conn.execute(
            sa.select(t.outbox).where(
                t.outbox.c.connector == connector,
                t.outbox.c.entity == entity,
                t.outbox.c.external_id == external_id,
                t.outbox.c.status == PENDING,
            )
        ).first()
        return _outbox(row) if row else None

    def due_pushes(
        self, connector: str, limit: int = 500, *, records: Collection[str] | None = None
    ) -> list[OutboxRow]:
        """Pending writes for a connector whose time has come, oldest first (only for
        `records` when given)."""
        query = (
            sa.select(t.outbox)
            .where(
                t.outbox.c.connector == connector,
                t.outbox.c.status == PENDING,
                t.outbox.c.next_attempt_at <= self.now,
            )
            # Due order, then age: the order of the due index, so no sort and an early stop.
            .order_by(t.outbox.c.next_attempt_at, t.outbox.c.id)
            .limit(limit)
        )
        if records is not None:
            if not records:
                return []
            query = query.where(t.outbox.c.record_id.in_(sorted(records)[:1000]))
        return [_outbox(row) for row in self.conn.execute(query)]

    def complete_push(self, outbox_id: int, written: Mapping[str, JsonValue]) -> None:
        """Mark values written; values changed meanwhile stay pending."""
        row = self.conn.execute(sa.select(t.outbox).where(t.outbox.c.id == outbox_id)).first()
        if row is None or row.status != "pending":
            return
        remaining = {k: v for k, v in row.fields.items() if k not in written or written[k] != v}
        self._set_pending_fields(outbox_id, remaining)

    def fail_push(self, outbox_id: int, error: str, *, retry_in: timedelta | None) -> None:
        """Record a failed write: retried after `retry_in`, or failed for good when None."""
        values: dict[str, Any] = {
            "attempts": t.outbox.c.attempts + 1,
            "last_error": error,
            "updated_at": self.now,
        }
        if retry_in is None:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = self.now + retry_in
        self.conn.execute(t.outbox.update().where(t.outbox.c.id == outbox_id).values(**values))

    def outbox_depth(self) -> dict[str, int]:
        """Pending writes per connector."""
        query = (
            sa.select(t.outbox.c.connector, sa.func.count())
            .where(t.outbox.c.status == PENDING)
            .group_by(t.outbox.c.connector)
        )
        return {row[0]: int(row[1]) for row in self.conn.execute(query)}

    # -- people -----------------------------------------------------------------------------

    def save_identities(
        self, connector: str, people: Iterable[tuple[str, str | None, str | None]]
    ) -> None:
        """Remember a tool's users: (user id, email, display name)."""
        rows = list(people)
        if not rows:
            return
        self.conn.execute(t.identities.delete().where(t.identities.c.connector == connector))
        self.conn.execute(
            t.identities.insert(),
            [
                {
                    "connector": connector,
                    "user_id": uid,
                    "email": email.lower() if email else None,
                    "display_name": name,
                    "seen_at": self.now,
                }
                for uid, email, name in rows
            ],
        )

    def people(self, connector: str) -> dict[str, str]:
        """A tool's user id -> email, for the users whose email is known."""
        query = sa.select(t.identities.c.user_id, t.identities.c.email).where(
            t.identities.c.connector == connector, t.identities.c.email.is_not(None)
        )
        return {row.user_id: row.email for row in self.conn.execute(query)}

    # -- history ------------------------------------------------------------------------------

    def history(self, record_id: str) -> list[dict[str, Any]]:
        """A record's audit trail, oldest first, one entry per field change (the changes of
        one change set share its row's `id`)."""
        query = sa.select(t.audit).where(t.audit.c.record_id == record_id).order_by(t.audit.c.id)
        return [entry for row in self.conn.execute(query) for entry in audit_entries(row)]


def audit_entries(row: Any) -> list[dict[str, Any]]:
    """An audit row as one entry per field change: field, old, new and the row's other
    columns (a row from before migration 0006 holds a single change itself)."""
    entry = dict(row._mapping)
    changes = entry.pop("changes")
    if changes is None:
        return [entry]
    return [{**entry, "field": f, "old": old, "new": new} for f, old, new in changes]


def _change_set_key(change: Change) -> tuple[str, str, datetime | None]:
    return change.origin, change.reason, change.at


# What a LinkRow holds: the stored source data (a JSON column as large as the record) is
# read only where it is used (previews, history).
_LINK_ROW = (
    t.links.c.id,
    t.links.c.connector,
    t.links.c.entity,
    t.links.c.external_id,
    t.links.c.record_id,
    t.links.c.bases,
    t.links.c.placeholder,
    t.links.c.deleted,
    t.links.c.content_hash,
)


def _link(row: Any) -> LinkRow:
    return LinkRow(
        id=row.id,
        connector=row.connector,
        entity=row.entity,
        external_id=row.external_id,
        record_id=row.record_id,
        bases=dict(row.bases),
        placeholder=row.placeholder,
        deleted=row.deleted,
        content_hash=row.content_hash,
    )


def _outbox(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row.id,
        connector=row.connector,
        entity=row.entity,
        external_id=row.external_id,
        record_id=row.record_id,
        fields=dict(row.fields),
        attempts=row.attempts,
    )


class OutboxStage:
    """A transaction's changes to pending writes, staged and stored together (`flush`).

    Starts from the pending rows already stored for the records at hand (`pending`, from
    `Tx.pending_pushes`); later changes to the same source record coalesce in memory.
    """

    def __init__(self, tx: Tx, pending: dict[LinkKey, OutboxRow]) -> None:
        self.tx, self.pending = tx, pending
        self._new: dict[LinkKey, OutboxRow] = {}
        self._changed: dict[int, tuple[dict[str, JsonValue], str]] = {}

    def apply(
        self,
        record_id: str,
        pushes: Mapping[LinkKey, Mapping[str, JsonValue]],
        cancels: Mapping[LinkKey, Iterable[str]],
    ) -> None:
        """Cancel, then add, values to write to source records."""
        for key, names in cancels.items():
            row = self.pending.get(key)
            dropped = set(names)
            if row is None or not dropped & set(row.fields):
                continue
            row.fields = {k: v for k, v in row.fields.items() if k not in dropped}
            if not row.fields:
                del self.pending[key]
            if key in self._new and self._new[key] is row:
                if not row.fields:
                    del self._new[key]
                continue
            self._changed[row.id] = (row.fields, "pending" if row.fields else "done")
        for key, fields in pushes.items():
            row = self.pending.get(key)
            if row is not None:
                row.fields = {**row.fields, **fields}
                if self._new.get(key) is not row:
                    self._changed[row.id] = (row.fields, "pending")
                continue
            connector, entity, external_id = key
            row = OutboxRow(0, connector, entity, external_id, record_id, dict(fields), 0)
            self.pending[key] = self._new[key] = row

    def flush(self) -> None:
        """Store the staged changes: updates first (a row done frees its source record's
        place in the one-pending-write-per-record index), then the new rows."""
        now = self.tx.now
        execute_many(
            self.tx.conn,
            _SAVE_OUTBOX,
            [
                {"oid": oid, "fields": fields, "status": status, "now": now}
                for oid, (fields, status) in self._changed.items()
            ],
        )
        execute_many(
            self.tx.conn,
            _INSERT_OUTBOX,
            [
                {
                    "connector": row.connector,
                    "entity": row.entity,
                    "external_id": row.external_id,
                    "record_id": row.record_id,
                    "fields": row.fields,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for row in self._new.values()
            ],
        )
        self._changed.clear()
        self._new.clear()


# The writer's page cache. SQLite's default (2 MB) is small next to what a page of new
# records touches in a large store: at 100,000 issues a first sync spent 8 % more CPU
# re-reading and re-writing pages. Only the one writer connection gets it (memory stays flat).
WRITER_CACHE_KIB = 32 * 1024


def new_record_id() -> str:
    """A new record's id: a UUID whose leading bits are the time (version 7), so records
    made one after another sit side by side in the indexes keyed by record id (records,
    links, audit). Random ids (version 4) spread a page of new records over the whole
    index, each insert a different page to read and write back."""
    return str(uuid6.uuid7())


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get("syncd_writer") and not conn.info.get("syncd_cache_sized"):
        conn.exec_driver_sql(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        conn.info["syncd_cache_sized"] = True  # per DBAPI connection: a reconnect sizes anew
    snapshot = options.get("syncd_snapshot", False)
    conn.exec_driver_sql("BEGIN" if snapshot else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite's deferred BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; NORMAL is durable across process crashes in WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """The state store behind one SQLAlchemy engine (SQLite file or PostgreSQL)."""

    def __init__(self, url: str, *, clock: Clock = utc_now, migrate: bool = True) -> None:
        self.url = url
        self.clock = clock
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._write_lock = threading.RLock() if self.is_sqlite else None
        self._writer: Connection | None = None
        self._writing = False  # a write transaction is open (a nested one takes another)
        if self.is_sqlite:
            self.engine: Engine = sa.create_engine(
                url, connect_args={"timeout": 30}, json_serializer=dumps, json_deserializer=loads
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # Take the write lock at BEGIN so two writers queue instead of deadlocking
            # (snapshots, which only read, begin without it).
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = sa.create_engine(
                url, pool_pre_ping=True, json_serializer=dumps, json_deserializer=loads
            )
        if migrate:
            upgrade(self.engine)

    @contextmanager
    def transaction(self, *, dry_run: bool = False) -> Iterator[Tx]:
        """A transaction: committed when the block ends, rolled back if it raises.

        With `dry_run` it is always rolled back: everything is computed, nothing is kept.
        """
        if self._write_lock is not None:
            # SQLite has one writer: queue our own threads here instead of letting them
            # sleep in SQLite's busy handler (which backs off in steps of up to 100 ms).
            with self._write_lock:
                if dry_run or self._writing:
                    yield from self._transaction(dry_run)
                else:
                    yield from self._write_transaction()
        else:
            yield from self._transaction(dry_run)

    def _write_transaction(self) -> Iterator[Tx]:
        # One connection for every write (under the write lock): its page cache stays warm
        # from one page to the next, where pooled connections each started cold.
        if self._writer is None:
            self._writer = self.engine.connect().execution_options(syncd_writer=True)
        self._writing = True
        try:
            with self._writer.begin():
                yield Tx(self._writer, self.clock())
        finally:
            self._writing = False

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        """A read-only transaction: one consistent view that neither waits for writers nor
        holds them up (SQLite WAL readers; PostgreSQL REPEATABLE READ, READ ONLY). For long
        reads such as the rollups' whole-store read; writing in it is an error."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(syncd_snapshot=True)
            else:
                conn = conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            transaction = conn.begin()
            try:
                yield Tx(conn, self.clock())
            finally:
                transaction.rollback()

    def _transaction(self, dry_run: bool) -> Iterator[Tx]:
        if not dry_run:
            with self.engine.begin() as conn:
                yield Tx(conn, self.clock())
            return
        with self.engine.connect() as conn:
            transaction = conn.begin()
            try:
                yield Tx(conn, self.clock())
            finally:
                transaction.rollback()

    def close(self) -> None:
        """Close every pooled connection."""
        if self._write_lock is not None:
            with self._write_lock:
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
        self.engine.dispose()
