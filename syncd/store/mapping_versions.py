"""Mapping versions: every applied set of mapping files, one of them active."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.store import tables as t


@dataclass(frozen=True, slots=True)
class MappingVersion:
    """One stored version."""

    id: int
    version: str
    created_at: datetime
    created_by: str
    note: str | None
    active: bool


class MappingVersions:
    """Queries on the `mapping_versions` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def add_active(
        self, version: str, files: Mapping[str, str], *, by: str, note: str | None
    ) -> int:
        """Store a new version as the active one; returns its id."""
        self.conn.execute(t.mapping_versions.update().values(active=False))
        result = self.conn.execute(
            t.mapping_versions.insert().values(
                version=version,
                files=dict(files),
                created_at=self.now,
                created_by=by,
                note=note,
                active=True,
            )
        )
        key = result.inserted_primary_key
        return int(key[0]) if key else 0

    def newest_first(self) -> list[MappingVersion]:
        """Every version, newest first."""
        rows = self.conn.execute(
            sa.select(t.mapping_versions).order_by(t.mapping_versions.c.id.desc())
        ).all()
        return [
            MappingVersion(r.id, r.version, r.created_at, r.created_by, r.note, r.active)
            for r in rows
        ]

    def files(self, version_id: int) -> dict[str, str] | None:
        """A version's files (name -> text), or None when there is no such version."""
        row = self.conn.execute(
            sa.select(t.mapping_versions.c.files).where(t.mapping_versions.c.id == version_id)
        ).first()
        return None if row is None else dict(row.files)

    def activate(self, version_id: int) -> None:
        """Make a version the active one."""
        self.conn.execute(t.mapping_versions.update().values(active=False))
        self.conn.execute(
            t.mapping_versions.update()
            .where(t.mapping_versions.c.id == version_id)
            .values(active=True)
        )
