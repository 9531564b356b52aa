"""A dry run of a changed mapping: which records and fields it would change. Reads only.

Every link keeps its source record as last read (`links.data`), so a new mapping can be
tried without calling the tools: each stored source record of a connector entity whose
mapping changed is translated with the active mapping and with the new one, and every field
whose translation differs is reported. Those are the values the engine would see as changed
the next time it reads the record (a full re-read does it for all of them at once).

Links are read in short transactions of `CHUNK` rows, and translated outside them, so a big
preview never holds the store (on SQLite: its write lock) for long.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, JsonValue

from syncd.mapping.apply import EntityMapping
from syncd.mapping.load import MappingSet
from syncd.store.links import LinkData
from syncd.store.store import Store

CHUNK = 500
KEY_FIELD = "(key)"  # the source record's own id, as the mapping reads it
LINKS_FIELD = "(links)"  # the other tools' records it says are the same work

EntityStatus = Literal["unchanged", "changed", "added", "removed", "kind_changed"]


class FieldChange(BaseModel):
    """One field of one record whose value a source would give differently."""

    record_id: str
    kind: str
    connector: str
    entity: str
    external_id: str = Field(description="the source record's id in its tool")
    field: str = Field(description=f"record field, or {KEY_FIELD} / {LINKS_FIELD}")
    current: JsonValue = Field(None, description="the value under the active mapping")
    new: JsonValue = Field(None, description="the value under the uploaded mapping")
    current_problem: str | None = Field(None, description="why the active mapping cannot read it")
    new_problem: str | None = Field(None, description="why the new mapping cannot read it")
    note: str | None = Field(None, description='"newly read" or "no longer read"')


class EntityPreview(BaseModel):
    """What a change means for one connector entity."""

    connector: str
    entity: str
    kind: str
    status: EntityStatus
    links: int = Field(description="source records syncd knows of this entity")
    unread: int = Field(description="of those, how many have no stored source data to try")
    records: int = Field(description="records with at least one changed field")
    field_changes: int


class MappingPreview(BaseModel):
    """A dry run of an uploaded mapping against the stored source records; nothing stored."""

    current_version: str
    new_version: str
    warnings: list[str]
    entities: list[EntityPreview]
    records: int = Field(description="records with at least one changed field")
    field_changes: int = Field(description="changed fields in all")
    by_field: dict[str, int] = Field(description='"connector.entity.field" -> changed count')
    changes: list[FieldChange] = Field(description="the changes, up to `limit`")
    left_out: int = Field(description="changes not listed because of `limit`")


@dataclass(slots=True)
class _Side:
    """One source record as one mapping reads it."""

    external_id: str | None = None
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    links: list[list[str]] = field(default_factory=list)


def _read(mapping: EntityMapping, data: dict[str, Any], people: dict[str, str]) -> _Side:
    try:
        pulled = mapping.pull(data, people)
    except ValueError as exc:  # no key: the mapping cannot even tell which record this is
        return _Side(error=str(exc))
    return _Side(
        external_id=pulled.external_id,
        values=dict(pulled.values),
        problems={issue.field: issue.reason for issue in pulled.issues},
        links=sorted([ln.connector, ln.entity, ln.external_id] for ln in pulled.links),
    )


def _diff(
    link: LinkData, kind: str, cur: _Side, new: _Side, connector: str, entity: str
) -> list[FieldChange]:
    def change(name: str, **values: Any) -> FieldChange:
        return FieldChange(
            record_id=link.record_id,
            kind=kind,
            connector=connector,
            entity=entity,
            external_id=link.external_id,
            field=name,
            **values,
        )

    out = []
    if (cur.external_id, cur.error) != (new.external_id, new.error):
        out.append(
            change(
                KEY_FIELD,
                current=cur.external_id,
                new=new.external_id,
                current_problem=cur.error,
                new_problem=new.error,
                note="read as another source record" if new.external_id else None,
            )
        )
    if cur.links != new.links:
        out.append(change(LINKS_FIELD, current=cur.links, new=new.links))
    names = set(cur.values) | set(cur.problems) | set(new.values) | set(new.problems)
    for name in sorted(names):
        before = (name in cur.values, cur.values.get(name), cur.problems.get(name))
        after = (name in new.values, new.values.get(name), new.problems.get(name))
        if before == after:
            continue
        read_before = name in cur.values or name in cur.problems
        read_after = name in new.values or name in new.problems
        note = None
        if read_after and not read_before:
            note = "newly read"
        elif read_before and not read_after:
            note = "no longer read"
        out.append(
            change(
                name,
                current=before[1],
                new=after[1],
                current_problem=before[2],
                new_problem=after[2],
                note=note,
            )
        )
    return out


def _status(cur: EntityMapping | None, new: EntityMapping | None) -> EntityStatus:
    if cur is None:
        return "added"
    if new is None:
        return "removed"
    if cur.kind != new.kind:
        return "kind_changed"
    if cur.spec == new.spec and cur.mapping.values == new.mapping.values:
        return "unchanged"
    return "changed"


class _Preview:
    """Accumulates the changes of every entity."""

    def __init__(self, store: Store, limit: int) -> None:
        self.store, self.limit = store, limit
        self.changes: list[FieldChange] = []
        self.total = 0
        self.records: set[str] = set()
        self.by_field: Counter[str] = Counter()

    def _count(self, connector: str, entity: str) -> tuple[int, int]:
        with self.store.transaction() as tx:
            return tx.links.count_live(connector, entity)

    def _chunks(self, connector: str, entity: str) -> Iterator[list[LinkData]]:
        after = 0
        while True:
            with self.store.transaction() as tx:
                rows = tx.links.live_data_after(connector, entity, after, CHUNK)
            if not rows:
                return
            yield rows
            after = rows[-1].id

    def entity(
        self, connector: str, entity: str, cur: EntityMapping | None, new: EntityMapping | None
    ) -> EntityPreview:
        """Compare one entity's stored source records under both mappings."""
        status = _status(cur, new)
        either = new or cur
        kind = either.kind.value if either is not None else ""
        links, unread = self._count(connector, entity)
        summary = EntityPreview(
            connector=connector,
            entity=entity,
            kind=kind,
            status=status,
            links=links,
            unread=unread,
            records=0,
            field_changes=0,
        )
        if status != "changed" or cur is None or new is None:
            return summary  # whole-entity changes are reported as such, not field by field
        with self.store.transaction() as tx:
            people = tx.identities.emails(connector)
        records: set[str] = set()
        for chunk in self._chunks(connector, entity):
            for link in chunk:
                found = _diff(
                    link,
                    kind,
                    _read(cur, link.data, people),
                    _read(new, link.data, people),
                    connector,
                    entity,
                )
                if not found:
                    continue
                records.add(link.record_id)
                summary.field_changes += len(found)
                for item in found:
                    self.by_field[f"{connector}.{entity}.{item.field}"] += 1
                room = self.limit - len(self.changes)
                self.changes += found[: max(room, 0)]
        summary.records = len(records)
        self.records |= records
        self.total += summary.field_changes
        return summary


def preview_mappings(
    store: Store, current: MappingSet, new: MappingSet, *, limit: int
) -> MappingPreview:
    """What `new` would change compared with `current`, over every stored source record."""
    run = _Preview(store, limit)
    entities = [
        run.entity(connector, entity, current.entities.get(key), new.entities.get(key))
        for key in sorted(set(current.entities) | set(new.entities))
        for connector, entity in [key]
    ]
    return MappingPreview(
        current_version=current.version,
        new_version=new.version,
        warnings=[str(w) for w in new.warnings],
        entities=entities,
        records=len(run.records),
        field_changes=run.total,
        by_field=dict(sorted(run.by_field.items())),
        changes=run.changes,
        left_out=run.total - len(run.changes),
    )
