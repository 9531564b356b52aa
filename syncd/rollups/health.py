"""Sync health: is the data fresh, what waits for a person, what could not be read.

- Connectors: each connector's last run, when it last succeeded, and a status: `failed`
  (the last run failed), `stale` (no success for `stale_sync_hours`), `never` (no success
  yet), else the last run's status (`ok`, `running`).
- Open conflicts: the record, the field, what each source holds and held before, when
  it was opened, with a link to the record in each tool (`record_links` URL templates).
- Unreadable values: rows or records a connector could not read (source errors: sheet,
  row, reason) and values a mapping could not translate (flags on records: the tool's
  value and why), so nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from syncd.model import Asset, Invoice, JsonValue, Task
from syncd.rollups.model import (
    Alert,
    AnyEntry,
    Column,
    ConnectorRun,
    Kind,
    Link,
    OpenConflict,
    RollupInput,
    RollupTab,
    RollupTable,
    SourceRef,
    Value,
)
from syncd.settings import RollupSettings

BAD = ("failed", "stale", "never")


@dataclass(frozen=True, slots=True)
class Problem:
    """One unreadable row or value."""

    connector: str
    entity: str
    where: str | None
    field: str | None
    value: str | None
    problem: str
    since: datetime | None


@dataclass(frozen=True, slots=True)
class RecordInfo:
    """How to name and find a record: a label and its sources."""

    kind: str
    label: str
    sources: tuple[SourceRef, ...]


def connector_status(run: ConnectorRun, now: datetime, stale_hours: float) -> str:
    """failed, never, stale, or the last run's status."""
    if run.status == "failed":
        return "failed"
    if run.last_success is None:
        return "never"
    if now - run.last_success > timedelta(hours=stale_hours):
        return "stale"
    return run.status


def _label(entry: AnyEntry) -> tuple[str, str | None]:
    record = entry.record
    if isinstance(record, Task):
        return "task", record.title or record.jira_key
    if isinstance(record, Invoice):
        return "invoice", record.number
    return ("asset" if isinstance(record, Asset) else "budget_line"), record.name


def records_index(data: RollupInput) -> dict[str, RecordInfo]:
    """Every record's label and sources, by id."""
    index: dict[str, RecordInfo] = {}
    for entry in data.entries():
        kind, label = _label(entry)
        index[entry.id] = RecordInfo(kind, label or entry.id, entry.sources)
    return index


def url_for(
    templates: Mapping[str, str], source: SourceRef | None, record_id: str | None = None
) -> str | None:
    """The URL of a source record (or of syncd's record page), if a template is configured."""
    try:
        if source is None:
            template = templates.get("syncd")
            return template.format(record_id=record_id) if template and record_id else None
        template = templates.get(source.connector)
        if template is None:
            return None
        return template.format(entity=source.entity, external_id=source.external_id)
    except (KeyError, IndexError, ValueError):
        return None  # a template naming an unknown placeholder: no link rather than a crash


def problems(data: RollupInput) -> list[Problem]:
    """Source errors and flagged values, by connector, entity, place and field."""
    found = [
        Problem(
            e.connector,
            e.entity,
            e.location or e.external_id,
            e.field,
            None,
            e.message,
            e.seen_at,
        )
        for e in data.source_errors
    ]
    for entry in data.entries():
        for flag in entry.flags:
            source = next((s for s in entry.sources if s.connector == flag.connector), None)
            kind = "unknown value" if flag.unknown else "unreadable value"
            found.append(
                Problem(
                    connector=flag.connector,
                    entity=source.entity if source else "",
                    where=source.external_id if source else entry.id,
                    field=flag.field,
                    value=_text(flag.value),
                    problem=f"{kind}: {flag.reason}",
                    since=entry.changed_at.get(flag.field),
                )
            )
    found.sort(key=lambda p: (p.connector, p.entity, p.where or "", p.field or "", p.problem))
    return found


def _text(value: JsonValue) -> str | None:
    return None if value is None else str(value)


def health_tab(data: RollupInput, found: Sequence[Problem], settings: RollupSettings) -> RollupTab:
    """The sync health tab: connectors, open conflicts, unreadable values (`problems`)."""
    return RollupTab(
        key="health",
        title="Sync health",
        question="Is the data fresh, what waits for a person, and what could not be read?",
        tables=(
            _connectors_table(data.runs, data.now, settings),
            _conflicts_table(data.conflicts, records_index(data), settings),
            _problems_table(found),
        ),
    )


