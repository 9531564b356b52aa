"""Evaluate parsed JQL against the store, one keyset page at a time.

A page token is the sort key of the last issue served (base64 JSON, bound to the query by a
fingerprint), not an offset: an issue edited while a client pages through `ORDER BY updated`
moves behind the cursor and is served again rather than shifting its neighbours out of view.
Pages come from the sorted indexes by bisection when the order allows it (O(log n + page)).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import heapq
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from syncd_sandbox.jira.catalog import Catalog
from syncd_sandbox.jira.errors import bad_request
from syncd_sandbox.jira.formats import to_millis
from syncd_sandbox.jira.jql import Clause, JqlError, Query, Sort
from syncd_sandbox.jira.store import NUMBER_MASK, IndexName, IssueRecord, IssueStore, composite

Predicate = Callable[[IssueRecord], bool]
INVALID_TOKEN = "The provided nextPageToken is invalid or has expired."
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_RELATIVE = re.compile(r"([+-]?)((?:\s*\d+\s*[wdhm])+)", re.IGNORECASE)
_RELATIVE_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}
_FIELD_ALIASES = {
    "project": "project",
    "key": "key",
    "issuekey": "key",
    "issue": "key",
    "id": "id",
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "status": "status",
    "labels": "labels",
}
_OPERATORS = {
    "project": ("=", "!=", "in", "not in"),
    "key": ("=", "!=", "in", "not in"),
    "id": ("=", "!=", "in", "not in"),
    "updated": ("=", "!=", ">", ">=", "<", "<="),
    "created": ("=", "!=", ">", ">=", "<", "<="),
    "status": ("=", "!=", "in", "not in"),
    "labels": ("=", "!=", "in", "not in"),
}
_SORTABLE: dict[str, IndexName] = {
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "key": "key",
    "issuekey": "key",
}


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One sort criterion: which index attribute, ascending (+1) or descending (-1)."""

    attribute: IndexName
    sign: int


@dataclass(frozen=True, slots=True)
class Plan:
    """A compiled query: filters, inclusive ms bounds per date index, and a total order."""

    predicates: tuple[Predicate, ...]
    numbers: frozenset[int] | None
    bounds: dict[IndexName, tuple[int, int]]
    order: tuple[OrderKey, ...]
    fingerprint: str

    def sort_key(self, record: IssueRecord) -> tuple[int, ...]:
        """The row's position in this query's order, as a tuple of ints (the page cursor)."""
        return tuple(key.sign * _value(record, key.attribute) for key in self.order)

    def matches(self, record: IssueRecord) -> bool:
        """Whether the record satisfies every clause."""
        for name, (low, high) in self.bounds.items():
            if not low <= _value(record, name) <= high:
                return False
        return all(predicate(record) for predicate in self.predicates)


def _value(record: IssueRecord, attribute: IndexName) -> int:
    if attribute == "key":
        return record.number
    return record.updated if attribute == "updated" else record.created


