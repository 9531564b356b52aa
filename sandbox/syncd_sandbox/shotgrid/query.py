"""Running a read: candidate rows, predicate, sort, page; and the `links` a page carries.

Measured behaviour kept here: rows come back id ascending unless sorted, id ascending is the
tiebreak of every sort; an unknown sort field is a silent no-op while sort *syntax* errors
400; `page[size]` defaults to 500 (the documented maximum, lowered by `knobs.page_size_cap`);
`links.next` is present on every page, even a short or empty last one (probe 006), so a
client must stop on a short or empty page, never on a missing `next`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .errors import SgError
from .filters import Hint, Predicate
from .render import dotted_value
from .schema import EntityDef
from .store import Record, Store

MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class Page:
    """A 1-based page number and the effective page size."""

    number: int
    size: int


def parse_sort(raw: Any) -> list[tuple[str, bool]]:
    """`"-updated_at,id"` to `[("updated_at", True), ("id", False)]`."""
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise SgError(
            400, "Request Parameters invalid.", source={"sort": ["sort array is not valid"]}
        )
    if raw == "":
        raise SgError(400, "Request Parameters invalid.", source={"sort": ["sort must be filled"]})
    keys = raw.split(",")
    if any(not k or " " in k or k.startswith("+") or k == "-" for k in keys):
        raise SgError(
            400, "Request Parameters invalid.", source={"sort": ["sort list is not valid"]}
        )
    return [(k.removeprefix("-"), k.startswith("-")) for k in keys]


def parse_page(size: Any, number: Any, cap: int | None) -> Page:
    """Validate `page[size]` / `page[number]`; the size is clamped to the server's maximum."""

    def whole(value: Any, name: str, default: int) -> int:
        if value is None:
            return default
        try:
            parsed = int(value)
        except (TypeError, ValueError):
            parsed = 0
        if parsed < 1:
            raise SgError(
                400,
                "Request Parameters invalid.",
                source={"page": {name: [f"{name} must be greater than 0"]}},
            )
        return parsed

    limit = min(MAX_PAGE_SIZE, cap) if cap else MAX_PAGE_SIZE
    return Page(whole(number, "number", 1), min(whole(size, "size", MAX_PAGE_SIZE), limit))


def run(
    store: Store,
    entity: EntityDef,
    predicate: Predicate,
    hint: Hint | None,
    sort: list[tuple[str, bool]],
    page: Page,
    retired: bool,
) -> list[Record]:
    """The page of matching records."""
    rows = select(store, entity, predicate, hint, sort, retired)
    start = (page.number - 1) * page.size
    return rows[start : start + page.size]


def select(
    store: Store,
    entity: EntityDef,
    predicate: Predicate,
    hint: Hint | None,
    sort: list[tuple[str, bool]],
    retired: bool,
) -> list[Record]:
    """Every matching record, sorted (the api3 protocol also needs the total)."""
    table = store.tables[entity.type]
    candidates: Iterable[Record]
    if hint is not None and hint.ids is not None:
        candidates = store.rows(entity.type, sorted(set(hint.ids)))
    elif hint is not None and hint.updated_after is not None:
        candidates = store.rows(entity.type, table.updated_after(hint.updated_after))
    else:
        candidates = table.records.values()
    rows = [r for r in candidates if r.retired is retired and predicate(r)]
    rows.sort(key=lambda r: r.id)
    for path, descending in reversed(sort):
        if path == "id":
            rows.sort(key=lambda r: r.id, reverse=descending)
        elif _sortable(entity, path):
            rows.sort(key=_sort_by(store, entity, path), reverse=descending)
    return rows


def _sortable(entity: EntityDef, path: str) -> bool:
    f = entity.by_name.get(path.split(".")[0])
    return f is not None and f.data_type not in ("multi_entity", "summary")


def _sort_by(store: Store, entity: EntityDef, path: str) -> Callable[[Record], tuple[bool, Any]]:
    f = entity.by_name.get(path)
    if f is not None and f.stored and f.data_type not in ("entity", "text"):
        slot = entity.index[path]

        def plain(record: Record) -> tuple[bool, Any]:
            value = record.values[slot]
            return (value is None, 0 if value is None else value)

        return plain
    return lambda record: _sort_key(store, entity, record, path)


def _sort_key(store: Store, entity: EntityDef, record: Record, path: str) -> tuple[bool, Any]:
    if "." in path:
        _, value = dotted_value(store, entity, record, path)
    else:
        f = entity.by_name[path]
        value = store.value(entity, record, f)
        if f.data_type == "entity" and value is not None:
            value = store.link_name(value)
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, str):
        value = value.casefold()
    # Nulls last ascending, first descending, as PostgreSQL orders them.
    return (value is None, 0 if value is None else value)


def page_links(
    path: str,
    raw_query: str,
    params: list[tuple[str, str]],
    page: Page,
) -> dict[str, str]:
    """`self`, `next` (always) and `prev` (after page 1), keeping the other query params."""
    kept = [(k, v) for k, v in params if k not in ("page[number]", "page[size]")]

    def at(number: int) -> str:
        query = sorted([*kept, ("page[number]", str(number)), ("page[size]", str(page.size))])
        return f"{path}?{urlencode(query)}"

    links = {"self": f"{path}?{raw_query}" if raw_query else path, "next": at(page.number + 1)}
    if page.number > 1:
        links["prev"] = at(page.number - 1)
    return links
