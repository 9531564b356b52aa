"""`schema_read`, `schema_field_read`, `schema_entity_read` in the api3 shapes.

Field schemas are the REST v1 ones (`Schema.field_schema`, the recorded `reads_the_schema`
cassette), which the client documents with the same keys. Entity types are
`{"name": {"value", "editable": False}, "visible": {"value": True, "editable": False}}`
(shotgun_api3 `schema_entity_read` docstring). A `project` parameter is accepted and ignored:
the sandbox has no per-project visibility.
"""

from __future__ import annotations

from typing import Any

from .api3_protocol import Api3Fault
from .schema import EntityDef, Schema


def schema_read(schema: Schema) -> dict[str, Any]:
    """Every field of every entity type."""
    return {name: _fields(schema, entity) for name, entity in schema.entities.items()}


def schema_entity_read(schema: Schema) -> dict[str, Any]:
    """Every entity type with its display name."""
    return {
        name: {
            "name": {"value": entity.label, "editable": False},
            "visible": {"value": True, "editable": False},
        }
        for name, entity in schema.entities.items()
    }


def schema_field_read(schema: Schema, params: dict[str, Any]) -> dict[str, Any]:
    """One entity type's fields, or only `field_name`."""
    type_name = params.get("type")
    entity = schema.entities.get(type_name) if isinstance(type_name, str) else None
    if entity is None:
        raise Api3Fault(f"API schema_field_read() Entity type '{type_name}' does not exist.")
    field_name = params.get("field_name")
    if field_name is None:
        return _fields(schema, entity)
    f = entity.by_name.get(field_name) if isinstance(field_name, str) else None
    if f is None:
        raise Api3Fault(
            f"API schema_field_read() {entity.type}.{field_name} doesn't exist.",
        )
    return {f.name: schema.field_schema(entity, f)}


def _fields(schema: Schema, entity: EntityDef) -> dict[str, Any]:
    return {f.name: schema.field_schema(entity, f) for f in entity.fields}
