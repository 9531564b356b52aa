"""Identities: each tool's users (user id, email, display name), to match people across tools."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from syncd.store import tables as t


class Identities:
    """Queries on the `identities` table, in one transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def save(self, connector: str, people: Iterable[tuple[str, str | None, str | None]]) -> None:
        """Remember a tool's users: (user id, email, display name)."""
        rows = list(people)
        if not rows:
            return
        self.conn.execute(t.identities.delete().where(t.identities.c.connector == connector))
        self.conn.execute(
            t.identities.insert(),
            [
                {
                    "connector": connector,
                    "user_id": uid,
                    "email": email.lower() if email else None,
                    "display_name": name,
                    "seen_at": self.now,
                }
                for uid, email, name in rows
            ],
        )

    def emails(self, connector: str) -> dict[str, str]:
        """A tool's user id -> email, for the users whose email is known."""
        query = sa.select(t.identities.c.user_id, t.identities.c.email).where(
            t.identities.c.connector == connector, t.identities.c.email.is_not(None)
        )
        return {row.user_id: row.email for row in self.conn.execute(query)}
