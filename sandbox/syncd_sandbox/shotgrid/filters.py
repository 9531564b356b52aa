"""ShotGrid filters compiled to predicates: triples, and/or groups, dotted linked-field paths.

Semantics follow what the real site was measured to do (sg-groundtruth probes 016, 017, 030 and
the field_types cards): text matching is case-insensitive; negating operators (`is_not`,
`not_in`, `not_contains`...) also match empty values while comparisons never do; a dotted path
through a multi-entity link matches when any linked row does; an unknown field or relation is a
400 naming it, never a silent no-op.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .errors import SgError
from .schema import LINK_TYPES, DataType, EntityDef, FieldDef
from .store import Record, Store
from .values import parse_date, parse_datetime, ruby_class

Predicate = Callable[[Record], bool]
Test = Callable[[Any], bool]

_EQUALITY = ("is", "is_not", "in", "not_in")
_ORDERED = ("less_than", "greater_than", "between", "not_between")
_RELATIVE = ("in_last", "not_in_last", "in_next", "not_in_next")
_LINK = ("type_is", "type_is_not", "name_contains", "name_not_contains", "name_is")
RELATIONS: dict[DataType, tuple[str, ...]] = {
    "text": (*_EQUALITY, "contains", "not_contains", "starts_with", "ends_with"),
    "number": (*_EQUALITY, *_ORDERED),
    "duration": (*_EQUALITY, *_ORDERED),
    "date": (*_EQUALITY, *_ORDERED, *_RELATIVE),
    "date_time": (*_EQUALITY, *_ORDERED, *_RELATIVE),
    "checkbox": ("is", "is_not"),
    "status_list": _EQUALITY,
    "list": _EQUALITY,
    "entity": (*_EQUALITY, *_LINK),
    "multi_entity": (*_EQUALITY, *_LINK),
    "summary": (),
}
NEGATIVE = frozenset(
    {"is_not", "not_in", "not_contains", "type_is_not", "name_not_contains", "not_between"}
    | {"not_in_last", "not_in_next"}
)
_UNITS = {
    "MINUTE": timedelta(minutes=1),
    "HOUR": timedelta(hours=1),
    "DAY": timedelta(days=1),
    "WEEK": timedelta(weeks=1),
    "MONTH": timedelta(days=30),
    "YEAR": timedelta(days=365),
}


@dataclass(frozen=True, slots=True)
class Hint:
    """A top-level AND condition the store can answer from an index instead of a scan."""

    updated_after: datetime | None = None
    ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class _Path:
    text: str
    field: FieldDef
    getter: Callable[[Record], list[Any]]
    many: bool  # the value is a list of candidates (multi-entity field or dotted path)


class FilterCompiler:
    """Turns a request's `filters` into a predicate over one entity type's records."""

    def __init__(self, store: Store, entity: EntityDef, now: datetime, verb: str = "read") -> None:
        self.store, self.entity, self.now, self.verb = store, entity, now, verb

    # -- structure ------------------------------------------------------------------------
    def compile_array(self, filters: Any) -> tuple[Predicate, Hint | None]:
        """`api3_array`: a list of triples, implicitly ANDed."""
        if not isinstance(filters, list):
            raise SgError(400, "Query is not an Array")
        return self._and(filters, top=True)

    def compile_hash(self, filters: Any) -> tuple[Predicate, Hint | None]:
        """`api3_hash`: `{"logical_operator", "conditions"}`, nestable."""
        if not isinstance(filters, dict):
            raise SgError(400, "Query is not an Hash")
        return self._group(filters, top=True)

    def compile_simple(self, pairs: Sequence[tuple[str, str]]) -> tuple[Predicate, Hint | None]:
        """`filter[field]=value` query params: equality, a comma meaning `in`."""
        triples: list[list[Any]] = []
        for path, raw in pairs:
            values = raw.split(",")
            triples.append([path, "in", values] if len(values) > 1 else [path, "is", raw])
        return self._and(triples, top=True, from_query=True)

    def _group(self, group: dict[str, Any], top: bool = False) -> tuple[Predicate, Hint | None]:
        if "logical_operator" not in group:
            raise SgError(400, "Missing logical operator")
        if "conditions" not in group:
            raise SgError(400, "Missing conditions parameter")
        operator, conditions = group["logical_operator"], group["conditions"]
        if operator not in ("and", "or"):
            raise SgError(400, f"Invalid logical operator: {operator}")
        if not isinstance(conditions, list):
            raise SgError(400, "Invalid condition")
        if operator == "and":
            return self._and(conditions, top=top)
        parts = [self._node(c) for c in conditions]
        return (lambda r: any(p(r) for p in parts)) if parts else (lambda _r: True), None

    def _node(self, node: Any) -> Predicate:
        if isinstance(node, dict):
            return self._group(node)[0]
        return self._condition(node)[0]

    def _and(
        self, conditions: list[Any], *, top: bool, from_query: bool = False
    ) -> tuple[Predicate, Hint | None]:
        parts: list[Predicate] = []
        hint: Hint | None = None
        for node in conditions:
            if isinstance(node, dict) and not from_query:
                parts.append(self._group(node)[0])
                continue
            predicate, node_hint = self._condition(node, from_query=from_query)
            parts.append(predicate)
            hint = hint or (node_hint if top else None)
        if not parts:
            return (lambda _r: True), None
        if len(parts) == 1:
            return parts[0], hint
        return (lambda r: all(p(r) for p in parts)), hint

    # -- one condition --------------------------------------------------------------------
    def _condition(self, node: Any, *, from_query: bool = False) -> tuple[Predicate, Hint | None]:
        if not isinstance(node, list) or len(node) != 3 or not isinstance(node[0], str):
            raise SgError(400, "Invalid condition", source={"filters": node})
        path_text, relation, value = node
        path = self._path(path_text, relation, value)
        f = path.field
        if f.data_type == "summary":
            raise self._error(
                f"{path_text}'s '{f.data_type}' data type cannot be used in a filter."
            )
        if relation not in RELATIONS[f.data_type]:
            raise SgError(
                400,
                f"API {self.verb}() {self.entity.type}.{path_text}'s '{f.data_type}' data type "
                f"doesn't support '{relation}' 'relation'",
                source={
                    f"{self.entity.type}.{path_text}": "Valid relations: "
                    + ", ".join(RELATIONS[f.data_type])
                },
            )
        test = self._test(path, relation, value, from_query)
        negative = relation in NEGATIVE
        getter = path.getter
        if path.many:

            def predicate(record: Record) -> bool:
                values = getter(record)
                if not values:
                    return test(None)
                return all(map(test, values)) if negative else any(map(test, values))

        else:

            def predicate(record: Record) -> bool:
                return test(getter(record)[0])

        return predicate, self._hint(path_text, relation, value)

    @staticmethod
    def _hint(path: str, relation: str, value: Any) -> Hint | None:
        if path == "updated_at" and relation == "greater_than" and isinstance(value, str):
            return Hint(updated_after=parse_datetime(value))
        if path == "id" and relation == "is" and isinstance(value, int):
            return Hint(ids=(value,))
        if (
            path == "id"
            and relation == "in"
            and isinstance(value, list)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            return Hint(ids=tuple(value))
        return None

    def _path(self, text: str, relation: str, value: Any) -> _Path:
        store, parts = self.store, text.split(".")
        entity = self.entity
        first = entity.by_name.get(parts[0])
        if first is None or len(parts) % 2 == 0:
            raise self._missing(text, relation, value)
        if len(parts) == 1:
            many = first.data_type == "multi_entity"
            if many:
                return _Path(text, first, lambda r: list(store.value(entity, r, first)), True)
            if first.stored:
                slot = entity.index[first.name]
                return _Path(text, first, lambda r: [r.values[slot]], False)
            return _Path(text, first, lambda r: [store.value(entity, r, first)], False)
        if len(parts) == 3 and parts[2] == "id" and first.data_type == "entity":
            # `project.Project.id`: answered from the link itself, the hot path of every sync.
            target_type = parts[1]
            if target_type not in store.schema.entities:
                raise self._missing(text, relation, value)
            id_field = store.schema.entities[target_type].by_name["id"]

            def link_id(record: Record) -> list[Any]:
                link = store.value(entity, record, first)
                return [link[1]] if link is not None and link[0] == target_type else []

            return _Path(text, id_field, link_id, True)
        hops: list[tuple[FieldDef, str]] = []
        link = first
        for i in range(1, len(parts), 2):
            target = store.schema.entities.get(parts[i])
            if link.data_type not in LINK_TYPES or target is None:
                raise self._missing(text, relation, value)
            hops.append((link, target.type))
            nxt = target.by_name.get(parts[i + 1])
            if nxt is None:
                raise self._missing(text, relation, value)
            link = nxt
        final = link

        def getter(record: Record) -> list[Any]:
            rows: list[tuple[EntityDef, Record]] = [(entity, record)]
            for via, target_type in hops:
                target_def = store.schema.entities[target_type]
                found: list[tuple[EntityDef, Record]] = []
                for owner_entity, row in rows:
                    raw = store.value(owner_entity, row, via)
                    links = raw if via.data_type == "multi_entity" else ([raw] if raw else [])
                    for link_type, link_id in links:
                        target_row = (
                            store.live(link_type, link_id) if link_type == target_type else None
                        )
                        if target_row is not None:
                            found.append((target_def, target_row))
                rows = found
            values: list[Any] = []
            for row_entity, row in rows:
                raw = store.value(row_entity, row, final)
                values.extend(raw if final.data_type == "multi_entity" else [raw])
            return values

        return _Path(text, final, getter, True)

    # -- values ---------------------------------------------------------------------------
    def _test(self, path: _Path, relation: str, value: Any, from_query: bool) -> Test:
        f = path.field
        if relation in ("in", "not_in"):
            items = value if isinstance(value, list) else [value]
            tests = [self._equals(path, v, from_query) for v in items]
            if relation == "in":
                return lambda v: any(t(v) for t in tests)
            return lambda v: not any(t(v) for t in tests)
        if relation in ("is", "is_not"):
            equal = self._equals(path, value, from_query)
            return equal if relation == "is" else (lambda v: not equal(v))
        if f.data_type == "text":
            return self._text_test(path, relation, value)
        if f.data_type in LINK_TYPES:
            return self._link_test(path, relation, value)
        if relation in _RELATIVE:
            return self._relative_test(path, relation, value)
        if relation in ("between", "not_between"):
            if not isinstance(value, list) or len(value) != 2:
                raise self._error(f"{path.text} expects a 2-element array: {json.dumps(value)}")
            low, high = (self._scalar(path, v, False) for v in value)
            if low is None or high is None:
                return lambda _v: relation == "not_between"
            inside: Test = lambda v: v is not None and low <= v <= high  # noqa: E731
            return inside if relation == "between" else (lambda v: not inside(v))
        bound = self._scalar(path, value, False)
        if relation == "less_than":
            return lambda v: v is not None and bound is not None and v < bound
        return lambda v: v is not None and bound is not None and v > bound

    def _equals(self, path: _Path, value: Any, from_query: bool) -> Test:
        f = path.field
        if f.data_type in LINK_TYPES:
            if value is None:
                return lambda v: v is None
            if from_query or not isinstance(value, dict) or "type" not in value:
                raise self._error(f"{path.text} invalid/missing entity hash string 'type'")
            wanted = (value["type"], value.get("id"))
            return lambda v: v == wanted
        if f.data_type in ("text", "list"):
            if value is None or value == "":
                return lambda v: v is None
            if not isinstance(value, str):
                raise self._type_error(path, value, "String, NilClass")
            folded = value.casefold()
            return lambda v: v is not None and v.casefold() == folded
        wanted_scalar = self._scalar(path, value, from_query)
        return lambda v: v == wanted_scalar

    def _scalar(self, path: _Path, value: Any, from_query: bool) -> Any:
        dt = path.field.data_type
        if value is None:
            return None
        try:
            if dt in ("number", "duration"):
                if isinstance(value, bool) or (isinstance(value, float) and dt == "number"):
                    raise self._type_error(path, value, "Integer, NilClass")
                return int(value)
            if dt == "date":
                return parse_date(value)
            if dt == "date_time":
                return parse_datetime(value)
            if dt == "checkbox":
                if isinstance(value, str) and (from_query or value in ("true", "false")):
                    return value == "true"
                if not isinstance(value, bool):
                    raise self._type_error(path, value, "String, FalseClass, TrueClass")
                return value
        except (TypeError, ValueError) as exc:
            raise self._error(f"{path.text} invalid value {json.dumps(value)}") from exc
        return value

    def _text_test(self, path: _Path, relation: str, value: Any) -> Test:
        if not isinstance(value, str):
            raise self._type_error(path, value, "String")
        needle = value.casefold()
        positive: Test
        if relation in ("contains", "not_contains"):
            positive = lambda v: v is not None and needle in v.casefold()  # noqa: E731
        elif relation == "starts_with":
            positive = lambda v: v is not None and v.casefold().startswith(needle)  # noqa: E731
        else:
            positive = lambda v: v is not None and v.casefold().endswith(needle)  # noqa: E731
        return (lambda v: not positive(v)) if relation == "not_contains" else positive

    def _link_test(self, path: _Path, relation: str, value: Any) -> Test:
        if not isinstance(value, str):
            raise self._type_error(path, value, "String")
        if relation in ("type_is", "type_is_not"):
            same: Test = lambda v: v is not None and v[0] == value  # noqa: E731
            return same if relation == "type_is" else (lambda v: not same(v))
        needle, store = value.casefold(), self.store

        def name(v: Any) -> str:
            return (store.link_name(v) or "").casefold() if v is not None else ""

        if relation == "name_is":
            return lambda v: v is not None and name(v) == needle
        found: Test = lambda v: v is not None and needle in name(v)  # noqa: E731
        return found if relation == "name_contains" else (lambda v: not found(v))

    def _relative_test(self, path: _Path, relation: str, value: Any) -> Test:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not isinstance(value[0], int)
            or value[1] not in _UNITS
        ):
            raise self._error(f"{path.text} expects a 2-element array: {json.dumps(value)}")
        span = _UNITS[value[1]] * value[0]
        now = self.now
        low, high = (now - span, now) if relation.endswith("last") else (now, now + span)
        if path.field.data_type == "date":
            low_d: date = low.date()
            high_d: date = high.date()
            inside: Test = lambda v: v is not None and low_d <= v <= high_d  # noqa: E731
        else:
            inside = lambda v: v is not None and low <= v <= high  # noqa: E731
        return (lambda v: not inside(v)) if relation.startswith("not_") else inside

    # -- errors ---------------------------------------------------------------------------
    def _error(self, text: str) -> SgError:
        return SgError(400, f"API {self.verb}() {self.entity.type}.{text}")

    def _missing(self, path: str, relation: str, value: Any) -> SgError:
        described = json.dumps({"path": path, "relation": relation, "values": [value]})
        key = f"{self.entity.type}.{path}"
        return SgError(
            400,
            f"API {self.verb}() {key} doesn't exist.",
            source={key: f" does not exist. Value: {described}"},
        )

    def _type_error(self, path: _Path, value: Any, expected: str) -> SgError:
        return self._error(
            f"{path.text} expected [{expected}] data type(s) but got {ruby_class(value)}: "
            f"{json.dumps(value)}"
        )
