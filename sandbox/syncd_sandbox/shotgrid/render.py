"""Records in the REST v1 wire shape: `{type, attributes, relationships, id, links}`.

Scalars go in `attributes`, entity and multi-entity links in `relationships` as
`{"data", "links"}`, and links use the snake-plural collection name, as the recorded
cassettes show. A field name the type does not have is dropped silently (probe 004), and a
dotted path comes back flat under its literal key, resolved through single-entity links only
(probe 016: a path through a multi-entity link is dropped).
"""

from __future__ import annotations

from typing import Any

from .schema import LINK_TYPES, EntityDef, FieldDef
from .store import Record, Store
from .values import fmt_create_datetime, wire


def parse_fields(raw: Any) -> list[str] | None:
    """`"code,sg_status_list"`, a list, or `"*"`; None means every field."""
    if raw is None:
        return None
    names = raw if isinstance(raw, list) else str(raw).split(",")
    cleaned = [str(n).strip() for n in names if str(n).strip()]
    return None if not cleaned or "*" in cleaned else cleaned


def relationship(
    store: Store, entity: EntityDef, record_id: int, f: FieldDef, value: Any, base: str
) -> dict[str, Any]:
    """One `relationships` entry; `related` only for a set single-entity link."""
    links = {"self": f"{base}/entity/{entity.collection}/{record_id}/relationships/{f.name}"}
    if f.data_type == "entity" and value is not None:
        target = store.schema.entities[value[0]]
        links["related"] = f"{base}/entity/{target.collection}/{value[1]}"
    return {"data": wire(store, f, value), "links": links}


def render(
    store: Store, entity: EntityDef, record: Record, fields: list[str] | None, base: str
) -> dict[str, Any]:
    """A record with the requested fields (None: all of them)."""
    attributes: dict[str, Any] = {}
    relationships: dict[str, Any] = {}
    names = [f.name for f in entity.fields] if fields is None else fields
    for name in names:
        if name in ("id", "type"):
            continue
        f = entity.by_name.get(name)
        if f is None:
            if "." in name:
                found, value = dotted_value(store, entity, record, name)
                if found:
                    attributes[name] = value
            continue
        value = store.value(entity, record, f)
        if f.data_type in LINK_TYPES:
            relationships[name] = relationship(store, entity, record.id, f, value, base)
        else:
            attributes[name] = wire(store, f, value)
    return _shape(entity, record, attributes, relationships, base)


def render_created(
    store: Store, entity: EntityDef, record: Record, sent: set[str], base: str
) -> dict[str, Any]:
    """The thin reply of a create: what was sent, the defaults, and the server-set fields."""
    attributes: dict[str, Any] = {}
    relationships: dict[str, Any] = {}
    for f in entity.fields:
        if f.name == "id":
            continue
        value = store.value(entity, record, f)
        if f.data_type == "multi_entity" or (f.data_type == "entity" and value is not None):
            relationships[f.name] = relationship(store, entity, record.id, f, value, base)
        elif f.data_type in LINK_TYPES:
            continue
        elif f.name in ("created_at", "updated_at"):
            attributes[f.name] = fmt_create_datetime(value)
        elif (
            f.name in sent
            or f.name in entity.identity
            or f.name == "cached_display_name"
            or (f.default is not None and value is not None)
        ):
            attributes[f.name] = wire(store, f, value)
    return _shape(entity, record, attributes, relationships, base)


def _shape(
    entity: EntityDef,
    record: Record,
    attributes: dict[str, Any],
    relationships: dict[str, Any],
    base: str,
) -> dict[str, Any]:
    return {
        "type": entity.type,
        "attributes": attributes,
        "relationships": relationships,
        "id": record.id,
        "links": {"self": f"{base}/entity/{entity.collection}/{record.id}"},
    }


def dotted_value(store: Store, entity: EntityDef, record: Record, path: str) -> tuple[bool, Any]:
    """Resolve `link.Type.field[...]` for a read: (False, None) when the key is dropped."""
    parts = path.split(".")
    if len(parts) % 2 == 0:
        return False, None
    current_entity, current = entity, record
    link = entity.by_name.get(parts[0])
    row: Record | None = current
    for i in range(1, len(parts), 2):
        target = store.schema.entities.get(parts[i])
        if (
            link is None
            or link.data_type != "entity"
            or target is None
            or target.type not in link.valid_types
        ):
            return False, None
        value = store.value(current_entity, row, link) if row is not None else None
        row = store.live(*value) if value is not None and value[0] == target.type else None
        current_entity = target
        link = target.by_name.get(parts[i + 1])
    if link is None or link.data_type == "multi_entity":
        return False, None
    if row is None:
        return True, None
    return True, wire(store, link, store.value(current_entity, row, link))
