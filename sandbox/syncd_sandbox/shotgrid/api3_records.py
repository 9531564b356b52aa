"""Records as api3 entity dicts: `{"type", "id", <field>: value, ...}`.

Values are the REST read formats (`values.wire`): links `{"id", "name", "type"}`, datetimes
`YYYY-MM-DDTHH:MM:SSZ` (the one shape `shotgun_api3._transform_inbound` turns into a
datetime), dates `YYYY-MM-DD` (left a string by the client). A dotted path comes back flat
under its literal key; a name the type does not have is dropped, as REST v1 does (probe 004).
"""

from __future__ import annotations

from typing import Any

from .api3_protocol import Api3Fault
from .render import dotted_value
from .schema import EntityDef
from .store import Record, Store
from .values import wire


def entity_dict(
    store: Store, entity: EntityDef, record: Record, fields: list[str]
) -> dict[str, Any]:
    """One record with the asked fields (always `type` and `id`)."""
    out: dict[str, Any] = {"type": entity.type, "id": record.id}
    for name in fields:
        if name in out:
            continue
        f = entity.by_name.get(name)
        if f is not None:
            out[name] = wire(store, f, store.value(entity, record, f))
        elif "." in name:
            found, value = dotted_value(store, entity, record, name)
            if found:
                out[name] = value
    return out


def with_valid_links(row: dict[str, Any]) -> dict[str, Any]:
    """An update's reply: links carry `"valid": "valid"`, as the client's `update` docs show."""

    def mark(value: Any) -> Any:
        if isinstance(value, dict) and "type" in value and "id" in value:
            return {**value, "valid": "valid"}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    return {k: v if k in ("type", "id") else mark(v) for k, v in row.items()}


def field_names(raw: Any, default: list[str]) -> list[str]:
    """A `return_fields` list of names (the default when absent)."""
    if raw is None:
        return default
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise Api3Fault(f"return_fields must be a list of field names: {raw!r}")
    return raw