class Compiler:
    """Turns a parsed `Query` into a `Plan` for one site, time zone and moment."""

    def __init__(self, catalog: Catalog, store: IssueStore, zone: tzinfo, now: datetime) -> None:
        self.catalog, self.store, self.zone, self.now = catalog, store, zone, now

    def compile(self, query: Query, default_order: tuple[Sort, ...]) -> Plan:
        """A plan for `query`; JqlError names the first clause Jira would refuse."""
        predicates: list[Predicate] = []
        numbers: frozenset[int] | None = None
        bounds: dict[IndexName, tuple[int, int]] = {}
        for clause in query.clauses:
            field = self._field(clause)
            if field in ("key", "id") and clause.operator in ("=", "in"):
                found = frozenset(self._numbers(field, clause))
                numbers = found if numbers is None else numbers & found
            elif field in ("updated", "created") and clause.operator != "!=":
                date_field: IndexName = "updated" if field == "updated" else "created"
                low, high = bounds.get(date_field, (-(2**62), 2**62))
                bounds[date_field] = self._narrow(clause, low, high)
            else:
                predicates.append(self._predicate(field, clause))
        order = self._order(query.order or default_order)
        fingerprint = hashlib.sha256(repr((query.clauses, order)).encode()).hexdigest()[:12]
        return Plan(tuple(predicates), numbers, bounds, order, fingerprint)

    def _field(self, clause: Clause) -> str:
        name = clause.field.casefold()
        field = _FIELD_ALIASES.get(name)
        if field is None:
            known = {n.casefold() for f in self.catalog.fields for n in (f.id, *f.clause_names)}
            if name in known:
                raise JqlError(
                    "Error in the JQL Query: The Jira sandbox does not search by "
                    f"'{clause.field}'. (line 1, character {clause.position})"
                )
            raise JqlError(
                f"Field '{clause.field}' does not exist or you do not have permission to view it."
            )
        if clause.operator not in _OPERATORS[field]:
            raise JqlError(
                f"The operator '{clause.operator.upper()}' is not supported by the "
                f"'{clause.field}' field."
            )
        return field

    def _numbers(self, field: str, clause: Clause) -> Iterator[int]:
        for value in clause.values:
            record = None
            if value.isdigit():
                record = self.store.by_id(int(value))
            elif re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-\d+", value):
                number = self.store.number_of(value)
                record = None if number is None else self.store.by_number(number)
            elif field == "key":
                raise JqlError(f"The issue key '{value}' for field '{clause.field}' is invalid.")
            if record is None:
                raise JqlError(
                    f"An issue with key '{value}' does not exist for field '{clause.field}'."
                )
            yield record.number

    def _narrow(self, clause: Clause, low: int, high: int) -> tuple[int, int]:
        moment = self._moment(clause)
        if clause.operator in (">=", "="):
            low = max(low, moment)
        if clause.operator == ">":
            low = max(low, moment + 1)
        if clause.operator in ("<=", "="):
            high = min(high, moment)
        if clause.operator == "<":
            high = min(high, moment - 1)
        return low, high

    def _moment(self, clause: Clause) -> int:
        """Epoch ms for a date literal: minute-granular, in the user's time zone."""
        text = clause.values[0].strip()
        for pattern in _DATE_FORMATS:
            try:
                return to_millis(datetime.strptime(text, pattern).replace(tzinfo=self.zone))
            except ValueError:
                continue
        relative = _RELATIVE.fullmatch(text)
        if relative:
            delta = sum(
                (
                    int(n) * _RELATIVE_UNITS[u.lower()]
                    for n, u in re.findall(r"(\d+)\s*([wdhm])", relative.group(2), re.IGNORECASE)
                ),
                timedelta(),
            )
            moment = self.now - delta if relative.group(1) == "-" else self.now + delta
            return to_millis(moment.replace(second=0, microsecond=0))
        if text.isdigit():
            return int(text)
        raise JqlError(
            f"Date value '{text}' for field '{clause.field}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )

    def _predicate(self, field: str, clause: Clause) -> Predicate:
        negate = clause.operator in ("!=", "not in")
        if field == "project":
            catalog = self.catalog
            names = {catalog.project_key.casefold(), catalog.project_name.casefold()}
            for value in clause.values:
                if value.casefold() not in names and value != catalog.project_id:
                    raise JqlError(f"The value '{value}' does not exist for the field 'project'.")
            return (lambda _record: False) if negate else (lambda _record: True)
        if field in ("key", "id"):
            excluded = frozenset(self._numbers(field, clause))
            return lambda record: record.number not in excluded
        if field in ("updated", "created"):
            moment = self._moment(clause)
            attribute: IndexName = "updated" if field == "updated" else "created"
            return lambda record: _value(record, attribute) != moment
        if field == "status":
            wanted = frozenset(self._status(value) for value in clause.values)
            return lambda record: (record.status in wanted) != negate
        labels = frozenset(clause.values)
        return lambda record: bool(labels.intersection(record.labels)) != negate

    def _status(self, value: str) -> int:
        workflow = self.catalog.workflow
        index = workflow.index_of(value)
        if index is None:
            index = workflow.index_of_id(value)
        if index is None:
            raise JqlError(f"The value '{value}' does not exist for the field 'status'.")
        return index

    def _order(self, sorts: tuple[Sort, ...]) -> tuple[OrderKey, ...]:
        keys: list[OrderKey] = []
        for sort in sorts:
            attribute = _SORTABLE.get(sort.field.casefold())
            if attribute is None:
                if _FIELD_ALIASES.get(sort.field.casefold()) or self.catalog.field(sort.field):
                    raise JqlError(
                        f"Error in the JQL Query: The Jira sandbox does not sort by '{sort.field}'."
                    )
                raise JqlError(
                    f"Field '{sort.field}' does not exist or you do not have permission to view it."
                )
            # Jira's default direction is per field: newest first for dates, A→Z for keys.
            descending = sort.descending if sort.descending is not None else attribute != "key"
            if all(key.attribute != attribute for key in keys):
                keys.append(OrderKey(attribute, -1 if descending else 1))
        if keys[-1].attribute != "key" and all(key.attribute != "key" for key in keys):
            keys.append(OrderKey("key", keys[0].sign))
        return tuple(keys)


def encode_token(plan: Plan, cursor: tuple[int, ...]) -> str:
    """An opaque page token for the row whose sort key is `cursor`."""
    raw = json.dumps({"q": plan.fingerprint, "a": list(cursor)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(plan: Plan, token: str) -> tuple[int, ...]:
    """The cursor a token carries; 400 when it is malformed or from another query."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        cursor = tuple(int(v) for v in payload["a"])
        fingerprint = payload["q"]
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise bad_request(INVALID_TOKEN) from exc
    if fingerprint != plan.fingerprint or len(cursor) != len(plan.order):
        raise bad_request(INVALID_TOKEN)
    return cursor


def page(
    plan: Plan, store: IssueStore, after: tuple[int, ...] | None, limit: int
) -> tuple[list[IssueRecord], bool]:
    """Up to `limit` matching issues after the cursor, and whether more follow. Hold the lock."""
    if plan.numbers is not None:
        candidates: Iterable[IssueRecord] = _from_numbers(plan, store)
    elif _indexable(plan) and not _narrower_elsewhere(plan, store):
        rows = list(_scan_index(plan, store, after, limit + 1))
        return rows[:limit], len(rows) > limit
    else:
        candidates = _from_bounds(plan, store)
    matching = (r for r in candidates if plan.matches(r))
    if after is not None:
        matching = (r for r in matching if plan.sort_key(r) > after)
    rows = heapq.nsmallest(limit + 1, matching, key=plan.sort_key)
    return rows[:limit], len(rows) > limit


def count(plan: Plan, store: IssueStore) -> int:
    """How many issues match. Hold the lock."""
    if plan.numbers is not None:
        candidates: Iterable[IssueRecord] = _from_numbers(plan, store)
    else:
        candidates = _from_bounds(plan, store)
    return sum(1 for record in candidates if plan.matches(record))


def _from_numbers(plan: Plan, store: IssueStore) -> Iterator[IssueRecord]:
    for number in plan.numbers or ():
        record = store.by_number(number)
        if record is not None:
            yield record


def _bounded_slice(store: IssueStore, name: IndexName, low: int, high: int) -> tuple[int, int]:
    index = store.index(name)
    start = bisect.bisect_left(index, composite(low, 0))
    return start, max(start, bisect.bisect_right(index, composite(high, NUMBER_MASK)))


def _narrower_elsewhere(plan: Plan, store: IssueStore) -> bool:
    """Whether a bound on another date index leaves few enough rows to sort them outright."""
    primary = plan.order[0].attribute
    for name, (low, high) in plan.bounds.items():
        start, stop = _bounded_slice(store, name, low, high)
        if name != primary and (stop - start) * 8 < len(store):
            return True
    return False


def _from_bounds(plan: Plan, store: IssueStore) -> Iterator[IssueRecord]:
    """Every issue, or only the slice of the narrowest bounded date index."""
    best: list[int] | None = None
    for name, (low, high) in plan.bounds.items():
        start, stop = _bounded_slice(store, name, low, high)
        if best is None or stop - start < len(best):
            best = store.index(name)[start:stop]
    if best is None:
        yield from store.records()
        return
    for entry in best:
        record = store.by_number(entry & NUMBER_MASK)
        if record is not None:
            yield record


def _indexable(plan: Plan) -> bool:
    """Whether the order is one index's own order (a date with the key as tie-break, or key)."""
    order = plan.order
    if len(order) == 1:
        return True
    return len(order) == 2 and order[1] == OrderKey("key", order[0].sign)


def _scan_index(
    plan: Plan, store: IssueStore, after: tuple[int, ...] | None, wanted: int
) -> Iterator[IssueRecord]:
    primary = plan.order[0]
    index = store.index(primary.attribute)
    is_key = primary.attribute == "key"

    def entry(value: int, number: int) -> int:
        return number if is_key else composite(value, number)

    low, high = plan.bounds.get(primary.attribute, (None, None))
    lowest = 0 if low is None else bisect.bisect_left(index, entry(low, 0))
    highest = len(index) if high is None else bisect.bisect_right(index, entry(high, NUMBER_MASK))
    if after is not None:
        value, number = after[0] * primary.sign, after[-1] * primary.sign
        cursor = entry(value, number)
        if primary.sign > 0:
            lowest = max(lowest, bisect.bisect_right(index, cursor))
        else:
            highest = min(highest, bisect.bisect_left(index, cursor))
    positions = range(lowest, highest) if primary.sign > 0 else range(highest - 1, lowest - 1, -1)
    found = 0
    for position in positions:
        value = index[position]
        record = store.by_number(value if is_key else value & NUMBER_MASK)
        if record is not None and plan.matches(record):
            yield record
            found += 1
            if found == wanted:
                return
