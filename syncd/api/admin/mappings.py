"""Mappings: read the active one and its versions; preview, apply and roll back changes.

An upload names files (name -> TOML text); files it leaves out keep their active text, and
a file set to null is removed. It is validated as a whole: a mapping with any error is
refused with every problem and its place (422), and nothing is stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from datetime import datetime
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from syncd.api.admin.parts import scheduler_of, switch_of, versions_of
from syncd.api.admin.preview import MappingPreview, preview_mappings
from syncd.api.admin.responses import (
    ADMIN_RESPONSES,
    INVALID_MAPPING,
    MAX_ID,
    NOT_FOUND,
    problems_response,
)
from syncd.api.auth import AdminDep, require_admin
from syncd.api.services import Services, ServicesDep
from syncd.errors import ConfigError, Problem
from syncd.mapping.load import MappingSet, MappingSource
from syncd.store.mapping_versions import MappingVersion

log = logging.getLogger(__name__)

router = APIRouter(prefix="/mappings", tags=["mappings"])

MAX_FILES = 64
# The name of a file an upload adds, in the folder of the active files.
NEW_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.toml")
MAX_FILE_CHARS = 512 * 1024

FileName = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
FileText = Annotated[str, StringConstraints(max_length=MAX_FILE_CHARS)]


class ActiveMappings(BaseModel):
    """The mapping this process runs, with its files."""

    version_id: int | None = Field(description="the stored version marked active")
    version: str = Field(description="content hash of the mapping the engine uses")
    reload_pending: bool = Field(
        description="the stored active version is not the one this process runs (applied "
        "elsewhere, e.g. by the CLI or another replica): it is used after a restart"
    )
    files: dict[str, str] = Field(description="file name -> TOML text")
    warnings: list[str]


class VersionOut(BaseModel):
    """One stored mapping version."""

    id: int
    version: str = Field(description="content hash")
    created_at: datetime
    created_by: str = Field(description="token name, `files` (loaded at start-up) or `cli`")
    note: str | None
    active: bool


class VersionDetail(VersionOut):
    """A stored version with its files."""

    files: dict[str, str]


class MappingUpload(BaseModel):
    """Changed mapping files; the other active files are kept as they are."""

    model_config = ConfigDict(extra="forbid")

    files: dict[FileName, FileText | None] = Field(
        default_factory=dict,
        max_length=MAX_FILES,
        description="file name (as `GET /mappings` names it) -> TOML text; null removes the "
        "file; files left out keep their active text",
    )


class PreviewRequest(MappingUpload):
    """A mapping to try against the stored source records."""

    limit: StrictInt = Field(200, ge=0, le=5000, description="list at most this many field changes")


class ApplyRequest(MappingUpload):
    """A mapping to store as a new version and use from now on."""

    note: str | None = Field(None, max_length=2000, description="why, for the history")
    resync: StrictBool = Field(
        False,
        description="also queue a full re-read of every connector, so records already "
        "synced are translated with the new mapping now rather than when they next change",
    )


class Applied(BaseModel):
    """The version now in use."""

    version: VersionOut
    unchanged: bool = Field(description="the upload equals the active mapping: nothing stored")
    warnings: list[str]
    resync_queued: list[str] = Field(description="connectors queued for a full re-read")


def _out(v: MappingVersion) -> VersionOut:
    return VersionOut(
        id=v.id,
        version=v.version,
        created_at=v.created_at,
        created_by=v.created_by,
        note=v.note,
        active=v.active,
    )


def _check_names(active: Collection[str], upload: MappingUpload) -> None:
    """Raise ConfigError for a name that is neither an active file nor a new bare file name.

    A name is only ever a key in the stored version, but one like `../../etc/passwd` must
    not be accepted as if it were a mapping file.
    """
    folders = {PurePosixPath(name).parent for name in active}
    problems = []
    for name in upload.files:
        if name in active:
            continue
        path = PurePosixPath(name)
        if upload.files[name] is None:
            problems.append(Problem(f"files.{name}", "no such mapping file to remove"))
        elif path.parent not in folders or not NEW_FILE_NAME.fullmatch(path.name):
            problems.append(
                Problem(
                    f"files.{name}",
                    "not a file of the active mapping, nor a new one beside them (a name of "
                    "letters, digits, '_', '-' and '.' ending in .toml, in the same folder)",
                )
            )
    if problems:
        raise ConfigError(problems)


def _candidate(services: Services, upload: MappingUpload) -> MappingSet:
    """The active files with the upload laid over them, checked (raises ConfigError)."""
    files = {s.name: s.text for s in services.engine.mappings.sources}
    _check_names(files.keys(), upload)
    for name, text in upload.files.items():
        if text is None:
            files.pop(name, None)
        else:
            files[name] = text
    if not files:
        raise ConfigError([Problem("files", "the upload removes every mapping file")])
    sources = [MappingSource(name, text) for name, text in sorted(files.items())]
    return versions_of(services).build(sources)


def _stored(services: Services, version_id: int) -> VersionOut:
    found = next((v for v in versions_of(services).all() if v.id == version_id), None)
    if found is None:
        raise HTTPException(404, f"no mapping version {version_id}")
    return _out(found)


@router.get("", response_model=ActiveMappings, summary="The active mapping and its files")
def active(services: ServicesDep) -> ActiveMappings:
    """The mapping the engine runs now: version, files and warnings."""
    mappings = services.engine.mappings
    stored = next((v for v in versions_of(services).all() if v.active), None)
    return ActiveMappings(
        version_id=stored.id if stored else None,
        version=mappings.version,
        reload_pending=stored is not None and stored.version != mappings.version,
        files={s.name: s.text for s in mappings.sources},
        warnings=[str(w) for w in mappings.warnings],
    )


@router.get("/versions", response_model=list[VersionOut], summary="Every stored version")
def list_versions(services: ServicesDep) -> list[VersionOut]:
    """Stored mapping versions, newest first."""
    return [_out(v) for v in versions_of(services).all()]


@router.get(
    "/versions/{version_id}",
    response_model=VersionDetail,
    responses=NOT_FOUND,
    summary="One stored version with its files",
)
def get_version(
    version_id: Annotated[int, Path(ge=1, le=MAX_ID)], services: ServicesDep
) -> VersionDetail:
    """A stored version and its files."""
    meta = _stored(services, version_id)
    files = {s.name: s.text for s in versions_of(services).sources(version_id)}
    return VersionDetail(**meta.model_dump(), files=files)


@router.post(
    "/preview",
    response_model=MappingPreview,
    responses={**ADMIN_RESPONSES, **INVALID_MAPPING},
    dependencies=[Depends(require_admin)],
    summary="Dry run: which records and fields a changed mapping would change",
)
def preview(body: PreviewRequest, services: ServicesDep) -> MappingPreview | JSONResponse:
    """Validate the upload, then translate every stored source record with the active and
    the uploaded mapping and list the differences. Nothing is stored."""
    try:
        candidate = _candidate(services, body)
    except ConfigError as exc:
        return problems_response(exc)
    return preview_mappings(services.store, services.engine.mappings, candidate, limit=body.limit)


@router.post(
    "/apply",
    response_model=Applied,
    responses={**ADMIN_RESPONSES, **INVALID_MAPPING},
    summary="Store a changed mapping as a new version and use it now",
)
def apply(body: ApplyRequest, by: AdminDep, services: ServicesDep) -> Applied | JSONResponse:
    """Validate the upload, store it as the new active version and hot-reload the engine
    (no restart). Optionally queue a full re-read of every connector."""
    try:
        candidate = _candidate(services, body)
    except ConfigError as exc:
        return problems_response(exc)
    current = next((v for v in versions_of(services).all() if v.active), None)
    unchanged = current is not None and (
        current.version == candidate.version == services.engine.mappings.version
    )
    if current is not None and unchanged:
        version = _out(current)
    else:
        version = _stored(
            services, switch_of(services).apply_mappings(candidate, by=by, note=body.note)
        )
    queued: list[str] = []
    if body.resync:
        scheduler = scheduler_of(services)
        for name in services.connectors:
            scheduler.trigger(name, full=True)
            queued.append(name)
        services.wake_worker.set()
    return Applied(
        version=version,
        unchanged=unchanged,
        warnings=[str(w) for w in candidate.warnings],
        resync_queued=queued,
    )


@router.post(
    "/rollback/{version_id}",
    response_model=VersionOut,
    responses={**ADMIN_RESPONSES, **NOT_FOUND, **INVALID_MAPPING},
    summary="Make an earlier version active again",
)
def rollback(
    version_id: Annotated[int, Path(ge=1, le=MAX_ID)], by: AdminDep, services: ServicesDep
) -> VersionOut | JSONResponse:
    """Activate a stored version and hot-reload the engine. 422 if it no longer validates
    (e.g. a field it names was removed from syncd since)."""
    switch = switch_of(services)
    _stored(services, version_id)
    try:
        mappings = switch.rollback_mappings(version_id)
    except ConfigError as exc:
        return problems_response(exc)
    log.info("mapping version %s (%s) made active again by %s", version_id, mappings.version, by)
    return _stored(services, version_id)
