"""Three-way reconcile, per field, against what each source last held. Pure: no I/O.

For every source linked to a record syncd keeps a *base*: the value of each field as that
source last held it (what syncd read from it, or what syncd wrote to it). When a source
sends a value:

- equal to its base: the source did not change the field. Nothing to do. This is also what
  makes syncd's own writes come back as no-ops (echo suppression): a successful push sets the
  base to the pushed value.
- different from its base, and the record still holds that base (nobody else changed it):
  the change is applied and pushed to every other linked source that takes the field.
- different from its base, and the record changed too: both sides changed. The field's
  policy decides (owner wins, latest wins by the tools' clocks) or a conflict is opened for
  a person, and nothing is overwritten until it is resolved.

A field nobody has set yet takes the first value any source sends.

Two more rules keep syncd from rewriting people's work:

- *Differs at link.* A source with no base for a field (its first read after linking, or
  after its earlier value could not be read) whose value differs from the record's is not
  a change and not an edit: the tools hold the field differently. The field's policy says
  whose value stays (the owner for owner_wins; the declared `initial` tool otherwise), or a
  conflict is held for a person. Time stamps never decide it.
- *Untranslatable means untouchable.* A source whose current value of a field no mapping
  translates gets an untranslatable base for it: nothing is written to that field in that
  source (whatever arrives from elsewhere, in whatever order) until it holds a value syncd
  can read again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from syncd.mapping.apply import FieldIssue
from syncd.model import JsonValue, RecordKind, field_default

Policy = Literal["owner_wins", "latest_wins", "manual"]
LinkKey = tuple[str, str, str]  # (connector, entity, external_id)


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()  # no base: the source's value was never seen
UNTRANSLATABLE: Final = "$untranslatable"  # the key of a base the source's value could not be read


def untranslatable_base(issue: FieldIssue, previous: JsonValue | _Absent) -> dict[str, JsonValue]:
    """The base kept for a field whose current value in a source could not be translated;
    it remembers the last base syncd could read, so a later readable value is compared
    with that."""
    marker: dict[str, JsonValue] = {UNTRANSLATABLE: issue.as_json()["value"]}
    readable = readable_base(previous)
    if not isinstance(readable, _Absent):
        marker["before"] = readable
    return marker


def readable_base(base: JsonValue | _Absent) -> JsonValue | _Absent:
    """The last base that was a readable value (ABSENT if none)."""
    if isinstance(base, dict) and UNTRANSLATABLE in base:
        before: JsonValue | _Absent = base.get("before", ABSENT)
        return before
    return base


def is_untranslatable(base: object) -> bool:
    """The source holds a value syncd cannot read in this field: never write it there."""
    return isinstance(base, dict) and UNTRANSLATABLE in base


@dataclass(frozen=True, slots=True)
class FieldPolicy:
    """How conflicts on a field are settled, and which connector owns it."""

    policy: Policy
    owner: str | None = None
    initial: str | None = None  # whose value stays when the tools differ at first link


@dataclass(slots=True)
class FieldMeta:
    """Who last set a record field, and when by that tool's clock."""

    origin: str | None
    at: datetime | None


@dataclass(slots=True)
class Conflict:
    """An open conflict: the base both sides started from and what each source holds."""

    base: JsonValue
    candidates: dict[str, JsonValue]


@dataclass(slots=True)
class RecordView:
    """A record as reconcile sees it."""

    kind: RecordKind
    fields: dict[str, JsonValue] = field(default_factory=dict)
    meta: dict[str, FieldMeta] = field(default_factory=dict)
    conflicts: dict[str, Conflict] = field(default_factory=dict)
    flags: dict[str, dict[str, JsonValue]] = field(default_factory=dict)

    def value(self, name: str) -> JsonValue:
        """The field's value, or the model's default when unset."""
        if name in self.fields:
            return self.fields[name]
        return field_default(self.kind, name)


