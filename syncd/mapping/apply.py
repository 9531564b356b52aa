"""Apply a mapping: source record -> record field values (pull), and back (push). Pure.

Pull order per field: read the path -> transforms in order -> value table -> canonical value.
Push runs the same steps backwards. A value that cannot be translated becomes a
`FieldIssue` for that field (flagged on the record); the other fields still sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

from syncd.mapping.paths import MISSING, get_path, parse_path, set_path
from syncd.mapping.spec import EntitySpec, FieldSpec, MappingFile
from syncd.mapping.template import Template, parse_template
from syncd.mapping.transforms import TRANSFORMS, TransformContext, UnknownValue, parse_datetime
from syncd.model import JsonValue, RecordKind, canonical_value


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """A field of a source record that could not be translated, and why."""

    field: str
    value: Any
    reason: str
    unknown: bool  # True: no translation exists (flag it); False: malformed value

    def as_json(self) -> dict[str, JsonValue]:
        """JSON-safe form for storage."""
        return {"value": _jsonable(self.value), "reason": self.reason, "unknown": self.unknown}


@dataclass(frozen=True, slots=True)
class LinkRef:
    """The source record says it is the same work as `external_id` in another connector."""

    connector: str
    entity: str
    external_id: str


@dataclass(slots=True)
class Pulled:
    """A source record translated into record field values."""

    external_id: str
    updated_at: datetime | None
    values: dict[str, JsonValue] = field(default_factory=dict)
    issues: list[FieldIssue] = field(default_factory=list)
    links: list[LinkRef] = field(default_factory=list)


def _jsonable(value: Any) -> JsonValue:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _display(value: Any) -> Any:
    """A source value as a person would name it (a user object by its name and id)."""
    if isinstance(value, Mapping):
        name = value.get("displayName") or value.get("name") or value.get("value")
        ident = value.get("accountId") or value.get("id") or value.get("emailAddress")
        if name and ident:
            return f"{name} ({ident})"
        return name or ident or value
    if isinstance(value, list | tuple):
        return [_display(v) for v in value]
    return value


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# Source values whose translation is a function of the value (and the people directory):
# immutable, and equal only when the same value (keys carry the type: 1, 1.0 and True differ).
_SCALARS = frozenset({str, int, float, bool, type(None)})
_MEMO_LIMIT = 50_000


class _Context(NamedTuple):
    context: TransformContext
    people_from: Mapping[str, str]  # the directory it was made for (kept: ids stay unique)


class EntityMapping:
    """A compiled entity section of a mapping file, ready to translate records both ways."""

    def __init__(self, mapping: MappingFile, entity: str) -> None:
        self.mapping, self.entity = mapping, entity
        self.spec: EntitySpec = mapping.entities[entity]
        self.kind: RecordKind = self.spec.kind
        self._key = parse_path(self.spec.key)
        self._updated = parse_path(self.spec.updated_at) if self.spec.updated_at else None
        self._paths = {name: parse_path(f.path) for name, f in self.spec.fields.items()}
        self._push_paths = {
            name: parse_path(f.push_path if f.push_path is not None else f.path)
            for name, f in self.spec.fields.items()
        }
        self._links = [(parse_path(link.path), link) for link in self.spec.links]
        self._templates: dict[str, Template] = {
            name: parse_template(f.template)
            for name, f in self.spec.fields.items()
            if f.template is not None
        }
        self._contexts: dict[tuple[int, int], _Context] = {}
        # Translations of scalar source values, for one people directory: sources repeat
        # values (statuses, departments, people, dates) record after record.
        self._memo: tuple[Mapping[str, str] | None, dict[tuple[str, type, Any], JsonValue]] = (
            None,
            {},
        )

    @property
    def connector(self) -> str:
        """The connector this mapping is for."""
        return self.mapping.connector

    def pull_fields(self) -> list[str]:
        """Record fields this source provides."""
        return [f.field or name for name, f in self.spec.fields.items() if f.pulls]

    def push_fields(self) -> list[str]:
        """Record fields written to this source."""
        return sorted(self.pushed)

    @cached_property
    def pulled(self) -> frozenset[str]:
        """Record fields this source provides, as a set (asked once per record and link)."""
        return frozenset(self.pull_fields())

    @cached_property
    def pushed(self) -> frozenset[str]:
        """Record fields written to this source, as a set."""
        return frozenset(f.field or name for name, f in self.spec.fields.items() if f.pushes)

    def field_spec(self, record_field: str) -> FieldSpec | None:
        """The spec that pulls a record field from this source (None if it doesn't)."""
        for name, spec in self.spec.fields.items():
            if (spec.field or name) == record_field and spec.pulls:
                return spec
        for name, spec in self.spec.fields.items():
            if (spec.field or name) == record_field:
                return spec
        return None

    def source_paths(self) -> list[tuple[str, ...]]:
        """Every source path this mapping reads (for connectors that fetch only what's mapped)."""
        read = [self._paths[key] for key, spec in self.spec.fields.items() if spec.pulls]
        slots = [slot for t in self._templates.values() for slot in t.slots]
        paths = [self._key, *read, *slots, *(p for p, _ in self._links)]
        return paths + ([self._updated] if self._updated else [])

    def external_id(self, data: Mapping[str, Any]) -> str:
        """The source record's own id."""
        value = get_path(data, self._key)
        if value is MISSING or _is_blank(value):
            raise ValueError(f"source record has no key at {self.spec.key!r}")
        return str(value).strip()

    def _context(self, spec: FieldSpec, people: Mapping[str, str]) -> TransformContext:
        # One context per field and people directory (a page's records share both).
        key = (id(spec), id(people))
        ctx = self._contexts.get(key)
        if ctx is None or ctx.people_from is not people:
            if len(self._contexts) > 256:
                self._contexts.clear()
            merged = people
            if "person" in spec.transforms() and spec.values:
                # A user table overrides what the tool tells about people (hidden emails).
                merged = {**people, **self.mapping.values[spec.values].map}
            ctx = _Context(TransformContext(self.connector, spec, merged), people)
            self._contexts[key] = ctx
        return ctx.context

    def pull(self, data: Mapping[str, Any], people: Mapping[str, str] | None = None) -> Pulled:
        """Translate one source record's pull fields into canonical record values."""
        people = people or {}
        memo = self._memo_for(people)
        updated = get_path(data, self._updated) if self._updated else None
        pulled = Pulled(
            external_id=self.external_id(data),
            updated_at=parse_datetime(updated) if updated not in (None, MISSING) else None,
        )
        for key, spec in self.spec.fields.items():
            if not spec.pulls:
                continue
            name = spec.field or key
            template = self._templates.get(key)
            try:
                own = get_path(data, self._paths[key])
                raw = own if template is None else template.compose(data)
            except ValueError as exc:
                pulled.issues.append(FieldIssue(name, _display(own), str(exc), unknown=False))
                continue
            if raw is MISSING:
                continue  # not sent (not requested, or no such column): not a change
            memo_key = (key, type(raw), raw) if type(raw) in _SCALARS else None
            if memo_key is not None and memo_key in memo:
                pulled.values[name] = memo[memo_key]
                continue
            try:
                value = self._pull_value(name, spec, raw, people)
                pulled.values[name] = value
                if memo_key is not None and type(value) in _SCALARS:
                    memo[memo_key] = value
            except UnknownValue as exc:
                pulled.issues.append(FieldIssue(name, _display(raw), str(exc), unknown=True))
            except (ValueError, TypeError, ArithmeticError) as exc:
                pulled.issues.append(FieldIssue(name, _display(raw), str(exc), unknown=False))
        for path, link in self._links:
            ref = get_path(data, path)
            if ref is not MISSING and not _is_blank(ref):
                if isinstance(ref, Mapping):
                    ref = ref.get("id")
                if isinstance(ref, float) and ref.is_integer():
                    ref = int(ref)  # Jira number fields hold ids as 5003.0
                pulled.links.append(LinkRef(link.connector, link.entity, str(ref).strip()))
        return pulled

    def _memo_for(self, people: Mapping[str, str]) -> dict[tuple[str, type, Any], JsonValue]:
        # Swapped whole (never cleared in place): a thread translating for another
        # directory keeps the memo that matches its own.
        memo_people, memo = self._memo
        if memo_people is not people:
            if memo_people != people or len(memo) > _MEMO_LIMIT:
                memo = {}
            self._memo = (people, memo)
        return memo

    def _pull_value(
        self, name: str, spec: FieldSpec, raw: Any, people: Mapping[str, str]
    ) -> JsonValue:
        value = raw
        if _is_blank(value) and spec.default is not None:
            value = spec.default
        ctx = self._context(spec, people)
        for transform in spec.transforms():
            value = TRANSFORMS[transform].pull(value, ctx)
        if spec.values and "person" not in spec.transforms() and not _is_blank(value):
            table = self.mapping.values[spec.values]
            translated = table.lookup(str(value))
            if translated is None:
                raise UnknownValue(f"{value!r} is not in the value table {spec.values!r}")
            value = translated
        if isinstance(value, str) and not value.strip() and name != "title":
            value = None
        return canonical_value(self.kind, name, value)

    def push(
        self,
        values: Mapping[str, JsonValue],
        people: Mapping[str, str] | None = None,
        current: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any], list[FieldIssue]]:
        """Translate record values into a nested native payload for the connector to write.

        `current`: what the source record holds now (as last read), when known; a template's
        parts that are not written must match it.
        """
        people = people or {}
        native: dict[str, Any] = {}
        issues: list[FieldIssue] = []
        for key, spec in self.spec.fields.items():
            name = spec.field or key
            if not spec.pushes or name not in values:
                continue
            value = values[name]
            try:
                native_value = self._push_value(spec, value, people)
                template = self._templates.get(key)
                if template is not None:
                    native_value = self._template_part(key, template, native_value, current)
                set_path(native, self._push_paths[key], native_value)
            except UnknownValue as exc:
                issues.append(FieldIssue(name, value, str(exc), unknown=True))
            except (ValueError, TypeError, ArithmeticError) as exc:
                issues.append(FieldIssue(name, value, str(exc), unknown=False))
        return native, issues

    def _template_part(
        self, key: str, template: Template, value: Any, current: Mapping[str, Any] | None
    ) -> Any:
        """The part of a templated value that is written; the other parts must be what the
        source record holds (they are read there, never written)."""
        own = self._paths[key]
        parts = template.split(value)
        for path, text in parts.items():
            if path == own or current is None:
                continue
            held = get_path(current, path)
            if held is not MISSING and held is not None and str(held).strip() != text:
                raise ValueError(
                    f"{value!r} names {text!r} where {self.connector} holds {held!r} at "
                    f"{'.'.join(path)}; only {'.'.join(own)} is written"
                )
        return parts[own]

    def _push_value(self, spec: FieldSpec, value: Any, people: Mapping[str, str]) -> Any:
        ctx = self._context(spec, people)
        if spec.values and "person" not in spec.transforms() and value is not None:
            table = self.mapping.values[spec.values]
            reverse = table.reverse(str(value))
            if reverse is None:
                raise UnknownValue(f"{value!r} has no source value in table {spec.values!r}")
            value = reverse
        for transform in reversed(spec.transforms()):
            push = TRANSFORMS[transform].push
            if push is None:
                raise ValueError(f"transform {transform!r} cannot be pushed")
            value = push(value, ctx)
        return value
