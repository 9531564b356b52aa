"""The issues of a site, stored compactly and indexed for keyset paging.

100,000 issues must fit comfortably: each is one slotted `IssueRecord` whose statuses, users,
options and sprints are ids into the catalog, timestamps are epoch milliseconds, and changelog
histories exist only for issues that were edited. Three sorted indexes (by updated, by created,
by key number) hold plain ints, so `updated >= x ORDER BY updated` finds its start by bisection.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

IndexName = Literal["updated", "created", "key"]
_NUMBER_BITS = 32
NUMBER_MASK = (1 << _NUMBER_BITS) - 1


@dataclass(frozen=True, slots=True)
class ChangeItem:
    """One field change of a changelog history, in Jira's vocabulary."""

    field: str
    field_type: str
    field_id: str
    from_value: str | None
    from_string: str | None
    to_value: str | None
    to_string: str | None


@dataclass(frozen=True, slots=True)
class History:
    """One changelog entry: who changed what, when (epoch ms)."""

    id: int
    author: str
    created: int
    items: tuple[ChangeItem, ...]


@dataclass(slots=True)
class IssueRecord:
    """One issue. Mutable; only `IssueStore` changes it, under its lock."""

    id: int
    number: int
    summary: str
    issue_type: int
    status: int
    assignee: str | None
    reporter: str
    due: date | None
    original_estimate: int | None
    remaining_estimate: int | None
    time_spent: int | None
    labels: tuple[str, ...]
    department: int | None
    milestone: int | None
    sprint: int | None
    story_points: int | float | None
    sg_task_id: int | float | None
    pipeline_status: str | None
    description: str | None
    created: int
    updated: int
    histories: list[History] | None = None


def composite(value: int, number: int) -> int:
    """An index entry: a timestamp with the key number as tie-break, in one sortable int."""
    return (value << _NUMBER_BITS) | number


class IssueStore:
    """All issues of the project, by id, by key number, and in three sorted indexes."""

    def __init__(self, project_key: str) -> None:
        self.project_key = project_key
        # Re-entrant: a handler holds it across lookup, change and render.
        self.lock = threading.RLock()
        self._by_id: dict[int, IssueRecord] = {}
        self._by_number: dict[int, IssueRecord] = {}
        self._indexes: dict[IndexName, list[int]] = {"updated": [], "created": [], "key": []}
        self._folded_key = project_key.casefold()
        self.next_id = 10001
        self.next_number = 1
        self._next_history_id = 10001
        self.high_water = 0  # the latest `updated` ever issued, in ms

    def load(self, records: Iterable[IssueRecord], reserved: Iterable[tuple[int, int]]) -> None:
        """Bulk-load seeded issues; `reserved` (id, number) pairs stay unused, like deleted ones."""
        with self.lock:
            for record in records:
                self._by_id[record.id] = record
                self._by_number[record.number] = record
                self._bump_counters(record.id, record.number)
                self.high_water = max(self.high_water, record.updated)
            for issue_id, number in reserved:
                self._bump_counters(issue_id, number)
            values = self._by_number.values()
            self._indexes["updated"] = sorted(composite(r.updated, r.number) for r in values)
            self._indexes["created"] = sorted(composite(r.created, r.number) for r in values)
            self._indexes["key"] = sorted(self._by_number)

    def _bump_counters(self, issue_id: int, number: int) -> None:
        self.next_id = max(self.next_id, issue_id + 1)
        self.next_number = max(self.next_number, number + 1)

    def __len__(self) -> int:
        return len(self._by_id)

    def key(self, record: IssueRecord) -> str:
        """The issue key, e.g. `HRB-12`."""
        return f"{self.project_key}-{record.number}"

    def number_of(self, key: str) -> int | None:
        """The key number of `key` if it belongs to this project, else None."""
        prefix, dash, digits = key.strip().rpartition("-")
        if dash and digits.isascii() and digits.isdigit() and prefix.casefold() == self._folded_key:
            return int(digits)
        return None

    def find(self, id_or_key: str) -> IssueRecord | None:
        """An issue by numeric id or by key (case-insensitive), or None."""
        text = id_or_key.strip()
        if text.isdigit():
            return self._by_id.get(int(text))
        number = self.number_of(text)
        return None if number is None else self._by_number.get(number)

    def by_number(self, number: int) -> IssueRecord | None:
        """An issue by key number."""
        return self._by_number.get(number)

    def by_id(self, issue_id: int) -> IssueRecord | None:
        """An issue by id."""
        return self._by_id.get(issue_id)

    def records(self) -> Iterator[IssueRecord]:
        """Every issue, in key order."""
        for number in self._indexes["key"]:
            yield self._by_number[number]

    def index(self, name: IndexName) -> list[int]:
        """A sorted index (composites for dates, plain numbers for keys). Read under the lock."""
        return self._indexes[name]

    def create(self, *, status: int, reporter: str, created: int) -> IssueRecord:
        """A blank record with the next id and key number (not stored until `add`)."""
        return IssueRecord(
            id=self.next_id,
            number=self.next_number,
            summary="",
            issue_type=0,
            status=status,
            assignee=None,
            reporter=reporter,
            due=None,
            original_estimate=None,
            remaining_estimate=None,
            time_spent=None,
            labels=(),
            department=None,
            milestone=None,
            sprint=None,
            story_points=None,
            sg_task_id=None,
            pipeline_status=None,
            description=None,
            created=created,
            updated=created,
        )

    def add(self, record: IssueRecord) -> None:
        """Store a newly created issue."""
        with self.lock:
            self._by_id[record.id] = record
            self._by_number[record.number] = record
            self._bump_counters(record.id, record.number)
            self.high_water = max(self.high_water, record.updated)
            bisect.insort(self._indexes["updated"], composite(record.updated, record.number))
            bisect.insort(self._indexes["created"], composite(record.created, record.number))
            bisect.insort(self._indexes["key"], record.number)

    def remove(self, record: IssueRecord) -> None:
        """Delete an issue; its id and key number stay used."""
        with self.lock:
            del self._by_id[record.id]
            del self._by_number[record.number]
            _discard(self._indexes["updated"], composite(record.updated, record.number))
            _discard(self._indexes["created"], composite(record.created, record.number))
            _discard(self._indexes["key"], record.number)

    def stamp(self, now: int) -> int:
        """An `updated` time for a change made at `now`: never behind what was already issued."""
        with self.lock:
            self.high_water = max(now, self.high_water + 1)
            return self.high_water

    def record_change(
        self, record: IssueRecord, items: tuple[ChangeItem, ...], author: str, updated: int
    ) -> History:
        """Append a changelog history and move the issue to its new `updated` time."""
        with self.lock:
            history = History(self._next_history_id, author, updated, items)
            self._next_history_id += 1
            if record.histories is None:
                record.histories = []
            record.histories.append(history)
            index = self._indexes["updated"]
            _discard(index, composite(record.updated, record.number))
            record.updated = updated
            bisect.insort(index, composite(updated, record.number))
            return history


def _discard(index: list[int], entry: int) -> None:
    position = bisect.bisect_left(index, entry)
    if position < len(index) and index[position] == entry:
        del index[position]
