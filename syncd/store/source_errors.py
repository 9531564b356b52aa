"""Source errors: source records (or rows) syncd could not read or write, and why."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.store import tables as t
from syncd.store.batches import chunks


class SourceErrors:
    """Queries on the `source_errors` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def add(
        self,
        connector: str,
        entity: str,
        external_id: str | None,
        message: str,
        *,
        location: str | None = None,
        field: str | None = None,
    ) -> bool:
        """Report a source record (or row) that could not be read or written; True when it
        is new (not an unresolved one seen again).

        The same problem seen again only moves `seen_at`, so a re-read does not pile up
        copies and sync health can show what is wrong now.
        """
        c = t.source_errors.c
        same = sa.and_(
            c.connector == connector,
            c.entity == entity,
            c.message == message,
            c.resolved.is_(False),
            c.external_id.is_(None) if external_id is None else c.external_id == external_id,
            c.location.is_(None) if location is None else c.location == location,
            c.field.is_(None) if field is None else c.field == field,
        )
        updated = self.conn.execute(t.source_errors.update().where(same).values(seen_at=self.now))
        if updated.rowcount:
            return False
        self.conn.execute(
            t.source_errors.insert().values(
                connector=connector,
                entity=entity,
                external_id=external_id,
                location=location,
                field=field,
                message=message,
                seen_at=self.now,
                resolved=False,
            )
        )
        return True

    def settle_located(
        self,
        connector: str,
        entity: str,
        before: datetime,
        *,
        locations: Iterable[str] | None = None,
    ) -> int:
        """Resolve the entity's unresolved problems reported at a place (a sheet row) and not
        seen again since `before`: a read that covered that place (all of them, when
        `locations` is None) no longer finds them there. Returns how many."""
        c = t.source_errors.c
        where = sa.and_(
            c.connector == connector,
            c.entity == entity,
            c.resolved.is_(False),
            c.location.is_not(None),
            c.seen_at < before,
        )
        if locations is None:
            result = self.conn.execute(t.source_errors.update().where(where).values(resolved=True))
            return int(result.rowcount or 0)
        settled = 0
        for chunk in chunks(sorted(set(locations))):
            result = self.conn.execute(
                t.source_errors.update().where(where, c.location.in_(chunk)).values(resolved=True)
            )
            settled += int(result.rowcount or 0)
        return settled

    def unresolved(self, *, since: datetime | None = None) -> list[dict[str, Any]]:
        """Unresolved source errors (seen since `since`), newest first."""
        query = (
            sa.select(t.source_errors)
            .where(t.source_errors.c.resolved.is_(False))
            .order_by(t.source_errors.c.seen_at.desc())
        )
        if since is not None:
            query = query.where(t.source_errors.c.seen_at >= since)
        return [dict(row._mapping) for row in self.conn.execute(query)]

    def unresolved_by_connector(self) -> dict[str, int]:
        """How many unresolved source errors each connector has."""
        c = t.source_errors.c
        query = (
            sa.select(c.connector, sa.func.count())
            .where(c.resolved.is_(False))
            .group_by(c.connector)
        )
        return {str(row[0]): int(row[1]) for row in self.conn.execute(query)}
