"""Sync health: per connector how far it has read, when it last worked, what is failing,
what waits to be written; and the rows and records syncd could not read or write.

Messages that come from the tools are passed through the redactor, so a credential a tool
echoed into an error text is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from syncd.api.services import Services, ServicesDep
from syncd.mapping_versions import MappingVersions
from syncd.redaction import Redactor
from syncd.store.cursors import RunRow
from syncd.store.store import Tx

router = APIRouter(tags=["status"])

ERROR_WINDOW = timedelta(hours=24)


class LastRun(BaseModel):
    """The connector's most recent sync run."""

    status: str = Field(description="running | ok | failed")
    started_at: datetime
    finished_at: datetime | None
    pulled: int
    changed: int
    message: str | None = Field(description="what failed, when it failed")


class ConnectorStatus(BaseModel):
    """One connector's sync health."""

    connector: str
    kind: str = Field(description="connector plugin (jira, sheets, shotgrid, ...)")
    cursors: dict[str, str | None] = Field(description="mapped entity -> how far it has read")
    last_run: LastRun | None
    last_failure: LastRun | None = Field(description="the most recent failed run, and why")
    last_success: datetime | None = Field(description="end of the last successful run")
    lag_seconds: float | None = Field(description="now - last success; null: never succeeded")
    runs_24h: int
    failed_runs_24h: int
    source_errors: int = Field(description="unresolved rows/records it could not read or write")
    outbox: int = Field(description="writes waiting to be sent to the tool")
    outbox_failed: int = Field(description="writes given up on (see source errors)")


class MappingState(BaseModel):
    """The mapping in use."""

    version: str = Field(description="content hash")
    version_id: int | None = Field(description="the stored version marked active")


class ServiceStatus(BaseModel):
    """Every connector's health and the queues between them."""

    now: datetime
    connectors: list[ConnectorStatus]
    inbox: int = Field(description="webhook deliveries stored and not yet processed")
    jobs: dict[str, int] = Field(description="jobs waiting, per kind (refresh, poll, push)")
    mapping: MappingState


class SourceErrorOut(BaseModel):
    """A row or record syncd could not read or write, with its place and the reason."""

    id: int
    connector: str
    entity: str
    external_id: str | None
    location: str | None = Field(description='e.g. "Invoices row 17" for a sheet row')
    field: str | None
    message: str
    seen_at: datetime = Field(description="last time the problem was seen")


@dataclass(frozen=True, slots=True)
class _Depths:
    """Per-connector counts taken once for every connector."""

    source_errors: dict[str, int]
    outbox: dict[str, int]
    outbox_failed: dict[str, int]


def _run(row: RunRow | None, redact: Redactor) -> LastRun | None:
    if row is None:
        return None
    return LastRun(
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        pulled=row.pulled,
        changed=row.changed,
        message=redact(row.message),
    )


def _connector_status(
    tx: Tx, services: Services, name: str, depths: _Depths, redact: Redactor
) -> ConnectorStatus:
    last = tx.runs.latest(name)
    failure = tx.runs.latest(name, status="failed")
    last_success = tx.runs.last_success(name)
    by_status = tx.runs.count_by_status(name, tx.now - ERROR_WINDOW)
    return ConnectorStatus(
        connector=name,
        kind=services.connectors[name].kind,
        cursors={
            m.entity: tx.cursors.get(name, m.entity)
            for m in services.engine.mappings.for_connector(name)
        },
        last_run=_run(last, redact),
        last_failure=_run(failure, redact),
        last_success=last_success,
        lag_seconds=(tx.now - last_success).total_seconds() if last_success else None,
        runs_24h=sum(by_status.values()),
        failed_runs_24h=by_status.get("failed", 0),
        source_errors=depths.source_errors.get(name, 0),
        outbox=depths.outbox.get(name, 0),
        outbox_failed=depths.outbox_failed.get(name, 0),
    )


@router.get("/status", response_model=ServiceStatus, summary="Sync health per connector")
def status(services: ServicesDep) -> ServiceStatus:
    """Per connector: cursors, last run and last failure, last success, lag, failures in the
    last 24 hours, unresolved source errors and outbox depth; plus inbox and job queue depth."""
    redact = Redactor(services.settings)
    versions = services.extras.get("versions")
    active = None
    if isinstance(versions, MappingVersions):
        active = next((v for v in versions.all() if v.active), None)
    with services.store.transaction() as tx:
        depths = _Depths(
            source_errors=tx.source_errors.unresolved_by_connector(),
            outbox=tx.outbox.depth(),
            outbox_failed=tx.outbox.failed_by_connector(),
        )
        connectors = [
            _connector_status(tx, services, name, depths, redact) for name in services.connectors
        ]
        inbox = tx.inbox.depth()
        now = tx.now
    return ServiceStatus(
        now=now,
        connectors=connectors,
        inbox=inbox,
        jobs=services.queue.depth(),
        mapping=MappingState(
            version=services.engine.mappings.version, version_id=active.id if active else None
        ),
    )


@router.get(
    "/source-errors",
    response_model=list[SourceErrorOut],
    summary="Rows and records syncd could not read or write",
)
def source_errors(
    services: ServicesDep,
    connector: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[SourceErrorOut]:
    """Unresolved problems, newest first, each with its place and reason."""
    redact = Redactor(services.settings)
    with services.store.transaction() as tx:
        rows = tx.source_errors.unresolved()
    if connector is not None:
        rows = [r for r in rows if r["connector"] == connector]
    return [
        SourceErrorOut(
            id=r["id"],
            connector=r["connector"],
            entity=r["entity"],
            external_id=r["external_id"],
            location=r["location"],
            field=r["field"],
            message=redact(r["message"]) or "",
            seen_at=r["seen_at"],
        )
        for r in rows[:limit]
    ]
