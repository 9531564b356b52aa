"""Records: one record with its fields, flags, open conflicts and source records; its history.

Every figure traces back to a record, and every record to the source records behind it (as
last read) and to its audit log: who changed which field, when, from where and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field, JsonValue

from syncd.api.admin.conflicts import SourceRef, source_url
from syncd.api.admin.responses import NOT_FOUND
from syncd.api.services import ServicesDep

router = APIRouter(prefix="/records", tags=["records"])

RecordId = Annotated[str, Path(min_length=1, max_length=36)]


class FieldOrigin(BaseModel):
    """Who last set a field, and when by that tool's clock."""

    origin: str | None = Field(description="connector name, or the token name of a person")
    at: datetime | None


class OpenConflict(BaseModel):
    """A conflict still waiting on this record."""

    id: int
    field: str
    base: JsonValue
    holds: dict[str, JsonValue]
    opened_at: datetime


class LinkOut(SourceRef):
    """A source record behind this record, as last read."""

    placeholder: bool = Field(description="named by another tool, not read yet")
    deleted: bool
    seen_at: datetime | None = Field(description="when syncd last read it")
    source_updated_at: datetime | None = Field(description="its last change, by the tool's clock")
    data: dict[str, JsonValue] | None = Field(description="the source record as last read")


class RecordOut(BaseModel):
    """A record: one piece of work (or invoice, asset, budget line) across the tools."""

    id: str
    kind: str
    created_at: datetime
    updated_at: datetime
    fields: dict[str, JsonValue]
    origins: dict[str, FieldOrigin]
    flags: dict[str, dict[str, JsonValue]] = Field(
        description='"connector:field" -> a value that tool holds which cannot be translated'
    )
    conflicts: list[OpenConflict]
    links: list[LinkOut]


class AuditEntry(BaseModel):
    """One change of one field."""

    id: int
    field: str
    old: JsonValue
    new: JsonValue
    origin: str = Field(description="connector name, or the token name of a person")
    reason: str = Field(description="why: pulled, resolved, owner, latest, ...")
    at: datetime | None = Field(description="the tool's time of the change, when it says")
    recorded_at: datetime
    mapping_version: str | None
    run_id: str | None


class RecordHistory(BaseModel):
    """A record's audit log, oldest first."""

    record_id: str
    total: int
    left_out: int = Field(description="older entries not listed because of `limit`")
    entries: list[AuditEntry]


def _origin(raw: Any) -> FieldOrigin:
    at = raw.get("at") if isinstance(raw, dict) else None
    return FieldOrigin(
        origin=raw.get("origin") if isinstance(raw, dict) else None,
        at=datetime.fromisoformat(at) if isinstance(at, str) else None,
    )


@router.get("/{record_id}", response_model=RecordOut, responses=NOT_FOUND, summary="One record")
def get_record(record_id: RecordId, services: ServicesDep) -> RecordOut:
    """Fields, who set them, flags, open conflicts and the source records behind it."""
    with services.store.transaction() as tx:
        row = tx.records.get(record_id)
        if row is None:
            raise HTTPException(404, f"no record {record_id}")
        conflicts = tx.conflicts.open_of(record_id)
        links = tx.links.details(record_id)
    return RecordOut(
        id=row.id,
        kind=row.kind,
        created_at=row.created_at,
        updated_at=row.updated_at,
        fields=row.fields,
        origins={name: _origin(meta) for name, meta in row.meta.items()},
        flags=row.flags,
        conflicts=[
            OpenConflict(
                id=c.id, field=c.field, base=c.base, holds=c.candidates, opened_at=c.opened_at
            )
            for c in conflicts
        ],
        links=[
            LinkOut(
                connector=ln.connector,
                entity=ln.entity,
                external_id=ln.external_id,
                url=source_url(services, ln.connector, ln.entity, ln.external_id),
                placeholder=ln.placeholder,
                deleted=ln.deleted,
                seen_at=ln.seen_at,
                source_updated_at=ln.source_updated_at,
                data=ln.data,
            )
            for ln in links
        ],
    )


@router.get(
    "/{record_id}/history",
    response_model=RecordHistory,
    responses=NOT_FOUND,
    summary="A record's history from the audit log",
)
def history(
    record_id: RecordId,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=5000, description="the most recent entries")] = 500,
) -> RecordHistory:
    """Every change of every field: old and new value, origin, reason, the tool's time, when
    syncd recorded it and under which mapping version. A record merged into another keeps
    its history here."""
    with services.store.transaction() as tx:
        entries = tx.audit.history(record_id)
        exists = tx.records.exists(record_id)
    if not entries and not exists:
        raise HTTPException(404, f"no record {record_id}")
    shown = entries[-limit:]
    return RecordHistory(
        record_id=record_id,
        total=len(entries),
        left_out=len(entries) - len(shown),
        entries=[
            AuditEntry(
                id=e["id"],
                field=e["field"],
                old=e["old"],
                new=e["new"],
                origin=e["origin"],
                reason=e["reason"],
                at=e["at"],
                recorded_at=e["recorded_at"],
                mapping_version=e["mapping_version"],
                run_id=e["run_id"],
            )
            for e in shown
        ],
    )
