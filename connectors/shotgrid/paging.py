"""Pull cursors, keyset-paged `_search` bodies, and records in the shape mappings read.

Why keyset paging: ShotGrid pages by page number (offsets). A record edited during a pull
moves to the end of an `updated_at` ordering, so with offsets every record behind it slides
one place forward and the next page skips one. Instead each page is page 1 of a fresh query
for the rows after the last one seen, `(updated_at, id) > (T, last_id)`, written as
`updated_at > T - 1s AND (updated_at > T OR id > last_id)` (`updated_at` has one second
precision, so `> T - 1s` means `>= T`; the first clause also lets the site use its
`updated_at` index). An edited record then reappears once more at the end, never skipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

ONE_SECOND = timedelta(seconds=1)

# What the shipped mapping (mappings/shotgrid.toml) reads, asked for when a pull names no
# fields. `updated_at` is always asked for: it is the cursor.
DEFAULT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "Task": (
        "content",
        "sg_status_list",
        "task_assignees",
        "step",
        "entity",
        "sg_milestone",
        "due_date",
        "est_in_mins",
        "time_logs_sum",
        "sg_jira_key",
        "sg_jira_status",
    ),
    "Asset": ("code", "sg_asset_type", "sg_status_list", "description"),
    "Shot": ("code", "sg_status_list"),
}
ALWAYS_PRESENT = frozenset({"id", "type"})


def format_time(moment: datetime) -> str:
    """A datetime as ShotGrid writes them: `2026-01-31T09:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """ShotGrid's `...Z` datetime as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the last pull got to: the newest `updated_at` seen, of live and of retired rows.

    Retired (trashed) rows are read in a second sweep after the live ones, so each sweep has
    its own watermark. Both only ever move forward.
    """

    updated: datetime | None = None
    retired: datetime | None = None

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        """The cursor a pull returned (None: pull everything)."""
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            return cls(
                parse_time(raw["updated"]) if raw.get("updated") else None,
                parse_time(raw["retired"]) if raw.get("retired") else None,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ValueError(f"not a ShotGrid cursor: {text!r}") from None

    def encode(self) -> str:
        """A JSON string (opaque to the engine)."""
        return json.dumps(
            {
                "updated": format_time(self.updated) if self.updated else None,
                "retired": format_time(self.retired) if self.retired else None,
            },
            sort_keys=True,
        )

    def advanced(
        self, *, updated: datetime | None = None, retired: datetime | None = None
    ) -> Cursor:
        """This cursor moved forward to what a page showed (never backward)."""
        return replace(
            self, updated=_later(self.updated, updated), retired=_later(self.retired, retired)
        )


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def field_list(entity: str, paths: Sequence[tuple[str, ...]]) -> str:
    """The `fields` of a `_search`: the first segment of each mapped path, plus `updated_at`."""
    names = [p[0] for p in paths if p] if paths else list(DEFAULT_FIELDS.get(entity, ("*",)))
    if "*" in names:
        return "*"
    wanted = [n for n in dict.fromkeys([*names, "updated_at"]) if n not in ALWAYS_PRESENT]
    return ",".join(wanted)


def search_body(
    project_id: int,
    *,
    fields: str,
    size: int,
    since: datetime | None = None,
    after: tuple[datetime, int] | None = None,
    retired: bool = False,
) -> dict[str, Any]:
    """One keyset page of a project's rows ordered by `(updated_at, id)`.

    `since`: only rows updated after it. `after`: only rows after that `(updated_at, id)`.
    """
    conditions: list[Any] = [["project.Project.id", "is", project_id]]
    if after is not None:
        moment, last_id = after
        conditions.append(["updated_at", "greater_than", format_time(moment - ONE_SECOND)])
        conditions.append(
            {
                "logical_operator": "or",
                "conditions": [
                    ["updated_at", "greater_than", format_time(moment)],
                    ["id", "greater_than", last_id],
                ],
            }
        )
    elif since is not None:
        conditions.append(["updated_at", "greater_than", format_time(since)])
    body: dict[str, Any] = {
        "filters": {"logical_operator": "and", "conditions": conditions},
        "fields": fields,
        "sort": "updated_at,id",
        "page": {"size": size, "number": 1},
    }
    if retired:
        body["options"] = {"return_only": "retired"}
    return body


def id_body(
    filters: list[Any], *, fields: str, size: int, after_id: int | None, retired: bool = False
) -> dict[str, Any]:
    """One keyset page of rows matching `filters`, ordered by id."""
    conditions = [*filters, *([["id", "greater_than", after_id]] if after_id is not None else [])]
    body: dict[str, Any] = {
        "filters": {"logical_operator": "and", "conditions": conditions},
        "fields": fields,
        "sort": "id",
        "page": {"size": size, "number": 1},
    }
    if retired:
        body["options"] = {"return_only": "retired"}
    return body


def served_size(reply: Mapping[str, Any], requested: int) -> int:
    """The page size the site actually served: it may clamp `page[size]` below what was asked.

    `links.next` is present on every page (even a short last one) and carries the effective
    size; a page shorter than that is the last one.
    """
    links = reply.get("links")
    link = links.get("next") if isinstance(links, Mapping) else None
    if isinstance(link, str):
        values = parse_qs(urlsplit(link).query).get("page[size]")
        if values and values[0].isdigit() and int(values[0]) > 0:
            return min(requested, int(values[0]))
    return requested


def row_time(row: Mapping[str, Any]) -> datetime:
    """A row's `updated_at` (always asked for)."""
    attributes = row.get("attributes") or {}
    value = attributes.get("updated_at")
    if not isinstance(value, str):
        raise ValueError(f"{row.get('type')} {row.get('id')} came without updated_at")
    return parse_time(value)


def _link(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {"type": value.get("type"), "id": value.get("id"), "name": value.get("name")}
    if isinstance(value, list):
        return [_link(v) for v in value]
    return value


def flatten(row: Mapping[str, Any]) -> dict[str, Any]:
    """A REST row as mappings read it: `id`, `type`, attributes and links side by side.

    A link is `{"type", "id", "name"}`; a multi-entity link a list of them; unset, null.
    """
    data: dict[str, Any] = {"id": row["id"], "type": row.get("type")}
    data.update(row.get("attributes") or {})
    for name, relationship in (row.get("relationships") or {}).items():
        if isinstance(relationship, Mapping):
            data[name] = _link(relationship.get("data"))
    return data
