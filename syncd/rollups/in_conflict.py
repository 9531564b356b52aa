"""The one rule for records in conflict: a field in conflict counts with its last agreed value.

While two tools hold a field differently and a person has not decided, the record's stored
value is whichever tool's value syncd happened to store first, which depends on the order
the tools were read (six identical fresh syncs gave two different sets of milestone,
overdue and blocked counts). The figures do not use it: they count the field with the value
the tools last agreed on (the conflict's base), and with no value when they never agreed
(a conflict found when the records were first linked: a task's status is then unknown,
which counts as open work, neither done nor blocked). The conflict itself is listed beside
the figures, on the sync health tab, with what each tool holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TypeVar

from pydantic import ValidationError

from syncd.model import JsonValue
from syncd.rollups.model import Entry, RollupInput

E = TypeVar("E", bound=Entry)  # type: ignore[type-arg]


def as_last_agreed(data: RollupInput) -> RollupInput:
    """`data` with every field in conflict set to its last agreed value (and its change
    time dropped: it was the time of the value not counted)."""
    held: dict[str, dict[str, JsonValue]] = {}
    for conflict in data.conflicts:
        held.setdefault(conflict.record_id, {})[conflict.field] = conflict.base
    if not held:
        return data
    return dataclasses.replace(
        data,
        tasks=tuple(_settled(e, held) for e in data.tasks),
        invoices=tuple(_settled(e, held) for e in data.invoices),
        assets=tuple(_settled(e, held) for e in data.assets),
        budget_lines=tuple(_settled(e, held) for e in data.budget_lines),
    )


def in_conflict(data: RollupInput, field: str) -> int:
    """How many records have `field` in conflict (for the notes beside the figures)."""
    return len({c.record_id for c in data.conflicts if c.field == field})


def _settled(entry: E, held: Mapping[str, Mapping[str, JsonValue]]) -> E:
    agreed = held.get(entry.id)
    if not agreed:
        return entry
    model = type(entry.record)
    values = {name: v for name, v in agreed.items() if name in model.model_fields}
    if not values:
        return entry
    current = entry.record.model_dump()
    try:
        record = model.model_validate({**current, **values})
    except ValidationError:
        # A base that no longer fits the model (a value table changed since): unknown.
        record = model.model_validate({**current, **dict.fromkeys(values)})
    changed = {name: at for name, at in entry.changed_at.items() if name not in values}
    return dataclasses.replace(entry, record=record, changed_at=changed)
