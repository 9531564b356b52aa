"""Validated writes staged in a transaction: create, update, delete (retire), revive.

A `Transaction` stages copies of the records it touches and applies them to the store only on
`commit()`, which is what makes `_batch` all-or-nothing. Validation mirrors the measured site
(recorded cassettes, sg-groundtruth field_types cards): unknown fields and bad value types 400
naming the field; a status outside the list 400s naming the valid codes; text is stripped and
`""` stores null; a link must name a live row of an allowed type; a bare list replaces a
multi-entity field while `{"multi_entity_update_mode", "value"}` adds or removes in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .errors import CODE_FAILED, SgError, not_found
from .schema import EntityDef, FieldDef
from .store import Link, Record, Store
from .values import parse_date, parse_datetime, ruby_class

ChangeKind = Literal["create", "update", "delete", "revive"]
_Raise = Callable[[str], SgError]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One attribute's old and new stored value."""

    field: FieldDef
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Change:
    """One committed lifecycle event, the unit webhooks are built from."""

    kind: ChangeKind
    entity: EntityDef
    record: Record
    project: Link | None
    fields: tuple[FieldChange, ...] = ()


class Transaction:
    """Stages writes by one actor at one instant; nothing is visible until `commit()`."""

    def __init__(self, store: Store, actor: Link, now: datetime) -> None:
        self.store, self.actor, self.now = store, actor, now
        self._staged: dict[Link, Record] = {}
        self._next_ids: dict[str, int] = {}
        self.changes: list[Change] = []

    # -- operations -----------------------------------------------------------------------
    def create(self, entity: EntityDef, data: Any) -> Record:
        """Stage a new record from a create body."""
        body = _body(data)
        fields = {name: self._writable(entity, name, "create") for name in body}
        if entity.project_scoped and body.get("project") is None:
            raise SgError(400, f"API create() missing 'project' attribute: {json.dumps(body)}")
        values = entity.blank()
        record_id = self._new_id(entity)
        for name, raw in body.items():
            target = fields[name]
            if target is not None:
                values[entity.index[name]] = self._coerce(entity, target, raw, "create", ())
        if len(entity.identity) == 1:
            slot = entity.index[entity.identity[0]]
            if entity.identity[0] in body and values[slot] is None:
                raise SgError(
                    400,
                    f"Create failed for [{entity.type}]: Cannot set identifier field to empty. "
                    f"({entity.type})",
                    code=CODE_FAILED,
                )
            if values[slot] is None and entity.project_scoped:
                values[slot] = f"New {entity.label} {record_id}"
        for stamp in ("created_at", "updated_at"):
            slot = entity.index[stamp]
            values[slot] = values[slot] or self.now
        values[entity.index["created_by"]] = values[entity.index["updated_by"]] = self.actor
        record = Record(record_id, values)
        self._stage(entity, record, "create")
        return record

    def update(self, entity: EntityDef, record_id: int, data: Any) -> Record:
        """Stage an update; fields whose value does not change make no event."""
        body = _body(data)
        current = self._live(entity, record_id)
        fields = {name: self._writable(entity, name, "update") for name in body}
        new = current.copy()
        changed: list[FieldChange] = []
        for name, raw in body.items():
            f = fields[name]
            if f is None:
                continue
            slot = entity.index[name]
            value = self._coerce(entity, f, raw, "update", new.values[slot])
            if value != new.values[slot]:
                changed.append(FieldChange(f, new.values[slot], value))
                new.values[slot] = value
        if not changed:
            return current
        self._touch(entity, new)
        self._stage(entity, new, "update", tuple(changed))
        return new

    def delete(self, entity: EntityDef, record_id: int) -> Record:
        """Stage a retirement (ShotGrid deletes are soft)."""
        new = self._live(entity, record_id).copy()
        new.retired = True
        self._touch(entity, new)
        self._stage(entity, new, "delete")
        return new

    def revive(self, entity: EntityDef, record_id: int) -> tuple[Record, bool]:
        """Stage a revival; `did_revive` is False for a row that was not retired."""
        current = self._record(entity, record_id)
        if current is None:
            raise not_found(entity.type, record_id)
        if not current.retired:
            return current, False
        new = current.copy()
        new.retired = False
        self._touch(entity, new)
        self._stage(entity, new, "revive")
        return new, True

    def commit(self) -> list[Change]:
        """Apply every staged record to the store; return the changes in order."""
        for (entity_type, _), record in self._staged.items():
            self.store.put(entity_type, record)
        return self.changes

    # -- helpers --------------------------------------------------------------------------
    def _record(self, entity: EntityDef, record_id: int) -> Record | None:
        staged = self._staged.get((entity.type, record_id))
        return staged if staged is not None else self.store.get(entity.type, record_id)

    def _live(self, entity: EntityDef, record_id: int) -> Record:
        record = self._record(entity, record_id)
        if record is None or record.retired:
            raise not_found(entity.type, record_id)
        return record

    def _new_id(self, entity: EntityDef) -> int:
        next_id = self._next_ids.get(entity.type, self.store.tables[entity.type].next_id)
        self._next_ids[entity.type] = next_id + 1
        return next_id

    def _touch(self, entity: EntityDef, record: Record) -> None:
        record.values[entity.index["updated_at"]] = self.now
        record.values[entity.index["updated_by"]] = self.actor

    def _stage(
        self,
        entity: EntityDef,
        record: Record,
        kind: ChangeKind,
        fields: tuple[FieldChange, ...] = (),
    ) -> None:
        self._staged[(entity.type, record.id)] = record
        project: Link | None = (entity.type, record.id) if entity.type == "Project" else None
        if "project" in entity.index:
            project = record.values[entity.index["project"]]
        self.changes.append(Change(kind, entity, record, project, fields))

    def _writable(self, entity: EntityDef, name: str, verb: str) -> FieldDef | None:
        """The field a body key writes, None for a discarded write; 400 when refused."""
        label = f"{entity.type}.{name}"
        f = entity.by_name.get(name)
        if f is None:
            raise SgError(400, f"API {verb}() {label} doesn't exist.", source={})
        if name == "cached_display_name":
            return None
        if f.create_only:
            if verb == "create":
                return f
            raise SgError(
                400, f"API update() {label} is editable on create only.", code=CODE_FAILED
            )
        if name in ("created_by", "updated_by"):
            raise SgError(
                400, f"The field is not editable for this user: [{label}]", code=CODE_FAILED
            )
        if not f.editable:
            raise SgError(400, f"API {verb}() {label} is read only.", code=CODE_FAILED)
        return f

    def _coerce(self, entity: EntityDef, f: FieldDef, raw: Any, verb: str, current: Any) -> Any:
        label = f"{entity.type}.{f.name}"
        dt = f.data_type

        def type_error(expected: str) -> SgError:
            return SgError(
                400,
                f"API {verb}() {label} expected [{expected}] data type(s) but got "
                f"{ruby_class(raw)}: {json.dumps(raw)}",
            )

        def illegal(reason: str) -> SgError:
            return SgError(
                400,
                f"Invalid field value, update failed [5 - Update failed for [{label}]: {reason}]",
                code=CODE_FAILED,
            )

        if dt == "multi_entity":
            return self._multi(f, raw, current, type_error, illegal)
        if raw is None:
            return None
        if dt == "text":
            if not isinstance(raw, str):
                raise type_error("String, NilClass")
            return raw.strip() or None
        if dt in ("number", "duration"):
            if isinstance(raw, bool) or (isinstance(raw, float) and dt == "number"):
                raise type_error("Integer, NilClass")
            try:
                return int(float(raw)) if dt == "duration" else int(raw)
            except (TypeError, ValueError):
                raise type_error("Integer, NilClass") from None
        if dt == "checkbox":
            if isinstance(raw, str) and raw in ("true", "false"):
                return raw == "true"
            if not isinstance(raw, bool):
                raise type_error("String, FalseClass, TrueClass")
            return raw
        if dt in ("date", "date_time"):
            if not isinstance(raw, str):
                raise type_error("String, NilClass")
            if raw == "" and dt == "date":
                return None
            try:
                return parse_date(raw) if dt == "date" else parse_datetime(raw)
            except ValueError:
                raise illegal(f"Invalid {dt} value {json.dumps(raw)}") from None
        if dt in ("status_list", "list"):
            if not isinstance(raw, str):
                raise type_error("String, NilClass")
            valid = self.store.schema.valid_values(entity, f)
            if raw not in valid:
                names = ", ".join(f"'{v}'" for v in valid)
                if dt == "status_list":
                    raise illegal(f"'{raw}' is not a valid status. Valid statuses: {names}.")
                raise illegal(f"'{raw}' is not a valid value. Valid values: {names}.")
            return raw
        if dt == "entity":
            return self._link(f, raw, type_error, illegal)
        raise illegal("Value is not legal.")

    def _link(self, f: FieldDef, raw: Any, type_error: _Raise, illegal: _Raise) -> Link:
        if not isinstance(raw, dict):
            raise type_error("Hash, NilClass")
        link_type, link_id = raw.get("type"), raw.get("id")
        if (
            link_type not in f.valid_types
            or not isinstance(link_id, int)
            or isinstance(link_id, bool)
            or self.store.live(link_type, link_id) is None
        ):
            raise illegal("Value is not legal.")
        return (link_type, link_id)

    def _multi(
        self, f: FieldDef, raw: Any, current: Any, type_error: _Raise, illegal: _Raise
    ) -> tuple[Link, ...]:
        mode = "set"
        if isinstance(raw, dict):
            mode = raw.get("multi_entity_update_mode", "set")
            raw = raw.get("value")
            if mode not in ("set", "add", "remove"):
                raise illegal(f"Invalid multi_entity_update_mode {json.dumps(mode)}")
        if not isinstance(raw, list):
            raise type_error("Array, Hash")
        links = list(dict.fromkeys(self._link(f, item, type_error, illegal) for item in raw))
        existing = list(current or ())
        if mode == "add":
            return tuple(dict.fromkeys([*existing, *links]))
        if mode == "remove":
            return tuple(link for link in existing if link not in links)
        return tuple(links)


def _body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SgError(400, f"Invalid JSON body. Expected Hash but received {ruby_class(data)}.")
    return data
