"""Conflicts: list them with what each tool holds; resolve one (take a side, or set a value).

A resolution is stored with the caller's token name, and its value is queued for every tool
linked to the record: the worker writes it (push jobs), so the request never waits on a tool.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from syncd.api.admin.responses import ADMIN_RESPONSES, MAX_ID, NOT_FOUND, ErrorOut
from syncd.api.auth import AdminDep
from syncd.api.services import Services, ServicesDep
from syncd.model import RecordKind, canonical_value
from syncd.store.links import LinkRow

router = APIRouter(prefix="/conflicts", tags=["conflicts"])


class SourceRef(BaseModel):
    """A tool's record behind a syncd record: where a person finds it."""

    connector: str
    entity: str
    external_id: str = Field(description="the record's id in that tool (issue key, row, id)")
    url: str | None = Field(None, description="from `[rollup] record_links`, when configured")


class ConflictOut(BaseModel):
    """A field two tools changed differently, waiting for a person (or settled by one)."""

    id: int
    record_id: str
    kind: str
    field: str
    status: Literal["open", "resolved"]
    opened_at: datetime
    base: JsonValue = Field(description="the value both sides started from")
    holds: dict[str, JsonValue] = Field(description="connector -> the value that tool holds")
    record_value: JsonValue = Field(description="what syncd's record holds meanwhile")
    sources: list[SourceRef] = Field(description="the record in each linked tool")
    resolution: JsonValue = None
    resolved_by: str | None = None


class TakeSide(BaseModel):
    """Keep one tool's value."""

    model_config = ConfigDict(extra="forbid")

    take: str = Field(min_length=1, description="a connector named in the conflict's `holds`")


class SetValue(BaseModel):
    """Set a value of your own (null clears the field)."""

    model_config = ConfigDict(extra="forbid")

    value: JsonValue = Field(description="checked like any value of the field")


class Resolved(BaseModel):
    """A settled conflict, and the tools its value is queued for."""

    id: int
    record_id: str
    field: str
    value: JsonValue
    resolved_by: str
    pushes_queued: list[str] = Field(description="connectors a write is queued for")


def source_url(services: Services, connector: str, entity: str, external_id: str) -> str | None:
    """The tool's page of a record, from `[rollup] record_links` (None when not configured)."""
    template = services.settings.rollup.record_links.get(connector)
    if template is None:
        return None
    try:
        return template.format(entity=entity, external_id=external_id)
    except (KeyError, IndexError, ValueError):
        return None  # a template with other placeholders: show the id alone


def source_refs(services: Services, links: list[LinkRow]) -> list[SourceRef]:
    """Where each of a record's live links is."""
    return [
        SourceRef(
            connector=link.connector,
            entity=link.entity,
            external_id=link.external_id,
            url=source_url(services, link.connector, link.entity, link.external_id),
        )
        for link in sorted(links, key=lambda ln: ln.key)
        if not (link.placeholder or link.deleted)
    ]


@router.get("", response_model=list[ConflictOut], summary="Conflicts, newest first")
def list_conflicts(
    services: ServicesDep,
    status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ConflictOut]:
    """Open (default), resolved or all conflicts, with what each tool holds and where."""
    with services.store.transaction() as tx:
        rows = tx.conflicts.find(status=None if status == "all" else status, limit=limit)
        ids = {row.record_id for row in rows}
        links = tx.links.of_records(ids)
        records = tx.records.load(ids)
    out = []
    for row in rows:
        record = records.get(row.record_id)
        out.append(
            ConflictOut(
                id=row.id,
                record_id=row.record_id,
                kind=row.kind,
                field=row.field,
                status="open" if row.status == "open" else "resolved",
                opened_at=row.opened_at,
                base=row.base,
                holds=row.candidates,
                record_value=record.value(row.field) if record else None,
                sources=source_refs(services, links.get(row.record_id, [])),
                resolution=row.resolution,
                resolved_by=row.resolved_by,
            )
        )
    return out


def _invalid(field: str, message: str) -> RequestValidationError:
    """A 422 shaped like FastAPI's own, pointing at the body field that is wrong."""
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


def _chosen(
    body: TakeSide | SetValue, kind: str, field: str, holds: Mapping[str, JsonValue]
) -> JsonValue:
    if isinstance(body, TakeSide):
        if body.take not in holds:
            sides = ", ".join(sorted(holds))
            raise _invalid("take", f"{body.take!r} is not a side of this conflict; sides: {sides}")
        return holds[body.take]
    try:
        return canonical_value(RecordKind(kind), field, body.value)
    except ValueError as exc:
        raise _invalid("value", f"cannot set {field}: {exc}") from None


@router.post(
    "/{conflict_id}/resolve",
    response_model=Resolved,
    responses={
        **ADMIN_RESPONSES,
        **NOT_FOUND,
        409: {"model": ErrorOut, "description": "already resolved"},
    },
    summary="Resolve a conflict: take one tool's value, or set one",
)
def resolve(
    conflict_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: TakeSide | SetValue,
    by: AdminDep,
    services: ServicesDep,
) -> Resolved:
    """Settle the field with `{"take": "<connector>"}` or `{"value": ...}` (exactly one); the
    value goes to every linked tool, and the history records the token name."""
    with services.store.transaction() as tx:
        row = tx.conflicts.get(conflict_id)
    if row is None:
        raise HTTPException(404, f"no conflict {conflict_id}")
    if row.status != "open":
        raise HTTPException(
            409, f"conflict {conflict_id} was already resolved by {row.resolved_by}"
        )
    value = _chosen(body, row.kind, row.field, row.candidates)
    services.engine.resolve_conflict(row.record_id, row.field, value, by)
    services.metrics.conflicts_resolved.inc()
    with services.store.transaction() as tx:
        targets = tx.outbox.connectors_pending_for(row.record_id)
        for name in targets:
            services.queue.enqueue(
                tx, "push", {"connector": name}, dedupe_key=f"push:{name}", lock_key=f"push:{name}"
            )
    if targets:
        services.wake_worker.set()
    return Resolved(
        id=conflict_id,
        record_id=row.record_id,
        field=row.field,
        value=value,
        resolved_by=by,
        pushes_queued=targets,
    )