@dataclass(slots=True)
class LinkView:
    """One source linked to the record: its bases and which fields it takes and gives."""

    connector: str
    entity: str
    external_id: str
    bases: dict[str, JsonValue]
    pulls: frozenset[str]
    pushes: frozenset[str]

    @property
    def key(self) -> LinkKey:
        """(connector, entity, external_id)."""
        return (self.connector, self.entity, self.external_id)


@dataclass(slots=True)
class Incoming:
    """What one source now holds for a record, translated by its mapping."""

    connector: str
    entity: str
    external_id: str
    values: dict[str, JsonValue]
    updated_at: datetime | None
    issues: Sequence[FieldIssue] = ()

    @property
    def key(self) -> LinkKey:
        """(connector, entity, external_id)."""
        return (self.connector, self.entity, self.external_id)


@dataclass(frozen=True, slots=True)
class Change:
    """One field of one record going from `old` to `new`, and why."""

    field: str
    old: JsonValue
    new: JsonValue
    origin: str
    at: datetime | None
    reason: str  # pulled | owner_wins | latest_wins | differs_at_link | agreed | resolved


@dataclass(frozen=True, slots=True)
class Differs:
    """A field whose values differed when a source was first compared with the record."""

    field: str
    ours: JsonValue  # the record's value, from `held_by`
    theirs: JsonValue  # the source's value
    held_by: str | None
    source: str
    kept: str  # theirs | ours | conflict


@dataclass(slots=True)
class Outcome:
    """What a reconcile decided; `apply_outcome` carries it out on the views."""

    changes: list[Change] = field(default_factory=list)
    bases: dict[LinkKey, dict[str, JsonValue]] = field(default_factory=dict)
    pushes: dict[LinkKey, dict[str, JsonValue]] = field(default_factory=dict)
    cancels: dict[LinkKey, set[str]] = field(default_factory=dict)
    opened: dict[str, Conflict] = field(default_factory=dict)
    updated: dict[str, Conflict] = field(default_factory=dict)
    closed: dict[str, JsonValue] = field(default_factory=dict)
    flags_set: dict[str, dict[str, JsonValue]] = field(default_factory=dict)
    flags_cleared: set[str] = field(default_factory=set)
    differs: list[Differs] = field(default_factory=list)  # reported, whatever was decided
    resolved_by: str | None = None  # who closed conflicts by hand, if someone did

    @property
    def empty(self) -> bool:
        """Nothing to store."""
        return not (
            self.changes
            or self.bases
            or self.pushes
            or self.cancels
            or self.opened
            or self.updated
            or self.closed
            or self.flags_set
            or self.flags_cleared
        )


def push_to_links(
    out: Outcome,
    links: Sequence[LinkView],
    source: LinkKey | None,
    name: str,
    value: JsonValue,
    *,
    by_person: bool = False,
) -> None:
    """Queue `value` for every other linked source that takes the field and does not hold
    it; never for a source holding a value no mapping reads, unless a person decided."""
    for link in links:
        if link.key == source or name not in link.pushes:
            continue
        if not by_person and is_untranslatable(link.bases.get(name)):
            # That source holds a value no mapping reads: leave it as it is.
            out.cancels.setdefault(link.key, set()).add(name)
        elif link.bases.get(name, ABSENT) != value:
            out.pushes.setdefault(link.key, {})[name] = value
        else:  # the source already holds it: drop any older pending write
            out.cancels.setdefault(link.key, set()).add(name)


def _apply(
    out: Outcome,
    record: RecordView,
    links: Sequence[LinkView],
    incoming: Incoming,
    name: str,
    value: JsonValue,
    reason: str,
) -> None:
    out.changes.append(
        Change(name, record.value(name), value, incoming.connector, incoming.updated_at, reason)
    )
    # Any write still pending to the source that made this change would undo it.
    out.cancels.setdefault(incoming.key, set()).add(name)
    push_to_links(out, links, incoming.key, name, value)


