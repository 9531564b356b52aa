"""`POST /api3/json`: the JSON-RPC protocol of `shotgun_api3` over the REST emulator's store.

Every method reads and writes the same `ShotGridService` store, under its lock, through the same
filter engine and validated `Transaction` as REST v1, so the two views always agree (and api3
writes send the same webhooks). Shapes follow shotgun_api3 3.10.3 (`shotgun.py`): `read` gets
`{type, filters, return_fields, sorts, paging, return_only, return_paging_info[_without_counts]}`
and answers `{"entities", "paging_info"}`; `create` / `update` answer the entity with the fields
written (and `return_fields`); `delete` / `revive` answer a bool (False when nothing changed,
a fault for an unknown id); `batch` is all-or-nothing with one result per request.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from .api3_auth import Api3Auth
from .api3_filters import to_hash_filters
from .api3_protocol import Api3Fault, RpcCall, parse_call, require_hash, results, split_params
from .api3_records import entity_dict, field_names, with_valid_links
from .api3_schema import schema_entity_read, schema_field_read, schema_read
from .api3_summaries import Summarizer
from .errors import SgError, not_found
from .filters import FilterCompiler
from .query import MAX_PAGE_SIZE, select
from .schema import EntityDef
from .service import ShotGridService
from .store import Link, Record
from .writes import Transaction

API3_PATH = "/api3/json"
GZIP_MIN_BYTES = 1024  # small replies are not worth compressing
_Method = Callable[[Link, Any], Any]


@dataclass(frozen=True, slots=True)
class Api3Deps:
    """What the api3 surface needs from the sandbox."""

    service: ShotGridService
    auth: Api3Auth
    version: str  # the site's version, "8.26.0.8056"
    build: str
    throttle: Callable[[], None]  # the site's rate limit; raises a 429 SgError


class Api3:
    """The api3 methods; `call` turns one request body into one reply body."""

    def __init__(self, deps: Api3Deps) -> None:
        self.deps, self.service = deps, deps.service
        self.methods: dict[str, _Method] = {
            "read": self.read,
            "create": self.create,
            "update": self.update,
            "delete": self.delete,
            "revive": self.revive,
            "batch": self.batch,
            "summarize": self.summarize,
            "schema_read": lambda _a, _p: schema_read(self.service.schema),
            "schema_entity_read": lambda _a, _p: schema_entity_read(self.service.schema),
            "schema_field_read": lambda _a, p: schema_field_read(
                self.service.schema, require_hash("schema_field_read", p)
            ),
            "get_session_token": lambda a, _p: {"session_id": self.deps.auth.issue_session(a)},
        }

    def call(self, raw: bytes) -> dict[str, Any]:
        """The reply to one request body: results, or the exception hash."""
        try:
            return self._dispatch(parse_call(raw))
        except Api3Fault as fault:
            return fault.body()
        except SgError as error:
            return Api3Fault.from_sg_error(error).body()

    def _dispatch(self, call: RpcCall) -> dict[str, Any]:
        if call.method_name == "info":
            return self.info()
        method = self.methods.get(call.method_name)
        if method is None:
            raise Api3Fault(f"API method '{call.method_name}' is not served by the sandbox.")
        auth, params = split_params(call, needs_auth=True)
        actor = self.deps.auth.authenticate(auth)
        return results(method(actor, params))

    def info(self) -> dict[str, Any]:
        """The handshake, sent without auth and answered bare (no `results` wrapper).

        `version` decides the client's paging: from 7.4.0 it asks for
        `return_paging_info_without_counts` and follows `has_next_page`; its page size is
        `api_max_entities_per_page` when present (`_Config.records_per_page`).
        """
        numbers = [int(part) for part in self.deps.version.split(".")]
        return {
            "version": numbers[:3],
            "full_version": numbers,
            "user_authentication_method": "default",
            "unified_login_flow_enabled": True,
            "totp_enabled": False,
            "s3_uploads_enabled": False,
            "s3_direct_uploads_enabled": False,
            "api_max_entities_per_page": self.page_limit(),
            "build": self.deps.build,
        }

    # -- reads ----------------------------------------------------------------------------
    def read(self, actor: Link, params: Any) -> dict[str, Any]:
        """`find` / `find_one`: one page of entities and whether another follows."""
        del actor
        p = require_hash("read", params)
        if p.get("additional_filter_presets"):
            raise Api3Fault("API read() additional_filter_presets are not served by the sandbox.")
        entity = self._entity("read", p.get("type"))
        fields = field_names(p.get("return_fields"), ["id"])
        retired = _return_only(p.get("return_only"))
        size, number = self._paging(p.get("paging"))
        service = self.service
        with service.lock:
            rows = self._matching(entity, p, retired)
            start = (number - 1) * size
            entities = [
                entity_dict(service.store, entity, r, fields) for r in rows[start : start + size]
            ]
        paging_info: dict[str, Any] = {"has_next_page": len(rows) > number * size}
        if p.get("return_paging_info"):
            paging_info["entity_count"] = len(rows)
        return {"entities": entities, "paging_info": paging_info}

    def summarize(self, actor: Link, params: Any) -> dict[str, Any]:
        """Totals (and groups) over the filtered records."""
        del actor
        p = require_hash("summarize", params)
        entity = self._entity("summarize", p.get("type"))
        with self.service.lock:
            rows = self._matching(entity, p, retired=False)
            summarizer = Summarizer(self.service.store, entity)
            return summarizer.summarize(rows, p.get("summaries"), p.get("grouping"))

    def _matching(self, entity: EntityDef, p: dict[str, Any], retired: bool) -> list[Record]:
        service = self.service
        compiler = FilterCompiler(service.store, entity, service.now(), verb="read")
        predicate, hint = compiler.compile_hash(to_hash_filters(p.get("filters")))
        rows = select(service.store, entity, predicate, hint, _sorts(p.get("sorts")), retired)
        if p.get("include_archived_projects") is False and "project" in entity.index:
            rows = [r for r in rows if not self._archived(r.values[entity.index["project"]])]
        return rows

    def _archived(self, project: Link | None) -> bool:
        store = self.service.store
        row = store.get(*project) if project is not None else None
        entity = store.schema.entities["Project"]
        return row is not None and row.values[entity.index["archived"]] is True

    def _paging(self, paging: Any) -> tuple[int, int]:
        paging = paging or {}
        if not isinstance(paging, dict):
            raise Api3Fault("API read() paging must be a hash.")
        size, number = paging.get("entities_per_page", MAX_PAGE_SIZE), paging.get("current_page", 1)
        for name, value in (("entities_per_page", size), ("current_page", number)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise Api3Fault(f"API read() paging.{name} must be a whole number above 0.")
        return min(size, self.page_limit()), number

    def page_limit(self) -> int:
        """The most records a page holds (500, or the `page_size_cap` knob when lower)."""
        cap = self.service.knobs.page_size_cap
        return min(MAX_PAGE_SIZE, cap) if cap else MAX_PAGE_SIZE

    # -- writes ---------------------------------------------------------------------------
    def create(self, actor: Link, params: Any) -> dict[str, Any]:
        """A new entity: the fields written plus `return_fields`."""
        p = require_hash("create", params)
        entity = self._entity("create", p.get("type"))
        body = _fields_body("create", p.get("fields"))
        shown = [*body, *field_names(p.get("return_fields"), ["id"])]
        with self.service.lock:
            record = self.service.write(actor, lambda tx: tx.create(entity, body))
            return entity_dict(self.service.store, entity, self._current(entity, record), shown)

    def update(self, actor: Link, params: Any) -> dict[str, Any]:
        """An edit: the entity with the fields written."""
        p = require_hash("update", params)
        entity = self._entity("update", p.get("type"))
        record_id = _record_id("update", p.get("id"))
        body = _fields_body("update", p.get("fields"))
        with self.service.lock:
            record = self.service.write(actor, lambda tx: tx.update(entity, record_id, body))
            row = entity_dict(self.service.store, entity, self._current(entity, record), [*body])
            return with_valid_links(row)

    def delete(self, actor: Link, params: Any) -> bool:
        """Retire; False when the record already was."""
        p = require_hash("delete", params)
        entity = self._entity("delete", p.get("type"))
        record_id = _record_id("delete", p.get("id"))
        with self.service.lock:
            if self._existing(entity, record_id).retired:
                return False
            self.service.write(actor, lambda tx: tx.delete(entity, record_id))
            return True

    def revive(self, actor: Link, params: Any) -> bool:
        """Bring back from the trash; False when the record was not retired."""
        p = require_hash("revive", params)
        entity = self._entity("revive", p.get("type"))
        record_id = _record_id("revive", p.get("id"))
        with self.service.lock:
            self._existing(entity, record_id)
            return self.service.write(actor, lambda tx: tx.revive(entity, record_id))[1]

    def batch(self, actor: Link, params: Any) -> list[Any]:
        """Creates, updates and deletes in one transaction: all of them or none."""
        if not isinstance(params, list):
            raise Api3Fault("API batch() expects a list of requests.")
        with self.service.lock:

            def stage(tx: Transaction) -> list[Callable[[], Any]]:
                return [self._batch_one(tx, request, i) for i, request in enumerate(params)]

            return [reply() for reply in self.service.write(actor, stage)]

    def _batch_one(self, tx: Transaction, request: Any, index: int) -> Callable[[], Any]:
        """Stage one request; returns how to render its result once committed."""
        where = f"batch request {index}"
        try:
            if not isinstance(request, dict):
                raise Api3Fault("must be a hash")
            kind = request.get("request_type")
            entity = self._entity(str(kind), request.get("type"))
            store = self.service.store
            if kind == "create":
                body = _fields_body("create", request.get("fields"))
                shown = [*body, *field_names(request.get("return_fields"), ["id"])]
                record = tx.create(entity, body)
                return lambda: entity_dict(store, entity, self._current(entity, record), shown)
            record_id = _record_id(str(kind), request.get("id"))
            if kind == "update":
                body = _fields_body("update", request.get("fields"))
                record = tx.update(entity, record_id, body)
                return lambda: with_valid_links(
                    entity_dict(store, entity, self._current(entity, record), [*body])
                )
            if kind == "delete":
                if self._existing(entity, record_id).retired:
                    return lambda: False
                tx.delete(entity, record_id)
                return lambda: True
            raise Api3Fault(f"request_type {kind!r} must be create, update or delete")
        except SgError as error:
            fault = Api3Fault.from_sg_error(error)
            raise Api3Fault(f"{where}: {fault.message}", fault.error_code) from None
        except Api3Fault as fault:
            raise Api3Fault(f"{where}: {fault.message}", fault.error_code) from None

    # -- helpers --------------------------------------------------------------------------
    def _entity(self, method: str, name: Any) -> EntityDef:
        entity = self.service.schema.entities.get(name) if isinstance(name, str) else None
        if entity is None:
            raise Api3Fault(f"API {method}() Entity type '{name}' does not exist.")
        return entity

    def _existing(self, entity: EntityDef, record_id: int) -> Record:
        record = self.service.store.get(entity.type, record_id)
        if record is None:
            raise not_found(entity.type, record_id)
        return record

    def _current(self, entity: EntityDef, record: Record) -> Record:
        return self.service.store.get(entity.type, record.id) or record


def _record_id(method: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Api3Fault(f"API {method}() id must be an integer, got {value!r}.")
    return value


def _return_only(value: Any) -> bool:
    if value in (None, "active"):
        return False
    if value == "retired":
        return True
    raise Api3Fault(f"API read() return_only must be 'active' or 'retired', got {value!r}.")


def _sorts(raw: Any) -> list[tuple[str, bool]]:
    """api3 `sorts` (`[{"field_name", "direction"}]`) as the query engine's sort keys."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Api3Fault("API read() sorts must be a list.")
    keys = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("field_name"), str):
            raise Api3Fault(f"API read() sorts[{i}] needs a field_name.")
        direction = item.get("direction", "asc")
        if direction not in ("asc", "desc"):
            raise Api3Fault(f"API read() sorts[{i}].direction must be asc or desc.")
        keys.append((item["field_name"], direction == "desc"))
    return keys


