"""Links of a page: find or create each source record's link and record, join records that
links say are one work, mark links whose source record was deleted, and bring them back
when it returns (each of those two audited on the record)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncd.mapping.apply import EntityMapping, Pulled
from syncd.model import RecordKind
from syncd.reconcile import Change, LinkKey, is_untranslatable
from syncd.store.links import LinkRow
from syncd.store.records import new_record_id
from syncd.store.store import Tx

log = logging.getLogger(__name__)


@dataclass
class Attached:
    """A page's source records, each with its link; what attaching them created."""

    work: list[tuple[Pulled, LinkKey, str]] = field(default_factory=list)  # (record, link, hash)
    new_records: set[str] = field(default_factory=set)
    data_stored: set[LinkKey] = field(default_factory=set)  # links inserted with their data
    restored: list[LinkRow] = field(default_factory=list)  # links back from deleted


LIVE, GONE = "live", "deleted"


def link_field(key: LinkKey) -> str:
    """How a link's own state shows in its record's history: `link:<tool>:<entity>:<id>`."""
    return "link:" + ":".join(key)


def mark_deleted(
    tx: Tx,
    mapping: EntityMapping,
    links: dict[LinkKey, LinkRow],
    deleted: Sequence[str],
    *,
    mapping_version: str | None = None,
    run_id: str | None = None,
    inbox: Sequence[int] = (),
) -> list[LinkRow]:
    """Mark the links of source records the tool reports deleted (or a complete read no
    longer holds). Each that was live is audited on its record (by whom, when `inbox`, the
    deliveries that asked for the read, say), and what was waiting to be written to it is
    dropped (there is nothing to write to). Returns those."""
    source = (mapping.connector, mapping.entity)
    gone = [links[k] for k in ((*source, e) for e in deleted) if k in links]
    newly = [row for row in gone if not row.deleted and not row.placeholder]
    for row in gone:
        row.deleted = True
    tx.links.save(gone, {})
    audit_link_states(tx, newly, GONE, mapping_version=mapping_version, run_id=run_id, inbox=inbox)
    for key, pending in tx.outbox.pending(row.key for row in newly).items():
        tx.outbox.cancel(key, pending.fields)
    if newly:
        log.info("%s %s: %d gone", mapping.connector, mapping.entity, len(newly))
    return newly


def audit_link_states(
    tx: Tx,
    rows: Sequence[LinkRow],
    state: str,
    *,
    mapping_version: str | None,
    run_id: str | None,
    inbox: Sequence[int] = (),
) -> None:
    """A history entry on each row's record: its link went to `state` (deleted or live),
    by the person the deliveries in `inbox` name, else by the tool."""
    audit: list[dict[str, Any]] = []
    who = _who(tx, rows, inbox)
    for row in rows:
        old = GONE if state == LIVE else LIVE
        reason = "restored" if state == LIVE else "deleted"
        origin = who.get(row.key, row.connector)
        change = Change(link_field(row.key), old, state, origin, None, reason)
        audit += tx.audit.rows(
            row.record_id, [change], mapping_version=mapping_version, run_id=run_id
        )
    tx.audit.insert(audit)


def attach(
    tx: Tx,
    mapping: EntityMapping,
    pulled: Sequence[tuple[Pulled, str]],
    links: dict[LinkKey, LinkRow],
    source_data: Mapping[str, dict[str, Any]],
) -> Attached:
    """Find or create each source record's link and record; join records links say are one.

    New records and links are staged and inserted together (a page at a time); `links`
    gains every link inserted or moved.
    """
    staging = _Staging(tx, mapping, links, source_data)
    for p, content_hash in pulled:
        key = (mapping.connector, mapping.entity, p.external_id)
        staging.own(key, p)
        mine = staging.record_of(key)
        assert mine is not None
        for ref in _ref_keys(p):
            other = staging.record_of(ref)
            if other is None:
                staging.staged_links[ref] = (mine, True)
            elif other != mine:
                staging.flush()
                _merge(tx, other, mine, links)
        staging.result.work.append((p, key, content_hash))
    staging.flush()
    tx.links.save(staging.revived, {})
    return staging.result