def _keep_ours(out: Outcome, link: LinkView | None, name: str, ours: JsonValue) -> None:
    if link is not None and name in link.pushes:
        out.pushes.setdefault(link.key, {})[name] = ours


def _decide(
    policy: FieldPolicy,
    incoming: Incoming,
    meta: FieldMeta | None,
) -> Literal["theirs", "ours", "manual"]:
    other = meta.origin if meta else None
    if policy.policy == "owner_wins":
        if policy.owner == incoming.connector:
            return "theirs"
        if policy.owner is not None and policy.owner == other:
            return "ours"
        return "manual"
    if policy.policy == "latest_wins":
        if meta is None or meta.at is None or incoming.updated_at is None:
            return "manual"
        if incoming.updated_at > meta.at:
            return "theirs"
        if incoming.updated_at < meta.at:
            return "ours"
    return "manual"


def _held_elsewhere(links: Sequence[LinkView], incoming: Incoming, name: str) -> FieldMeta | None:
    """A record field never changed (still its default) that another source already holds:
    that source's value, as much as one it changed. Without this the first source whose
    value differs from the default would win, and the order of reads would decide."""
    for link in links:
        if link.key != incoming.key and not isinstance(
            readable_base(link.bases.get(name, ABSENT)), _Absent
        ):
            return FieldMeta(link.connector, None)
    return None


def _decide_at_link(
    policy: FieldPolicy, incoming: Incoming, meta: FieldMeta
) -> Literal["theirs", "ours", "manual"]:
    """Whose value stays when a source first compared differs: never by time stamps."""
    if policy.policy == "owner_wins":
        return _decide(policy, incoming, meta)
    if policy.initial is not None:
        if policy.initial == incoming.connector:
            return "theirs"
        if policy.initial == meta.origin:
            return "ours"
    return "manual"


def _open_conflict(
    out: Outcome,
    links: Sequence[LinkView],
    incoming: Incoming,
    name: str,
    base: JsonValue | _Absent,
    ours: JsonValue,
    theirs: JsonValue,
    meta: FieldMeta,
) -> None:
    origin = meta.origin or "syncd"
    out.opened[name] = Conflict(
        base=None if isinstance(base, _Absent) else base,
        candidates={origin: ours, incoming.connector: theirs},
    )
    # Hold every pending write of this field until a person decides.
    for other in links:
        if name in other.pushes:
            out.cancels.setdefault(other.key, set()).add(name)


