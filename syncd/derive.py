"""Fields syncd maintains itself, from what it knows about a record. Pure: no I/O.

An invoice's `sync_status` says "ok", or which of its cells syncd could not read and why;
`synced_at` says when that last changed. Both are written back to the invoice row (the
"Sync Status" / "Synced At" columns) through the outbox, like any other change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from syncd.model import RecordKind
from syncd.reconcile import Change, LinkView, Outcome, RecordView, push_to_links

MAX_STATUS = 240  # a sheet cell a person can read at a glance


def sync_status(record: RecordView) -> str:
    """ "ok", or the fields syncd could not read, with the reason."""
    problems = [
        f"{key.split(':', 1)[1]}: {flag.get('reason')}"
        for key, flag in sorted(record.flags.items())
    ]
    if not problems:
        return "ok"
    text = "; ".join(problems)
    return text if len(text) <= MAX_STATUS else text[: MAX_STATUS - 1] + "…"


def derive(record: RecordView, links: Sequence[LinkView], now: datetime) -> Outcome:
    """The derived fields that changed, pushed to the tools that take them."""
    out = Outcome()
    if record.kind is not RecordKind.INVOICE:
        return out
    status = sync_status(record)
    if status == record.value("sync_status"):
        return out
    stamp = now.isoformat()
    for name, value in (("sync_status", status), ("synced_at", stamp)):
        out.changes.append(Change(name, record.value(name), value, "syncd", now, "derived"))
        push_to_links(out, links, None, name, value)
    return out
