"""The REST v1 HTTP surface: parse requests, check content types, call the service.

Mounted under `/api/v1` and `/api/v1.1` (the site serves both; links echo the prefix called).
Content types are the site's (sg-groundtruth probes 001, 004, 024): the token endpoint takes a
form body or query params; `_search` demands a vendor type and 415s anything else; writes and
`_batch` take plain JSON and 415 the vendor types.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .errors import SgError, unsupported_media
from .service import ShotGridService
from .store import Link

ARRAY_TYPE = "application/vnd+shotgun.api3_array+json"
HASH_TYPE = "application/vnd+shotgun.api3_hash+json"
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class ApiDeps:
    """What the routes need from the sandbox."""

    service: ShotGridService
    authorize: Callable[[Request], Link]  # bearer check + rate limit; returns the actor
    grant: Callable[[dict[str, str]], dict[str, Any]]  # the token endpoint's grants
    server_info: Callable[[str], dict[str, Any]]


def media_type(request: Request) -> str:
    """The request's media type without parameters, lowercased ('' when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def json_body(request: Request) -> Any:
    """The decoded JSON body ({} when empty); 400 "Invalid JSON body" when malformed."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise SgError(400, "Invalid JSON body", source={"body": "Invalid JSON"}) from None


def _require_json(request: Request) -> None:
    kind = media_type(request)
    if kind and kind != JSON_TYPE:
        raise unsupported_media(kind, (JSON_TYPE,))


def api_router(deps: ApiDeps, prefix: str) -> APIRouter:
    """Every REST v1 route under `prefix` (e.g. "/api/v1")."""
    router = APIRouter(prefix=prefix, tags=["ShotGrid REST v1"])
    service = deps.service

    def where(request: Request) -> tuple[str, str, list[tuple[str, str]]]:
        return request.url.path, request.url.query, list(request.query_params.multi_items())

    def self_link(request: Request) -> str:
        query = request.url.query
        return f"{request.url.path}?{query}" if query else request.url.path

    @router.get("")
    async def server_info() -> dict[str, Any]:
        return deps.server_info(prefix)

    @router.post("/auth/access_token")
    async def access_token(request: Request) -> dict[str, Any]:
        params = dict(request.query_params)
        kind = media_type(request)
        raw = await request.body()
        if kind in ("", FORM_TYPE):
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        elif kind == JSON_TYPE:
            body = await json_body(request)
            if not isinstance(body, dict):
                raise SgError(400, "Invalid JSON body")
            params.update({k: str(v) for k, v in body.items()})
        else:
            raise unsupported_media(kind, (FORM_TYPE,))
        return await run_in_threadpool(deps.grant, params)

    @router.get("/schema")
    async def schema_types(request: Request) -> dict[str, Any]:
        deps.authorize(request)
        return service.schema_types(prefix)

    @router.get("/schema/{entity}")
    async def schema_type(request: Request, entity: str) -> dict[str, Any]:
        deps.authorize(request)
        return service.schema_type(entity, prefix)

    @router.get("/schema/{entity}/fields")
    async def schema_fields(request: Request, entity: str) -> dict[str, Any]:
        deps.authorize(request)
        return await run_in_threadpool(service.schema_fields, entity, prefix)

    @router.get("/schema/{entity}/fields/{field}")
    async def schema_field(request: Request, entity: str, field: str) -> dict[str, Any]:
        deps.authorize(request)
        return service.schema_field(entity, field, prefix)

    @router.post("/entity/_batch")
    async def batch(request: Request) -> dict[str, Any]:
        actor = deps.authorize(request)
        _require_json(request)
        body = await json_body(request)
        return await run_in_threadpool(service.batch, actor, body, prefix)

    @router.post("/entity/{entity}/_search")
    async def search(request: Request, entity: str) -> dict[str, Any]:
        deps.authorize(request)
        kind = media_type(request)
        if kind not in (ARRAY_TYPE, HASH_TYPE):
            raise unsupported_media(kind or "", (ARRAY_TYPE, HASH_TYPE))
        body = await json_body(request)
        path, query, params = where(request)
        return await run_in_threadpool(
            lambda: service.search(
                entity,
                body,
                hash_form=kind == HASH_TYPE,
                params=params,
                base=prefix,
                path=path,
                raw_query=query,
            )
        )

    @router.get("/entity/{entity}")
    async def list_records(request: Request, entity: str) -> dict[str, Any]:
        deps.authorize(request)
        path, query, params = where(request)
        return await run_in_threadpool(service.list_records, entity, params, prefix, path, query)

    @router.post("/entity/{entity}", status_code=201)
    async def create(request: Request, entity: str) -> dict[str, Any]:
        actor = deps.authorize(request)
        _require_json(request)
        body = await json_body(request)
        return await run_in_threadpool(service.create, actor, entity, body, prefix)

    @router.get("/entity/{entity}/{record_id}")
    async def read(request: Request, entity: str, record_id: str) -> dict[str, Any]:
        deps.authorize(request)
        query = request.query_params
        return await run_in_threadpool(
            service.read,
            entity,
            record_id,
            query.get("fields"),
            query.get("options[return_only]"),
            prefix,
            self_link(request),
        )

    @router.put("/entity/{entity}/{record_id}")
    async def update(request: Request, entity: str, record_id: str) -> dict[str, Any]:
        actor = deps.authorize(request)
        _require_json(request)
        body = await json_body(request)
        return await run_in_threadpool(service.update, actor, entity, record_id, body, prefix)

    @router.delete("/entity/{entity}/{record_id}", status_code=204)
    async def delete(request: Request, entity: str, record_id: str) -> Response:
        actor = deps.authorize(request)
        await run_in_threadpool(service.delete, actor, entity, record_id)
        return Response(status_code=204)

    @router.post("/entity/{entity}/{record_id}")
    async def revive(request: Request, entity: str, record_id: str) -> dict[str, Any]:
        actor = deps.authorize(request)
        flag = request.query_params.get("revive")
        if flag is None:
            raise SgError(
                400, "Request Parameters invalid.", source={"revive": ["revive is missing"]}
            )
        if flag.lower() not in ("true", "1"):
            raise SgError(
                400, "Request Parameters invalid.", source={"revive": ["revive must be true"]}
            )
        return await run_in_threadpool(
            service.revive, actor, entity, record_id, f"{prefix}/entity/{entity}/{record_id}"
        )

    @router.get("/entity/{entity}/{record_id}/relationships/{field}")
    async def related(request: Request, entity: str, record_id: str, field: str) -> dict[str, Any]:
        deps.authorize(request)
        return await run_in_threadpool(
            service.related, entity, record_id, field, prefix, request.url.path
        )

    return router


def not_routed(request: Request, exc: Exception) -> JSONResponse:
    """An unrouted API path or method: 404 code 103 with a null detail, as the site answers."""
    del request, exc
    return SgError(404, "Not Found").response()
