"""Trigger a sync now: queue a poll of one connector (or all), incremental or full; or ask
what a sync would do (a dry run that lists it and changes nothing)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from syncd.api.admin.parts import scheduler_of
from syncd.api.admin.responses import ADMIN_RESPONSES, NOT_FOUND
from syncd.api.auth import AdminDep
from syncd.api.services import ServicesDep
from syncd.engine.dry_run import dry_run
from syncd.engine.plan import DryRunPlan

log = logging.getLogger(__name__)

router = APIRouter(tags=["sync"])


class SyncRequest(BaseModel):
    """Which connector to sync, and how."""

    model_config = ConfigDict(extra="forbid")

    connector: str | None = Field(None, description="a connector name; null: every connector")
    full: StrictBool = Field(False, description="re-read everything instead of what changed")


class SyncQueued(BaseModel):
    """The polls queued (a poll already waiting for a connector absorbs the new one)."""

    connectors: list[str]
    full: bool


@router.post(
    "/sync",
    status_code=202,
    response_model=SyncQueued,
    responses={**ADMIN_RESPONSES, **NOT_FOUND},
    summary="Queue a sync now",
)
def trigger(body: SyncRequest, by: AdminDep, services: ServicesDep) -> JSONResponse:
    """Queue a poll job per connector; the worker runs it (202: queued, not yet done)."""
    log.info(
        "sync of %s (full=%s) requested by %s", body.connector or "every connector", body.full, by
    )
    names = list(services.connectors)
    if body.connector is not None:
        if body.connector not in services.connectors:
            raise HTTPException(404, f"no connector {body.connector!r}; known: {', '.join(names)}")
        names = [body.connector]
    scheduler = scheduler_of(services)
    for name in names:
        scheduler.trigger(name, full=body.full)
    services.wake_worker.set()
    answer = SyncQueued(connectors=names, full=body.full)
    return JSONResponse(answer.model_dump(), status_code=202)


class DryRunRequest(BaseModel):
    """Which connector a dry run reads, and how."""

    model_config = ConfigDict(extra="forbid")

    connector: str | None = Field(None, description="a connector name; null: every connector")
    full: StrictBool = Field(False, description="re-read everything instead of what changed")


class DryRunAnswer(DryRunPlan):
    """What a sync would do: its counts, and every write, conflict and link listed."""

    pulled: int
    created: int
    pushed: int = Field(description="source records that would be written to")
    conflicts_opened: int
    errors: list[str]


@router.post(
    "/sync/dry-run",
    response_model=DryRunAnswer,
    responses={**ADMIN_RESPONSES, **NOT_FOUND},
    summary="List what a sync would do, doing none of it",
)
def dry_run_sync(body: DryRunRequest, by: AdminDep, services: ServicesDep) -> DryRunAnswer:
    """Run the sync on a scratch copy of the store with the tools only read: every write
    (tool, record, field, current → new value, why), conflict and link it would make. Takes
    as long as a sync; stores nothing and writes nothing to any tool."""
    log.info(
        "dry run of %s (full=%s) requested by %s",
        body.connector or "every connector",
        body.full,
        by,
    )
    connectors = services.engine.connectors
    if body.connector is not None and body.connector not in connectors:
        known = ", ".join(connectors)
        raise HTTPException(404, f"no connector {body.connector!r}; known: {known}")
    only = [body.connector] if body.connector is not None else None
    done = dry_run(services.store, connectors, services.engine.mappings, only=only, full=body.full)
    report = done.report
    return DryRunAnswer(
        **done.plan.model_dump(),
        pulled=report.pulled,
        created=report.created,
        pushed=report.pushed,
        conflicts_opened=report.conflicts_opened,
        errors=report.errors,
    )
