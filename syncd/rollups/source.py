"""Read a `RollupInput` from the store: the only I/O of rollup computation.

- Records of every kind, typed by the model, with their live sources (links neither
  deleted nor placeholders), flagged values and field times. A record every source of
  which was deleted is gone from the tools and is left out; a stored record that no longer
  validates against the model is reported as a problem rather than guessed.
- A task's pipeline step: the `step` its pipeline connector's source record names (as
  last read), else the task's name in that tool (ShotGrid names tasks after their step).
- Open conflicts, unresolved source errors, and per connector its last run and last
  successful run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import ValidationError

from syncd.model import Asset, BudgetLine, Invoice, RecordKind, Task
from syncd.rollups.model import (
    ConnectorRun,
    Entry,
    FieldFlag,
    OpenConflict,
    RollupInput,
    SourceError,
    SourceRef,
    TaskEntry,
)
from syncd.store.store import Store, Tx

MAX_CONFLICTS = 100_000


class _Link:
    """The parts of a link rows the rollups read."""

    __slots__ = ("bases", "data", "ref")

    def __init__(self, ref: SourceRef, bases: Mapping[str, Any], data: Any) -> None:
        self.ref, self.bases, self.data = ref, bases, data


class ParsedRows:
    """What the last read parsed, by row and by the row's stored JSON text.

    A recompute reads every record, and between two of them most have not changed: a row
    whose text is what it was is neither decoded nor validated again. Keyed by the content
    itself, so nothing needs invalidating; rows not seen in a read are forgotten.
    """

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[Hashable, Any]] = {}
        self._seen: set[Hashable] = set()
        self._lock = threading.Lock()

    @contextmanager
    def reading(self) -> Iterator[ParsedRows]:
        """Use it for one read (one read at a time)."""
        with self._lock:
            yield self

    def get(self, key: Hashable, text: Hashable, parse: Callable[[], Any]) -> Any:
        """The parsed value of row `key` whose stored text is `text`."""
        self._seen.add(key)
        hit = self._entries.get(key)
        if hit is not None and hit[0] == text:
            return hit[1]
        value = parse()
        self._entries[key] = (text, value)
        return value

    def forget_unseen(self) -> None:
        """Drop rows the last read did not see (deleted since)."""
        self._entries = {k: v for k, v in self._entries.items() if k in self._seen}
        self._seen = set()


def read_rollup_input(
    store: Store,
    *,
    pipeline_connector: str = "shotgrid",
    now: datetime | None = None,
    parsed: ParsedRows | None = None,
) -> RollupInput:
    """Everything the rollups need, read in one transaction."""
    # A snapshot: the whole-store read takes a while, and writers must not wait for it.
    with store.snapshot() as tx:
        if parsed is None:
            return read_from(tx, pipeline_connector=pipeline_connector, now=now)
        with parsed.reading() as rows:
            return read_from(tx, pipeline_connector=pipeline_connector, now=now, parsed=rows)


def read_from(
    tx: Tx,
    *,
    pipeline_connector: str = "shotgrid",
    now: datetime | None = None,
    parsed: ParsedRows | None = None,
) -> RollupInput:
    """Everything the rollups need, from an open transaction (`now`: the store's clock).

    With `parsed`, JSON columns are read as text and parsed only when they changed.
    """
    memo = parsed if parsed is not None else ParsedRows()
    links, gone = _links(tx, pipeline_connector, memo)
    tasks: list[TaskEntry] = []
    invoices: list[Entry[Invoice]] = []
    assets: list[Entry[Asset]] = []
    lines: list[Entry[BudgetLine]] = []
    errors: list[SourceError] = []
    for row_id, kind_name, fields_text, meta_text, flags_text in tx.rollup_rows.records():
        record_links = links.get(row_id, [])
        if not record_links and row_id in gone:
            continue  # every tool that had it deleted it
        sources = tuple(sorted((link.ref for link in record_links), key=_ref_key))
        text = (kind_name, fields_text, meta_text, flags_text)
        try:
            kind, model, flags, changed = memo.get(
                ("record", row_id), text, partial(_record, *text)
            )
        except (ValueError, ValidationError) as exc:
            errors.append(_unreadable(row_id, kind_name, exc, tx.now))
            continue
        if kind is RecordKind.TASK:
            step = _step(record_links, pipeline_connector)
            tasks.append(TaskEntry(row_id, model, sources, flags, changed, step))
        elif kind is RecordKind.INVOICE:
            invoices.append(Entry(row_id, model, sources, flags, changed))
        elif kind is RecordKind.ASSET:
            assets.append(Entry(row_id, model, sources, flags, changed))
        else:
            lines.append(Entry(row_id, model, sources, flags, changed))
    memo.forget_unseen()
    errors += _source_errors(tx)
    return RollupInput(
        now=now or tx.now,
        tasks=tuple(tasks),
        invoices=tuple(invoices),
        assets=tuple(assets),
        budget_lines=tuple(lines),
        conflicts=_conflicts(tx),
        source_errors=tuple(errors),
        runs=_runs(tx),
    )


def _ref_key(ref: SourceRef) -> tuple[str, str, str]:
    return (ref.connector, ref.entity, ref.external_id)


def _links(
    tx: Tx, pipeline_connector: str, memo: ParsedRows
) -> tuple[dict[str, list[_Link]], set[str]]:
    """Live links by record id, and the ids of records that only have deleted links."""
    # Source data and bases only serve a task's step: decoded for the pipeline tool only.
    live: dict[str, list[_Link]] = {}
    dead: set[str] = set()
    for row in tx.rollup_rows.links(pipeline_connector):
        if row.record_id is None or row.placeholder:
            continue
        if row.deleted:
            dead.add(row.record_id)
            continue
        ref = SourceRef(row.connector, row.entity, row.external_id)
        text = (row.pipeline_bases, row.pipeline_data)
        link_bases, link_data = (
            memo.get(("link", *_ref_key(ref)), text, partial(_link_json, *text))
            if any(text)
            else ({}, None)
        )
        live.setdefault(row.record_id, []).append(_Link(ref, link_bases, link_data))
    return live, dead - set(live)


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def _link_json(bases: str | None, data: str | None) -> tuple[dict[str, Any], Any]:
    return _json(bases) or {}, _json(data)


def _record(
    kind_name: str, fields: str | None, meta: str | None, flags: str | None
) -> tuple[RecordKind, Any, tuple[FieldFlag, ...], dict[str, datetime]]:
    """A record row's kind, typed model, flags and field times (raises if it does not fit)."""
    kind = RecordKind(kind_name)
    model: type[Task | Invoice | Asset | BudgetLine] = _MODELS[kind]
    return (
        kind,
        model.model_validate(_json(fields) or {}),
        _flags(_json(flags)),
        _times(_json(meta)),
    )


_MODELS: dict[RecordKind, type[Task | Invoice | Asset | BudgetLine]] = {
    RecordKind.TASK: Task,
    RecordKind.INVOICE: Invoice,
    RecordKind.ASSET: Asset,
    RecordKind.BUDGET_LINE: BudgetLine,
}


def _step(links: list[_Link], pipeline_connector: str) -> str | None:
    for link in links:
        if link.ref.connector != pipeline_connector:
            continue
        data = link.data if isinstance(link.data, Mapping) else {}
        step = data.get("step")
        if isinstance(step, Mapping):
            step = step.get("name") or step.get("code")
        if isinstance(step, str) and step.strip():
            return step.strip()
        title = link.bases.get("title")
        if isinstance(title, str) and title.strip():
            return title.strip()
    return None


def _flags(raw: Mapping[str, Any] | None) -> tuple[FieldFlag, ...]:
    flags = []
    for key, issue in sorted((raw or {}).items()):
        connector, _, field = key.partition(":")
        detail = issue if isinstance(issue, Mapping) else {}
        flags.append(
            FieldFlag(
                connector=str(detail.get("connector") or connector),
                field=field,
                value=detail.get("value"),
                reason=str(detail.get("reason") or "could not be read"),
                unknown=bool(detail.get("unknown")),
            )
        )
    return tuple(flags)


def _times(meta: Mapping[str, Any] | None) -> dict[str, datetime]:
    times = {}
    for name, entry in (meta or {}).items():
        at = entry.get("at") if isinstance(entry, Mapping) else None
        if at:
            try:
                times[name] = datetime.fromisoformat(str(at))
            except ValueError:
                continue  # an unreadable time is no time
    return times


def _unreadable(record_id: str, kind: str, exc: Exception, now: datetime) -> SourceError:
    return SourceError(
        connector="syncd",
        entity=kind,
        external_id=record_id,
        location=None,
        field=None,
        message=f"stored record does not fit the {kind} model: {exc}".splitlines()[0],
        seen_at=now,
    )


def _source_errors(tx: Tx) -> list[SourceError]:
    return [
        SourceError(
            connector=row["connector"],
            entity=row["entity"],
            external_id=row["external_id"],
            location=row["location"],
            field=row["field"],
            message=row["message"],
            seen_at=row["seen_at"],
        )
        for row in tx.source_errors.unresolved()
    ]


def _conflicts(tx: Tx) -> tuple[OpenConflict, ...]:
    return tuple(
        OpenConflict(
            id=row.id,
            record_id=row.record_id,
            kind=row.kind,
            field=row.field,
            base=row.base,
            candidates=row.candidates,
            opened_at=row.opened_at,
        )
        for row in tx.conflicts.find(status="open", limit=MAX_CONFLICTS)
    )


def _runs(tx: Tx) -> tuple[ConnectorRun, ...]:
    """Per connector: its latest run and its latest successful finish."""
    last_runs = tx.runs.latest_per_connector()
    ok = tx.runs.last_success_per_connector()
    runs = {}
    for row in last_runs:
        success = ok.get(row.connector)
        runs[row.connector] = ConnectorRun(
            connector=row.connector,
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            last_success=success,
            message=row.message,
        )
    return tuple(runs[name] for name in sorted(runs))