def reconcile(
    record: RecordView,
    links: Sequence[LinkView],
    incoming: Incoming,
    policies: Mapping[str, FieldPolicy],
) -> Outcome:
    """Decide what one source's current values mean for the record and the other sources."""
    out = Outcome()
    link = next((ln for ln in links if ln.key == incoming.key), None)
    bases = link.bases if link else {}
    new_bases: dict[str, JsonValue] = {}
    for name, theirs in incoming.values.items():
        held = bases.get(name, ABSENT)
        base = readable_base(held)
        if theirs == base:
            if is_untranslatable(held):
                new_bases[name] = theirs  # readable again, as it was: writable again
            continue  # unchanged in that source since syncd last saw or wrote it
        new_bases[name] = theirs
        ours = record.value(name)
        conflict = record.conflicts.get(name)
        if conflict is not None:
            candidates = {**conflict.candidates, incoming.connector: theirs}
            if len({_freeze(v) for v in candidates.values()}) == 1:
                out.closed[name] = theirs  # every side now agrees: the conflict is over
                if theirs != ours:
                    _apply(out, record, links, incoming, name, theirs, "agreed")
            else:
                out.updated[name] = Conflict(conflict.base, candidates)
            continue
        if theirs == ours:
            continue  # agreement; only the base moves
        meta = record.meta.get(name) or _held_elsewhere(links, incoming, name)
        no_base = isinstance(base, _Absent)
        if meta is None or ours == base or (no_base and meta.origin == incoming.connector):
            _apply(out, record, links, incoming, name, theirs, "pulled")
            continue
        policy = policies.get(name, FieldPolicy("manual"))
        if no_base:
            decision = _decide_at_link(policy, incoming, meta)
            kept = {"theirs": "theirs", "ours": "ours", "manual": "conflict"}[decision]
            out.differs.append(Differs(name, ours, theirs, meta.origin, incoming.connector, kept))
            reason = "differs_at_link"
        else:
            decision = _decide(policy, incoming, meta)
            reason = policy.policy
        if decision == "theirs":
            _apply(out, record, links, incoming, name, theirs, reason)
        elif decision == "ours":
            _keep_ours(out, link, name, ours)
        else:
            _open_conflict(out, links, incoming, name, base, ours, theirs, meta)
    _untouchable(out, bases, new_bases, incoming)
    if link is not None:
        # Write-only fields (write-backs): make sure this source holds the record's value.
        for name in link.pushes - link.pulls:
            ours = record.value(name)
            if (
                name not in record.conflicts
                and ours is not None
                and bases.get(name, ABSENT) != ours
            ):
                out.pushes.setdefault(link.key, {})[name] = ours
    if new_bases:
        out.bases[incoming.key] = new_bases
    _flag(out, record, incoming)
    return out


def _untouchable(
    out: Outcome,
    bases: Mapping[str, JsonValue],
    new_bases: dict[str, JsonValue],
    incoming: Incoming,
) -> None:
    """Fields the source holds values of that no mapping translates: never written there."""
    for issue in incoming.issues:
        marker = untranslatable_base(issue, bases.get(issue.field, ABSENT))
        if bases.get(issue.field, ABSENT) != marker:
            new_bases[issue.field] = marker
        # A write queued before the value was seen would overwrite it.
        out.cancels.setdefault(incoming.key, set()).add(issue.field)


def _flag(out: Outcome, record: RecordView, incoming: Incoming) -> None:
    flagged = {f"{incoming.connector}:{issue.field}": issue for issue in incoming.issues}
    for key, issue in flagged.items():
        entry = {"connector": incoming.connector, **issue.as_json()}
        if record.flags.get(key) != entry:
            out.flags_set[key] = entry
    prefix = f"{incoming.connector}:"
    for key in record.flags:
        if key.startswith(prefix) and key not in flagged and key[len(prefix) :] in incoming.values:
            out.flags_cleared.add(key)


def resolve(
    record: RecordView, links: Sequence[LinkView], name: str, value: JsonValue, by: str
) -> Outcome:
    """A person settles a conflict (or sets a field): apply `value` and push it everywhere."""
    out = Outcome(resolved_by=by)
    if name in record.conflicts:
        out.closed[name] = value
    if value != record.value(name):
        out.changes.append(Change(name, record.value(name), value, by, None, "resolved"))
    # A person's decision is written everywhere, over unreadable values too: they saw them.
    push_to_links(out, links, None, name, value, by_person=True)
    return out


def apply_outcome(record: RecordView, links: Sequence[LinkView], outcome: Outcome) -> None:
    """Carry an outcome out on the in-memory views (the store writes the same)."""
    for change in outcome.changes:
        record.fields[change.field] = change.new
        record.meta[change.field] = FieldMeta(change.origin, change.at)
    for name in outcome.closed:
        record.conflicts.pop(name, None)
    record.conflicts.update(outcome.opened)
    record.conflicts.update(outcome.updated)
    for flag in outcome.flags_cleared:
        record.flags.pop(flag, None)
    record.flags.update(outcome.flags_set)
    by_key = {link.key: link for link in links}
    for key, bases in outcome.bases.items():
        if key in by_key:
            by_key[key].bases.update(bases)


def _freeze(value: JsonValue) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value
