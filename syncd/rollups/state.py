"""What was last written to each tab of the consolidated sheet (the `rollup_tabs` table).

The publisher compares a tab's content hash with the stored one, so an unchanged rollup
is not rewritten, and reads the last write time, so the flush interval holds across
restarts and replicas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from syncd.store import tables as t
from syncd.store.store import Tx


@dataclass(frozen=True, slots=True)
class WrittenTab:
    """A tab as last written: its sheet title, content hash and when."""

    title: str
    content_hash: str
    written_at: datetime


def load_tabs(tx: Tx, spreadsheet_id: str) -> dict[str, WrittenTab]:
    """The tabs last written to a spreadsheet, by tab key."""
    c = t.rollup_tabs.c
    query = sa.select(t.rollup_tabs).where(c.spreadsheet_id == spreadsheet_id)
    return {
        row.tab: WrittenTab(row.title, row.content_hash, row.written_at)
        for row in tx.conn.execute(query)
    }


def save_tabs(tx: Tx, spreadsheet_id: str, written: Mapping[str, WrittenTab]) -> None:
    """Record tabs just written (replacing what was recorded for them)."""
    if not written:
        return
    c = t.rollup_tabs.c
    tx.conn.execute(
        t.rollup_tabs.delete().where(c.spreadsheet_id == spreadsheet_id, c.tab.in_(sorted(written)))
    )
    tx.conn.execute(
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


def last_write(tx: Tx, spreadsheet_id: str) -> datetime | None:
    """When anything was last written to the spreadsheet."""
    c = t.rollup_tabs.c
    query = sa.select(sa.func.max(c.written_at)).where(c.spreadsheet_id == spreadsheet_id)
    value: datetime | None = tx.conn.execute(query).scalar_one_or_none()
    return value
