"""The rollups' whole-store read: records and links with their JSON columns as stored text,
so a recompute decodes only what changed since the last one. Read-only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.store import tables as t


class RecordText(NamedTuple):
    """A record with its JSON columns as stored text."""

    id: str
    kind: str
    fields: str | None
    meta: str | None
    flags: str | None


class LinkText(NamedTuple):
    """A link; its bases and source data as stored text, for the pipeline tool's links only."""

    record_id: str | None
    connector: str
    entity: str
    external_id: str
    pipeline_bases: str | None
    placeholder: bool
    deleted: bool
    pipeline_data: str | None


def _text(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str | None]:
    """A JSON column as its stored text (decoded by the reader, and only when it changed)."""
    return sa.cast(column, sa.Text)


class RollupRows:
    """Whole-table reads for the rollups, in one (snapshot) transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def records(self) -> Iterator[RecordText]:
        """Every record, by id."""
        r = t.records.c
        query = sa.select(r.id, r.kind, _text(r.fields), _text(r.meta), _text(r.flags))
        # Rows as they come (they have RecordText's shape): a recompute reads them all.
        return cast(Iterator[RecordText], iter(self.conn.execute(query.order_by(r.id))))

    def links(self, pipeline_connector: str) -> Iterator[LinkText]:
        """Every link; bases and source data only serve a task's step, so they are read for
        the pipeline tool's links only."""
        c = t.links.c
        pipeline = c.connector == pipeline_connector
        data = _text(sa.case((pipeline, c.data), else_=sa.null())).label("pipeline_data")
        bases = _text(sa.case((pipeline, c.bases), else_=sa.null())).label("pipeline_bases")
        query = sa.select(
            c.record_id, c.connector, c.entity, c.external_id, bases, c.placeholder, c.deleted, data
        )
        return cast(Iterator[LinkText], iter(self.conn.execute(query)))
