"""`summarize`: totals over a filtered set, optionally grouped, as the client documents them.

Reply `{"summaries": {field: value}, "groups": [{"group_name", "group_value", "summaries",
"groups"?}]}` (shotgun_api3 `Shotgun.summarize` docstring). Grouping by an entity field gives
the link, with `"valid": "valid"`, as `group_value` and its display name as `group_name`.
The sandbox groups `exact` values only and summarizes the types below; any other grouping or
summary type is a fault naming it, never a silent wrong figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .api3_protocol import Api3Fault
from .schema import EntityDef, FieldDef
from .store import Record, Store
from .values import wire

SUMMARY_TYPES = (
    "record_count",
    "count",
    "sum",
    "average",
    "maximum",
    "minimum",
    "earliest",
    "latest",
    "checked",
    "unchecked",
)
GROUPING_TYPES = ("exact",)
_NUMERIC = ("number", "duration")


class Summarizer:
    """Computes one `summarize` reply over already-filtered records."""

    def __init__(self, store: Store, entity: EntityDef) -> None:
        self.store, self.entity = store, entity

    def summarize(self, rows: Sequence[Record], summaries: Any, grouping: Any) -> dict[str, Any]:
        """The reply body for `rows`."""
        specs = [self._summary_spec(s, i) for i, s in enumerate(_list(summaries, "summaries"))]
        levels = [self._group_spec(g, i) for i, g in enumerate(_list(grouping or [], "grouping"))]
        return {"summaries": self._totals(rows, specs), "groups": self._groups(rows, specs, levels)}

    # -- specs ----------------------------------------------------------------------------
    def _field(self, name: Any, where: str) -> FieldDef:
        f = self.entity.by_name.get(name) if isinstance(name, str) else None
        if f is None:
            raise Api3Fault(f"API summarize() {self.entity.type}.{name} doesn't exist ({where}).")
        return f

    def _summary_spec(self, spec: Any, index: int) -> tuple[FieldDef, str]:
        where = f"summaries[{index}]"
        if not isinstance(spec, dict):
            raise Api3Fault(f"API summarize() {where} must be a hash with field and type.")
        f, kind = self._field(spec.get("field"), where), spec.get("type")
        if kind not in SUMMARY_TYPES:
            raise Api3Fault(
                f"API summarize() {where}: summary type {kind!r} is not supported by the "
                f"sandbox (supported: {', '.join(SUMMARY_TYPES)})."
            )
        if kind in ("sum", "average") and f.data_type not in _NUMERIC:
            raise Api3Fault(
                f"API summarize() {where}: {kind} needs a number field, "
                f"{self.entity.type}.{f.name} is {f.data_type}."
            )
        return f, kind

    def _group_spec(self, spec: Any, index: int) -> tuple[FieldDef, bool]:
        where = f"grouping[{index}]"
        if not isinstance(spec, dict):
            raise Api3Fault(f"API summarize() {where} must be a hash with field and type.")
        f, kind = self._field(spec.get("field"), where), spec.get("type", "exact")
        if kind not in GROUPING_TYPES or f.data_type in ("multi_entity", "summary"):
            raise Api3Fault(
                f"API summarize() {where}: grouping {kind!r} on {f.data_type} field "
                f"{self.entity.type}.{f.name} is not supported by the sandbox."
            )
        direction = spec.get("direction", "asc")
        if direction not in ("asc", "desc"):
            raise Api3Fault(f"API summarize() {where}: direction must be asc or desc.")
        return f, direction == "desc"

    # -- computing ------------------------------------------------------------------------
    def _values(self, rows: Sequence[Record], f: FieldDef) -> list[Any]:
        return [self.store.value(self.entity, r, f) for r in rows]

    def _totals(self, rows: Sequence[Record], specs: list[tuple[FieldDef, str]]) -> dict[str, Any]:
        return {f.name: self._one(rows, f, kind) for f, kind in specs}

    def _one(self, rows: Sequence[Record], f: FieldDef, kind: str) -> Any:
        if kind == "record_count":
            return len(rows)
        values = self._values(rows, f)
        present = [v for v in values if v is not None and v != ()]
        if kind == "count":
            return len(present)
        if kind == "checked":
            return sum(1 for v in values if v is True)
        if kind == "unchecked":
            return sum(1 for v in values if v is not True)
        if kind == "sum":
            return sum(present)
        if kind == "average":
            return sum(present) / len(present) if present else None
        if not present or f.data_type in ("entity", "multi_entity"):
            return None
        pick: Callable[..., Any] = max if kind in ("maximum", "latest") else min
        return wire(self.store, f, pick(present))

    def _groups(
        self,
        rows: Sequence[Record],
        specs: list[tuple[FieldDef, str]],
        levels: list[tuple[FieldDef, bool]],
    ) -> list[dict[str, Any]]:
        if not levels:
            return []
        (f, descending), rest = levels[0], levels[1:]
        buckets: dict[Any, list[Record]] = {}
        for row in rows:
            buckets.setdefault(self.store.value(self.entity, row, f), []).append(row)
        keys = sorted(buckets, key=lambda k: self._order(f, k), reverse=descending)
        groups = []
        for key in keys:
            group: dict[str, Any] = {
                "group_name": self._name(f, key),
                "group_value": self._group_value(f, key),
                "summaries": self._totals(buckets[key], specs),
            }
            if rest:
                group["groups"] = self._groups(buckets[key], specs, rest)
            groups.append(group)
        return groups

    def _order(self, f: FieldDef, key: Any) -> tuple[bool, Any]:
        if key is None:
            return (True, "")
        if f.data_type == "entity":
            return (False, (self.store.link_name(key) or "").casefold())
        return (False, key.casefold() if isinstance(key, str) else key)

    def _name(self, f: FieldDef, key: Any) -> str:
        if key is None:
            return ""
        if f.data_type == "entity":
            return self.store.link_name(key) or ""
        return str(wire(self.store, f, key))

    def _group_value(self, f: FieldDef, key: Any) -> Any:
        value = wire(self.store, f, key)
        if f.data_type == "entity" and isinstance(value, dict):
            value["valid"] = "valid"
        return value


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise Api3Fault(f"API summarize() {name} must be a list.")
    return value