def _connectors_table(
    runs: Sequence[ConnectorRun], now: datetime, settings: RollupSettings
) -> RollupTable:
    columns = (
        Column("connector", "Connector", Kind.TEXT, "The connector, as named in the config."),
        Column("status", "Status", Kind.STATUS,
               f"ok, running, failed, stale (no success for {settings.stale_sync_hours:g} h), "
               "never (no success yet).",
               (Alert("is", "bad", words=BAD), Alert("is", "good", words=("ok",)))),
        Column("last_run", "Last run", Kind.DATETIME, "When its last sync started."),
        Column("finished", "Finished", Kind.DATETIME, "When it ended (blank: still running)."),
        Column("last_success", "Last success", Kind.DATETIME, "When a sync last succeeded."),
        Column("message", "Message", Kind.TEXT, "What went wrong in the last run."),
    )  # fmt: skip
    rows = tuple(
        (
            run.connector,
            connector_status(run, now, settings.stale_sync_hours),
            run.started_at,
            run.finished_at,
            run.last_success,
            run.message,
        )
        for run in sorted(runs, key=lambda r: r.connector)
    )
    return RollupTable(key="connectors", title="Connectors", columns=columns, rows=rows)


def _conflicts_table(
    conflicts: Sequence[OpenConflict], index: Mapping[str, RecordInfo], settings: RollupSettings
) -> RollupTable:
    tools = sorted({name for c in conflicts for name in c.candidates})
    columns = [
        Column("record", "Record", Kind.LINK, "The record (linked to its syncd page if set)."),
        Column("kind", "Kind", Kind.TEXT, "task, invoice, asset or budget_line."),
        Column("field", "Field", Kind.TEXT, "The field both sides changed."),
        Column("values", "Values", Kind.TEXT, "What each source holds now."),
        Column("base", "Was", Kind.TEXT, "The value both started from."),
        Column("opened", "Opened", Kind.DATETIME, "When the conflict was found."),
    ]
    columns += [
        Column(f"in:{tool}", f"In {tool}", Kind.LINK, f"The record in {tool}.") for tool in tools
    ]
    rows: list[tuple[Value, ...]] = []
    links = settings.record_links
    for conflict in sorted(conflicts, key=lambda c: (c.opened_at, c.id)):
        info = index.get(conflict.record_id)
        label = info.label if info else conflict.record_id
        sources = info.sources if info else ()
        values = " · ".join(
            f"{name}: {_show(v)}" for name, v in sorted(conflict.candidates.items())
        )
        row: list[Value] = [
            Link(label, url_for(links, None, conflict.record_id)),
            conflict.kind, conflict.field, values, _show(conflict.base), conflict.opened_at,
        ]  # fmt: skip
        for tool in tools:
            source = next((s for s in sources if s.connector == tool), None)
            row.append(Link(source.external_id, url_for(links, source)) if source else None)
        rows.append(tuple(row))
    return RollupTable(
        key="conflicts",
        title="Open conflicts",
        columns=tuple(columns),
        rows=tuple(rows),
        notes=(f"{len(conflicts)} open; resolve them in syncd's admin page.",),
    )


def _show(value: JsonValue) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _problems_table(found: Sequence[Problem]) -> RollupTable:
    columns = (
        Column("connector", "Connector", Kind.TEXT, "The tool the value comes from."),
        Column("entity", "Sheet / entity", Kind.TEXT, "The sheet tab or entity type."),
        Column("where", "Row / record", Kind.TEXT, "The row, or the record's id in the tool."),
        Column("field", "Field", Kind.TEXT, "The record field it was read for."),
        Column("value", "Value", Kind.TEXT, "The value as the tool holds it."),
        Column("problem", "Problem", Kind.TEXT, "Why it could not be read."),
        Column("since", "Since", Kind.DATETIME, "When it was seen (blank: not known)."),
    )
    rows = tuple(
        (p.connector, p.entity, p.where, p.field, p.value, p.problem, p.since) for p in found
    )
    return RollupTable(
        key="problems",
        title="Unreadable rows and values",
        columns=columns,
        rows=rows,
        notes=("Fix the value in the tool, or add it to the mapping's value table.",),
    )