def _fields_body(method: str, raw: Any) -> dict[str, Any]:
    """`[{"field_name", "value", "multi_entity_update_mode"?}]` as a write body."""
    if not isinstance(raw, list):
        raise Api3Fault(f"API {method}() fields must be a list of field_name/value hashes.")
    body: dict[str, Any] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("field_name"), str):
            raise Api3Fault(f"API {method}() fields[{i}] needs a field_name.")
        value = item.get("value")
        mode = item.get("multi_entity_update_mode")
        body[item["field_name"]] = (
            {"multi_entity_update_mode": mode, "value": value} if mode is not None else value
        )
    return body


def encode_reply(body: dict[str, Any], accept_encoding: str) -> Response:
    """The reply as JSON, gzipped when the client accepts it and it is worth it."""
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {}
    if "gzip" in accept_encoding.lower() and len(raw) >= GZIP_MIN_BYTES:
        raw = gzip.compress(raw)
        headers["Content-Encoding"] = "gzip"
    return Response(raw, media_type="application/json; charset=utf-8", headers=headers)


def api3_router(api: Api3) -> APIRouter:
    """`POST /api3/json`."""
    router = APIRouter(tags=["ShotGrid api3 JSON-RPC (shotgun_api3)"])

    @router.post(API3_PATH)
    async def rpc(request: Request) -> Response:
        api.deps.throttle()
        raw = await request.body()
        body = await run_in_threadpool(api.call, raw)
        return encode_reply(body, request.headers.get("accept-encoding", ""))

    return router