def _who(tx: Tx, rows: Sequence[LinkRow], inbox: Sequence[int]) -> dict[LinkKey, str]:
    """Per link, the person whose change the deliveries report: their email (as the tool
    names them, or from its directory), else `<tool> user <id>`."""
    authors = tx.inbox.authors(inbox) if inbox and rows else {}
    if not authors:
        return {}
    emails = {c: tx.identities.emails(c) for c in {row.connector for row in rows}}
    out: dict[LinkKey, str] = {}
    for row in rows:
        author = authors.get(row.external_id) or authors.get(None)
        if author:
            known = author if "@" in author else emails[row.connector].get(author)
            name = known or f"{row.connector} user {author}"
            out[row.key] = name[:128]
    return out


class _Staging:
    """New records and links waiting to be inserted, and links brought back to life."""

    def __init__(
        self,
        tx: Tx,
        mapping: EntityMapping,
        links: dict[LinkKey, LinkRow],
        source_data: Mapping[str, dict[str, Any]],
    ) -> None:
        self.tx, self.kind, self.links, self.source_data = tx, mapping.kind, links, source_data
        self.staged_records: list[tuple[str, RecordKind]] = []
        self.staged_links: dict[LinkKey, tuple[str, bool]] = {}  # key -> (record, placeholder)
        self.revived: list[LinkRow] = []
        self.result = Attached()

    def record_of(self, key: LinkKey) -> str | None:
        """The record a link (stored or staged) belongs to."""
        if key in self.links:
            return self.links[key].record_id
        staged = self.staged_links.get(key)
        return staged[0] if staged else None

    def own(self, key: LinkKey, p: Pulled) -> None:
        """Give a source record its link: a new one (to a record its refs name, or a new
        record), or its own brought back from placeholder or deleted."""
        link = self.links.get(key)
        if link is None and key not in self.staged_links:
            target = next((r for r in map(self.record_of, _ref_keys(p)) if r), None)
            if target is None:
                target = new_record_id()
                self.staged_records.append((target, self.kind))
                self.result.new_records.add(target)
            self.staged_links[key] = (target, False)
        elif link is not None and (link.placeholder or link.deleted):
            if link.deleted and not link.placeholder:
                self.result.restored.append(link)  # back where it was, history and all
            link.placeholder = link.deleted = False
            self.revived.append(link)

    def flush(self) -> None:
        """Insert the staged records and links (links read on this page with their data)."""
        tx = self.tx
        tx.records.insert_many(self.staged_records)
        read = {
            k: self.source_data[k[2]]
            for k, (_, placeholder) in self.staged_links.items()
            if not placeholder
        }
        self.links.update(
            tx.links.insert_many([(k, r, ph) for k, (r, ph) in self.staged_links.items()], read)
        )
        self.result.data_stored.update(read)
        self.staged_records.clear()
        self.staged_links.clear()


def _merge(tx: Tx, loser: str, winner: str, links: dict[LinkKey, LinkRow]) -> None:
    """Two records turn out to be the same work: move the links, compare afresh."""
    log.info("records %s and %s are the same work (linked); merging", loser, winner)
    moved = tx.links.of_records([loser]).get(loser, [])
    for row in moved:
        row.record_id = winner
        # Compared as a new link on its next read; a value that source holds and no
        # mapping reads stays untouchable meanwhile.
        row.bases = {k: v for k, v in row.bases.items() if is_untranslatable(v)}
        row.content_hash = None
        links[row.key] = row
    tx.links.save(moved, {}, moved=True)
    tx.conflicts.delete_of(loser)
    tx.records.delete(loser)


def _ref_keys(p: Pulled) -> list[LinkKey]:
    return [(ln.connector, ln.entity, ln.external_id) for ln in p.links]
