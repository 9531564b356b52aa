"""What rollups are made of: their input (records and sync state) and their output (tables).

`RollupInput` is everything a computation reads: typed records with their ids, sources and
flagged values, open conflicts, unreadable source rows, the last sync run per connector
and `now`. `RollupSet` is everything it produces: tabs of `RollupTable`s whose columns
each have a kind (how a value is formatted), optional alerts (which values a producer must
see in red) and an optional chart. The sheet layout and the terminal view both render
the same `RollupSet`, so a figure is defined once.

Values are frozen dataclasses: rollups are computed in memory from up to 100k records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, Literal, TypeVar

from syncd.model import Asset, BudgetLine, Invoice, JsonValue, Task

R = TypeVar("R", Task, Invoice, Asset, BudgetLine)

# -- input ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A source record that represents a record: (connector, entity, external_id)."""

    connector: str
    entity: str
    external_id: str


@dataclass(frozen=True, slots=True)
class FieldFlag:
    """A value a source holds that could not be translated (unknown or malformed)."""

    connector: str
    field: str
    value: JsonValue
    reason: str
    unknown: bool  # True: no translation exists yet; False: the value is malformed


@dataclass(frozen=True, slots=True)
class Entry(Generic[R]):
    """One stored record: its syncd id, typed fields, sources and flagged values.

    `changed_at` holds, per field, when the value it has now was set, by the clock of the
    tool that set it (a task's `status` time is when it became done, for burn rates).
    """

    id: str
    record: R
    sources: tuple[SourceRef, ...] = ()
    flags: tuple[FieldFlag, ...] = ()
    changed_at: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TaskEntry(Entry[Task]):
    """A task, and the pipeline step it is for (its name in the pipeline tool), if any."""

    step: str | None = None


AnyEntry = TaskEntry | Entry[Invoice] | Entry[Asset] | Entry[BudgetLine]


@dataclass(frozen=True, slots=True)
class OpenConflict:
    """A field two sources changed differently, waiting for a person."""

    id: int
    record_id: str
    kind: str
    field: str
    base: JsonValue
    candidates: Mapping[str, JsonValue]  # connector -> the value it holds
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class SourceError:
    """A source row or record syncd could not read or write."""

    connector: str
    entity: str
    external_id: str | None
    location: str | None  # e.g. "row 17"
    field: str | None
    message: str
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class ConnectorRun:
    """The last sync run of a connector, and when it last succeeded."""

    connector: str
    status: str  # running | ok | failed
    started_at: datetime
    finished_at: datetime | None
    last_success: datetime | None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class RollupInput:
    """Everything rollups are computed from; `now` is timezone-aware."""

    now: datetime
    tasks: tuple[TaskEntry, ...] = ()
    invoices: tuple[Entry[Invoice], ...] = ()
    assets: tuple[Entry[Asset], ...] = ()
    budget_lines: tuple[Entry[BudgetLine], ...] = ()
    conflicts: tuple[OpenConflict, ...] = ()
    source_errors: tuple[SourceError, ...] = ()
    runs: tuple[ConnectorRun, ...] = ()

    @property
    def today(self) -> date:
        """The date of `now` (UTC)."""
        return self.now.date()

    def entries(self) -> Iterator[AnyEntry]:
        """Every record entry, of every kind."""
        yield from self.tasks
        yield from self.invoices
        yield from self.assets
        yield from self.budget_lines


# -- output -----------------------------------------------------------------------------------


class Kind(StrEnum):
    """How a column's values are formatted, in the sheet and in the terminal."""

    TEXT = "text"
    INT = "int"
    NUMBER = "number"  # two decimals, e.g. weeks of work
    HOURS = "hours"
    MONEY = "money"  # in the reporting currency
    PERCENT = "percent"  # a ratio: 0.25 is 25%
    DATE = "date"
    DATETIME = "datetime"
    STATUS = "status"  # a status word, coloured by the column's alerts
    LINK = "link"  # a `Link`: text pointing at a URL


@dataclass(frozen=True, slots=True)
class Link:
    """Text that links to a URL (a record in its tool, or syncd's record page)."""

    text: str
    url: str | None = None


Scalar = str | int | Decimal | date | datetime | Link | None
Tone = Literal["bad", "warn", "good"]


@dataclass(frozen=True, slots=True)
class Alert:
    """Values of a column a producer must see: above/below a threshold, or one of some words.

    `above`: value > threshold; `below`: value < threshold; `is`: value is one of `words`.
    """

    when: Literal["above", "below", "is"]
    tone: Tone = "bad"
    threshold: Decimal | None = None
    words: tuple[str, ...] = ()

    def matches(self, value: Value) -> bool:
        """True when the alert fires for this value."""
        plain = value.value if isinstance(value, Typed) else value
        if self.when == "is":
            return isinstance(plain, str) and plain in self.words
        if isinstance(plain, bool) or not isinstance(plain, int | Decimal):
            return False
        if self.threshold is None:
            return False
        return plain > self.threshold if self.when == "above" else plain < self.threshold


@dataclass(frozen=True, slots=True)
class Typed:
    """A value with its own kind and alerts (the summary's one value column mixes kinds)."""

    kind: Kind
    value: Scalar
    alerts: tuple[Alert, ...] = ()


Value = Scalar | Typed


@dataclass(frozen=True, slots=True)
class Column:
    """One column: a key, its header, its kind, what it means, and its alerts."""

    key: str
    header: str
    kind: Kind
    description: str
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart over a table: the domain column and the series columns drawn against it."""

    title: str
    type: Literal["LINE", "COLUMN", "BAR"]
    domain: str
    series: tuple[str, ...]
    stacked: bool = False


@dataclass(frozen=True, slots=True)
class RollupTable:
    """One table: columns, rows (one value per column), notes shown under it, a chart."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    notes: tuple[str, ...] = ()
    chart: Chart | None = None

    def __post_init__(self) -> None:
        width = len(self.columns)
        for row in self.rows:
            if len(row) != width:
                raise ValueError(
                    f"table {self.key}: a row has {len(row)} values for {width} columns"
                )

    def column(self, key: str) -> Column:
        """The column with that key."""
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(f"table {self.key} has no column {key!r}")

    def index(self, key: str) -> int:
        """The position of a column."""
        return self.columns.index(self.column(key))


@dataclass(frozen=True, slots=True)
class RollupTab:
    """One tab of the consolidated sheet: a rollup, as one or more tables stacked."""

    key: str
    title: str
    question: str  # the producer's question this tab answers
    tables: tuple[RollupTable, ...]


@dataclass(frozen=True, slots=True)
class RollupSet:
    """Every tab (the summary first), the reporting currency and when it was computed."""

    tabs: tuple[RollupTab, ...]
    currency: str
    computed_at: datetime

    def tab(self, key: str) -> RollupTab:
        """The tab with that key."""
        for tab in self.tabs:
            if tab.key == key:
                return tab
        raise KeyError(f"no rollup tab {key!r}")
