"""Rollup tabs: what was last written to each tab of the consolidated sheet, and when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.store import tables as t


@dataclass(frozen=True, slots=True)
class WrittenTab:
    """A tab as last written: its sheet title, content hash and when."""

    title: str
    content_hash: str
    written_at: datetime


class RollupTabs:
    """Queries on the `rollup_tabs` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def load(self, spreadsheet_id: str) -> dict[str, WrittenTab]:
        """The tabs last written to a spreadsheet, by tab key."""
        c = t.rollup_tabs.c
        query = sa.select(t.rollup_tabs).where(c.spreadsheet_id == spreadsheet_id)
        return {
            row.tab: WrittenTab(row.title, row.content_hash, row.written_at)
            for row in self.conn.execute(query)
        }

    def save(self, spreadsheet_id: str, written: Mapping[str, WrittenTab]) -> None:
        """Record tabs just written (replacing what was recorded for them)."""
        if not written:
            return
        c = t.rollup_tabs.c
        self.conn.execute(
            t.rollup_tabs.delete().where(
                c.spreadsheet_id == spreadsheet_id, c.tab.in_(sorted(written))
            )
        )
        self.conn.execute(
            t.rollup_tabs.insert(),
            [
                {
                    "spreadsheet_id": spreadsheet_id,
                    "tab": key,
                    "title": tab.title,
                    "content_hash": tab.content_hash,
                    "written_at": tab.written_at,
                }
                for key, tab in sorted(written.items())
            ],
        )

    def last_write(self, spreadsheet_id: str) -> datetime | None:
        """When anything was last written to the spreadsheet."""
        c = t.rollup_tabs.c
        query = sa.select(sa.func.max(c.written_at)).where(c.spreadsheet_id == spreadsheet_id)
        value: datetime | None = self.conn.execute(query).scalar_one_or_none()
        return value
