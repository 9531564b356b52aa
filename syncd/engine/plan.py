"""What a dry run says a sync would do: every write, every conflict, every new link."""

from __future__ import annotations

import threading

from pydantic import BaseModel, ConfigDict, Field

from syncd.model import JsonValue
from syncd.reconcile import FieldMeta, FieldPolicy


class PlannedWrite(BaseModel):
    """One field a sync would write to one source record, and why."""

    model_config = ConfigDict(frozen=True)

    tool: str = Field(description="the connector written to")
    entity: str
    key: str = Field(description="the source record's id in the tool, e.g. HRB-12")
    title: str | None = Field(description="the record's title (or name, or number)")
    field: str = Field(description="the record field")
    path: str = Field(description="where the tool holds it, as the mapping file says")
    current: JsonValue = Field(description="what the tool holds now (as syncd last read it)")
    new: JsonValue = Field(description="what would be written")
    why: str = Field(description="the field's policy, and where the new value comes from")


class PlannedConflict(BaseModel):
    """A conflict a sync would open: a field two tools hold differently, for a person."""

    model_config = ConfigDict(frozen=True)

    title: str | None
    field: str
    candidates: dict[str, JsonValue] = Field(description="what each tool holds")
    records: list[str] = Field(description="the source records, e.g. jira issue HRB-12")


class PlannedLink(BaseModel):
    """Source records a sync would find to be one piece of work (or one invoice...)."""

    model_config = ConfigDict(frozen=True)

    title: str | None
    records: list[str] = Field(description="the source records, e.g. jira issue HRB-12")


class DryRunPlan(BaseModel):
    """Everything a sync would do, listed; nothing of it done."""

    writes: list[PlannedWrite] = []
    conflicts: list[PlannedConflict] = []
    links: list[PlannedLink] = []


class WriteRecorder:
    """Collects the writes a dry run's push step would send (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writes: list[PlannedWrite] = []

    def add(self, writes: list[PlannedWrite]) -> None:
        """Record writes that would be sent."""
        with self._lock:
            self._writes.extend(writes)

    def writes(self) -> list[PlannedWrite]:
        """The writes so far, in a stable order (tool, key, field)."""
        with self._lock:
            return sorted(self._writes, key=lambda w: (w.tool, w.entity, w.key, w.field))


def why(policy: FieldPolicy | None, meta: FieldMeta | None) -> str:
    """`owner_wins (owner: shotgrid); value from shotgrid` and the like."""
    if policy is None:
        said = "no policy"
    elif policy.owner:
        said = f"{policy.policy} (owner: {policy.owner})"
    else:
        said = str(policy.policy)
    if meta is not None and meta.origin:
        said += f"; value from {meta.origin}"
    return said


def title_of(fields: dict[str, JsonValue]) -> str | None:
    """What people call a record: its title, name or number."""
    for name in ("title", "name", "number"):
        value = fields.get(name)
        if value not in (None, ""):
            return str(value)
    return None
