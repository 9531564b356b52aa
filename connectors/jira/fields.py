"""A site's fields (`GET /rest/api/3/field`): custom fields by name in, by id out. Pure.

Custom field ids (`customfield_10030`) differ from site to site, so mappings address custom
fields by their *names* (`fields."ShotGrid Task"`). The catalog translates a mapping's field
names to the ids Jira wants (to ask for them, and to write them) and renames the ids of the
issues Jira sends back to those names. A name two custom fields share is ambiguous: it is
never translated (address such a field by its id), and a warning says so.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field: its id, name, and the JSON type Jira gives its values."""

    id: str
    name: str
    custom: bool
    type: str | None  # schema.type: string, number, date, user, option, array, status...
    items: str | None  # schema.items for arrays: string, option, user, json...
    # Rich text: wiki markup in API v2 (and webhooks), a document (ADF) in v3.
    rich: bool = False


class UnknownField(ValueError):
    """A payload names a field the site does not have (by id or by custom field name)."""


RICH_SYSTEM_FIELDS = frozenset({"description", "environment"})


class FieldCatalog:
    """Name <-> id translation for one site's fields."""

    def __init__(self, fields: Iterable[Mapping[str, Any]]) -> None:
        self.by_id: dict[str, FieldInfo] = {}
        named: dict[str, list[str]] = defaultdict(list)
        for raw in fields:
            schema = raw.get("schema") or {}
            info = FieldInfo(
                id=str(raw["id"]),
                name=str(raw.get("name") or raw["id"]),
                custom=bool(raw.get("custom")),
                type=schema.get("type"),
                items=schema.get("items"),
                rich=schema.get("system") in RICH_SYSTEM_FIELDS
                or str(schema.get("custom", "")).endswith(":textarea"),
            )
            self.by_id[info.id] = info
            if info.custom:
                named[info.name].append(info.id)
        # A name that is also a field id (a custom field called "summary") stays an id.
        self._name_to_id = {
            name: ids[0] for name, ids in named.items() if len(ids) == 1 and name not in self.by_id
        }
        self._id_to_name = {field_id: name for name, field_id in self._name_to_id.items()}
        self.ambiguous = {name: ids for name, ids in named.items() if len(ids) > 1}
        for name, ids in self.ambiguous.items():
            log.warning(
                "Jira has %d custom fields named %r (%s): address them by id in mappings",
                len(ids),
                name,
                ", ".join(ids),
            )

    def resolve(self, name_or_id: str) -> str | None:
        """The field id for a field id or a custom field's (unambiguous) name; None if unknown."""
        if name_or_id in self.by_id:
            return name_or_id
        return self._name_to_id.get(name_or_id)

    def request(self, names: Iterable[str]) -> tuple[list[str], list[str]]:
        """Field ids to ask Jira for, and the names that match no field of the site."""
        ids: list[str] = []
        unknown: list[str] = []
        for name in names:
            field_id = self.resolve(name)
            if field_id is None:
                unknown.append(name)
            elif field_id not in ids:
                ids.append(field_id)
        return ids, unknown

    def present(
        self, fields: Mapping[str, Any], keep_ids: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """An issue's `fields` with custom field ids renamed to their names.

        Ids in `keep_ids` (asked for by id) stay as they are.
        """
        return {
            (key if key in keep_ids else self._id_to_name.get(key, key)): value
            for key, value in fields.items()
        }

    def outgoing(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """A payload's `fields` by id, with values in the shapes Jira takes for each type.

        Raises UnknownField naming every field the site does not have.
        """
        out: dict[str, Any] = {}
        unknown: list[str] = []
        for name, value in fields.items():
            field_id = self.resolve(name)
            if field_id is None:
                unknown.append(name)
                continue
            out[field_id] = shape(self.by_id[field_id], plain(value))
        if unknown:
            raise UnknownField(
                f"no field {', '.join(repr(n) for n in unknown)} on this Jira site "
                "(fields are matched by id, custom fields by name)"
            )
        return out

    def name_of(self, field_id: str) -> str:
        """A field's name for messages (its id when unknown)."""
        info = self.by_id.get(field_id)
        return info.name if info else field_id


def shape(info: FieldInfo, value: Any) -> Any:
    """A value as Jira's edit takes it for a field of this type.

    Mappings give people as account ids and options as their text (or already as objects):
    users become `{"accountId": ...}`, options `{"value": ...}`; lists are shaped per item.
    """
    if value is None:
        return None
    if info.type == "user":
        return value if isinstance(value, Mapping) else {"accountId": str(value)}
    if info.type == "option":
        return value if isinstance(value, Mapping) else {"value": str(value)}
    if info.type == "array" and isinstance(value, Sequence) and not isinstance(value, str):
        item = FieldInfo(info.id, info.name, info.custom, info.items, None)
        if info.items in ("user", "option"):
            return [shape(item, v) for v in value]
    return value


def plain(value: Any) -> Any:
    """A value JSON can carry: Decimals become numbers, dates ISO strings, tuples lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def field_names(paths: Sequence[tuple[str, ...]]) -> list[str]:
    """The `fields.<name>` a mapping reads, in order (other paths are top-level: id, key)."""
    names: list[str] = []
    for path in paths:
        if len(path) >= 2 and path[0] == "fields" and path[1] not in names:
            names.append(path[1])
    return names
