"""In-memory records, kept compact enough for a 100,000-task benchmark.

A record is a slotted object holding its stored field values in a list ordered by the entity
type's slot index; entity links are `(type, id)` tuples. Each table keeps an index sorted on
`updated_at` so incremental `updated_at greater_than` searches avoid a full scan, and the
store keeps reverse-link indexes for computed fields such as `Asset.tasks`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from .schema import EntityDef, FieldDef, Schema

Link = tuple[str, int]


class Record:
    """One entity row: id, stored values in slot order, and the retired flag."""

    __slots__ = ("id", "retired", "values")

    def __init__(self, id: int, values: list[Any], retired: bool = False) -> None:
        self.id, self.values, self.retired = id, values, retired

    def copy(self) -> Record:
        """A shallow copy for staging an edit."""
        return Record(self.id, list(self.values), self.retired)


class Table:
    """All records of one entity type, with an `updated_at` index."""

    def __init__(self, entity: EntityDef) -> None:
        self.entity = entity
        self.records: dict[int, Record] = {}
        self.next_id = 1
        self._updated_slot = entity.index["updated_at"]
        self._by_updated: list[tuple[float, int]] = []

    def _stamp(self, record: Record) -> float:
        updated: datetime | None = record.values[self._updated_slot]
        return updated.timestamp() if updated is not None else 0.0

    def put(self, record: Record) -> None:
        """Insert or replace a record, keeping the index in step."""
        old = self.records.get(record.id)
        if old is not None:
            key = (self._stamp(old), old.id)
            at = bisect.bisect_left(self._by_updated, key)
            if at < len(self._by_updated) and self._by_updated[at] == key:
                del self._by_updated[at]
        self.records[record.id] = record
        bisect.insort(self._by_updated, (self._stamp(record), record.id))
        self.next_id = max(self.next_id, record.id + 1)

    def updated_after(self, moment: datetime) -> Iterator[int]:
        """Ids of records whose `updated_at` is strictly later than `moment`, oldest first."""
        at = bisect.bisect_right(self._by_updated, (moment.timestamp(), float("inf")))
        for _, record_id in self._by_updated[at:]:
            yield record_id


class Store:
    """Every table, plus reverse-link indexes and computed-field reads."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.tables = {name: Table(e) for name, e in schema.entities.items()}
        # (source type, source field) -> target link -> ids of source records linking to it
        self._refs: dict[tuple[str, str], dict[Link, set[int]]] = {}
        for entity in schema.entities.values():
            for f in entity.fields:
                if f.reverse_of is not None:
                    self._refs.setdefault(f.reverse_of, {})

    def get(self, entity_type: str, record_id: int) -> Record | None:
        """A record, retired or not."""
        return self.tables[entity_type].records.get(record_id)

    def live(self, entity_type: str, record_id: int) -> Record | None:
        """A record that is not retired."""
        table = self.tables.get(entity_type)
        record = table.records.get(record_id) if table else None
        return None if record is None or record.retired else record

    def put(self, entity_type: str, record: Record) -> None:
        """Store a record (new or changed) and update the reverse-link indexes."""
        table = self.tables[entity_type]
        old = table.records.get(record.id)
        for (source_type, source_field), refs in self._refs.items():
            if source_type != entity_type:
                continue
            slot = table.entity.index[source_field]
            before = old.values[slot] if old is not None and not old.retired else None
            after = record.values[slot] if not record.retired else None
            if before != after:
                if before is not None:
                    refs.get(before, set()).discard(record.id)
                if after is not None:
                    refs.setdefault(after, set()).add(record.id)
        table.put(record)

    def value(self, entity: EntityDef, record: Record, f: FieldDef) -> Any:
        """A field's value, stored or computed."""
        if f.stored:
            return record.values[entity.index[f.name]]
        if f.name == "id":
            return record.id
        if f.name == "cached_display_name":
            return self.display_name(entity, record)
        if f.reverse_of is not None:
            source_type, _ = f.reverse_of
            ids = self._refs[f.reverse_of].get((entity.type, record.id), set())
            return tuple((source_type, i) for i in sorted(ids))
        return 0  # summary fields (time_logs_sum): no TimeLogs are emulated

    def display_name(self, entity: EntityDef, record: Record) -> str:
        """`cached_display_name`: the identity field(s), as the site renders link names."""
        parts = [record.values[entity.index[name]] for name in entity.identity]
        return " ".join(str(p) for p in parts if p is not None)

    def link_name(self, link: Link) -> str | None:
        """The `name` shown in an entity link dict (the target's cached_display_name)."""
        record = self.get(*link)
        if record is None:
            return None
        return self.display_name(self.schema.entities[link[0]], record)

    def rows(self, entity_type: str, ids: Iterable[int] | None = None) -> Iterator[Record]:
        """Records of a type, optionally restricted to some ids (missing ids skipped)."""
        records = self.tables[entity_type].records
        if ids is None:
            yield from records.values()
            return
        for record_id in ids:
            record = records.get(record_id)
            if record is not None:
                yield record
