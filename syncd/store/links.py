"""Links: which source record (connector, entity, external id) represents which record,
with its bases, content hash and the source record as last read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.model import JsonValue
from syncd.reconcile import LinkKey
from syncd.store import tables as t
from syncd.store.batches import by_source, chunks
from syncd.store.bulk import execute_many


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


@dataclass(frozen=True, slots=True)
class LinkDetail:
    """A link as shown to people: its source record's state and data as last read."""

    connector: str
    entity: str
    external_id: str
    placeholder: bool
    deleted: bool
    seen_at: datetime | None
    source_updated_at: datetime | None
    data: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class LinkData:
    """A live link's source record as last read."""

    id: int
    record_id: str
    external_id: str
    data: dict[str, Any]


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

# Page-sized writes (`execute_many`): every value a parameter, so each compiles once.
_INSERT_LINKS = t.links.insert()
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


class Links:
    """Queries on the `links` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def find(self, keys: Iterable[LinkKey]) -> dict[LinkKey, LinkRow]:
        """The stored links for these (connector, entity, external_id) keys."""
        found: dict[LinkKey, LinkRow] = {}
        for connector, entity, chunk in by_source(keys):
            query = sa.select(*_LINK_ROW).where(
                t.links.c.connector == connector,
                t.links.c.entity == entity,
                t.links.c.external_id.in_(chunk),
            )
            for row in self.conn.execute(query):
                link = _link(row)
                found[link.key] = link
        return found

    def live_hashes(self, keys: Iterable[LinkKey]) -> dict[LinkKey, str]:
        """The content hash of each of these sources that is linked, seen and not deleted.

        A cheap probe (no JSON decoded): a source whose hash is unchanged is skipped
        before its link is loaded at all.
        """
        found: dict[LinkKey, str] = {}
        c = t.links.c
        for connector, entity, chunk in by_source(keys):
            query = _read_and_live(connector, entity, chunk, c.external_id, c.content_hash)
            for external_id, content_hash in self.conn.execute(query):
                found[(connector, entity, external_id)] = content_hash
        return found

    def current_data(
        self, connector: str, entity: str, external_ids: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """Source records as last read, where that is still what the tool holds as far as
        syncd knows: linked, live, and not written by syncd since (a write clears the
        content hash; the next read sets it)."""
        found: dict[str, dict[str, Any]] = {}
        c = t.links.c
        for _, _, chunk in by_source((connector, entity, e) for e in external_ids):
            query = _read_and_live(connector, entity, chunk, c.external_id, c.data)
            for external_id, data in self.conn.execute(query):
                if data:
                    found[external_id] = dict(data)
        return found

    def live_ids_seen_before(self, connector: str, entity: str, before: datetime) -> list[str]:
        """External ids of an entity's live links (seen, not deleted) last seen before
        `before`: what a complete read started then must find, or they are gone. A link seen
        since was read after that read began (a webhook's refresh), so it is left out."""
        c = t.links.c
        query = sa.select(c.external_id).where(
            c.connector == connector,
            c.entity == entity,
            c.placeholder.is_(False),
            c.deleted.is_(False),
            sa.or_(c.seen_at.is_(None), c.seen_at < before),
        )
        return [str(x) for (x,) in self.conn.execute(query)]

    def of_records(self, record_ids: Iterable[str]) -> dict[str, list[LinkRow]]:
        """Every link of these records, by record id."""
        out: dict[str, list[LinkRow]] = {}
        for chunk in chunks(sorted(set(record_ids))):
            query = sa.select(*_LINK_ROW).where(t.links.c.record_id.in_(chunk))
            for row in self.conn.execute(query):
                out.setdefault(row.record_id, []).append(_link(row))
        return out

    def insert_many(
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
        return self.find(key for key, _, _ in rows)

    def insert(self, key: LinkKey, record_id: str, *, placeholder: bool = False) -> LinkRow:
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

    def save(
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

    def data_of(self, record_id: str) -> dict[LinkKey, dict[str, Any]]:
        """The source records behind a record, as last read."""
        query = sa.select(t.links).where(t.links.c.record_id == record_id)
        return {
            (row.connector, row.entity, row.external_id): dict(row.data or {})
            for row in self.conn.execute(query)
        }

    def details(self, record_id: str) -> list[LinkDetail]:
        """A record's links with their state and data, oldest first."""
        query = sa.select(t.links).where(t.links.c.record_id == record_id).order_by(t.links.c.id)
        return [
            LinkDetail(
                connector=row.connector,
                entity=row.entity,
                external_id=row.external_id,
                placeholder=row.placeholder,
                deleted=row.deleted,
                seen_at=row.seen_at,
                source_updated_at=row.source_updated_at,
                data=row.data,
            )
            for row in self.conn.execute(query)
        ]

    def count_live(self, connector: str, entity: str) -> tuple[int, int]:
        """(live links of an entity, how many of them hold no source data)."""
        c = t.links.c
        query = (
            sa.select(sa.func.count(), sa.func.count(c.data))
            .where(c.connector == connector, c.entity == entity)
            .where(c.placeholder.is_(False), c.deleted.is_(False))
        )
        total, with_data = self.conn.execute(query).one()
        return int(total), int(total) - int(with_data)

    def live_data_after(
        self, connector: str, entity: str, after: int, limit: int
    ) -> list[LinkData]:
        """Up to `limit` live links of an entity holding source data, with ids above
        `after`, by id."""
        c = t.links.c
        query = (
            sa.select(c.id, c.record_id, c.external_id, c.data)
            .where(c.connector == connector, c.entity == entity, c.id > after)
            .where(c.placeholder.is_(False), c.deleted.is_(False), c.data.is_not(None))
            .order_by(c.id)
            .limit(limit)
        )
        return [
            LinkData(r.id, r.record_id, r.external_id, dict(r.data or {}))
            for r in self.conn.execute(query).all()
        ]
