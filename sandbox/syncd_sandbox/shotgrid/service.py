"""The emulator's operations, each run under one lock and answered in the wire shape.

HTTP parsing lives in `routes.py`; this module takes plain values (entity name from the path,
query pairs, decoded bodies) and returns response bodies or raises `SgError`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from syncd_sandbox.knobs import Knobs

from .errors import SgError, not_found, unknown_entity_type
from .events import EventEmitter
from .filters import FilterCompiler
from .query import page_links, parse_page, parse_sort, run
from .render import parse_fields, relationship, render, render_created
from .schema import EntityDef, Schema
from .store import Link, Store
from .writes import Transaction

_RETURN_ONLY = ("active", "retired")
_T = TypeVar("_T")


class ShotGridService:
    """Reads and writes against the in-memory store, thread-safe."""

    def __init__(
        self,
        schema: Schema,
        store: Store,
        clock: Callable[[], datetime],
        knobs: Knobs,
        emitter: EventEmitter,
    ) -> None:
        self.schema, self.store, self.clock = schema, store, clock
        self.knobs, self.emitter = knobs, emitter
        self.lock = threading.RLock()

    def now(self) -> datetime:
        """The clock's time in UTC at the site's second precision."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def entity(self, name: str) -> EntityDef:
        """The entity type a path segment names; 404 if none."""
        entity = self.schema.resolve(name)
        if entity is None:
            raise unknown_entity_type(name)
        return entity

    # -- reads ----------------------------------------------------------------------------
    def read(
        self,
        name: str,
        record_id: str,
        fields: Any,
        return_only: str | None,
        base: str,
        self_link: str,
    ) -> dict[str, Any]:
        """`GET /entity/{entity}/{id}`."""
        entity, rid = self.entity(name), _record_id(name, record_id)
        retired = _retired(return_only)
        with self.lock:
            record = self.store.get(entity.type, rid)
            if record is None or record.retired is not retired:
                raise not_found(entity.type, rid)
            data = render(self.store, entity, record, parse_fields(fields), base)
        return {"data": data, "links": {"self": self_link}}

    def related(
        self, name: str, record_id: str, field: str, base: str, path: str
    ) -> dict[str, Any]:
        """`GET /entity/{entity}/{id}/relationships/{field}`."""
        entity, rid = self.entity(name), _record_id(name, record_id)
        f = entity.by_name.get(field)
        with self.lock:
            record = self.store.live(entity.type, rid)
            if record is None:
                raise not_found(entity.type, rid)
            if f is None or f.data_type not in ("entity", "multi_entity"):
                raise SgError(400, f"API read() {entity.type}.{field} is not a relationship field.")
            value = self.store.value(entity, record, f)
            data = relationship(self.store, entity, rid, f, value, base)["data"]
        return {"data": data, "links": {"self": path}}

    def list_records(
        self, name: str, params: list[tuple[str, str]], base: str, path: str, raw_query: str
    ) -> dict[str, Any]:
        """`GET /entity/{entity}`: simple equality filters from `filter[field]=value`."""
        entity = self.entity(name)
        single = dict(params)
        page = parse_page(
            single.get("page[size]"), single.get("page[number]"), self.knobs.page_size_cap
        )
        sort = parse_sort(single.get("sort"))
        filters = [
            (k[len("filter[") : -1], v)
            for k, v in params
            if k.startswith("filter[") and k.endswith("]")
        ]
        retired = _retired(single.get("options[return_only]"))
        with self.lock:
            predicate, hint = FilterCompiler(self.store, entity, self.now()).compile_simple(filters)
            rows = run(self.store, entity, predicate, hint, sort, page, retired)
            fields = parse_fields(single.get("fields"))
            data = [render(self.store, entity, r, fields, base) for r in rows]
        return {"data": data, "links": page_links(path, raw_query, params, page)}

    def search(
        self,
        name: str,
        body: Any,
        *,
        hash_form: bool,
        params: list[tuple[str, str]],
        base: str,
        path: str,
        raw_query: str,
    ) -> dict[str, Any]:
        """`POST /entity/{entity}/_search` with a vendor content type."""
        entity = self.entity(name)
        if not isinstance(body, dict):
            raise SgError(400, "Invalid JSON body. Expected Hash but received Array.")
        query: dict[str, str] = dict(params)
        body_page = body.get("page") or {}
        if not isinstance(body_page, dict):
            raise SgError(
                400, "Request Parameters invalid.", source={"page": ["page must be a hash"]}
            )
        # A `links.next` URL carries the page in its query string; it wins over the body's page.
        page = parse_page(
            query.get("page[size]", body_page.get("size")),
            query.get("page[number]", body_page.get("number")),
            self.knobs.page_size_cap,
        )
        sort = parse_sort(body.get("sort"))
        options = body.get("options") or {}
        retired = _retired(options.get("return_only") if isinstance(options, dict) else None)
        filters = body.get(
            "filters", {"logical_operator": "and", "conditions": []} if hash_form else []
        )
        with self.lock:
            compiler = FilterCompiler(self.store, entity, self.now())
            compiled = (
                compiler.compile_hash(filters) if hash_form else compiler.compile_array(filters)
            )
            rows = run(self.store, entity, *compiled, sort, page, retired)
            fields = parse_fields(body.get("fields"))
            data = [render(self.store, entity, r, fields, base) for r in rows]
        return {"data": data, "links": page_links(path, raw_query, params, page)}

    # -- schema ---------------------------------------------------------------------------
    def schema_types(self, base: str) -> dict[str, Any]:
        """`GET /schema`: every entity type with its display name."""
        data = {e.type: _type_info(e) for e in self.schema.entities.values()}
        return {"data": data, "links": {"self": f"{base}/schema"}}

    def schema_type(self, name: str, base: str) -> dict[str, Any]:
        """`GET /schema/{entity}`."""
        entity = self.entity(name)
        return {"data": _type_info(entity), "links": {"self": f"{base}/schema/{name}"}}

    def schema_fields(self, name: str, base: str) -> dict[str, Any]:
        """`GET /schema/{entity}/fields`."""
        entity = self.entity(name)
        data = {f.name: self.schema.field_schema(entity, f) for f in entity.fields}
        return {"data": data, "links": {"self": f"{base}/schema/{name}/fields"}}

    def schema_field(self, name: str, field: str, base: str) -> dict[str, Any]:
        """`GET /schema/{entity}/fields/{field}`."""
        entity = self.entity(name)
        f = entity.by_name.get(field)
        if f is None:
            raise SgError(404, "Not Found", detail=f"Field '{entity.type}.{field}' does not exist.")
        data = self.schema.field_schema(entity, f)
        return {"data": data, "links": {"self": f"{base}/schema/{name}/fields/{field}"}}

    # -- writes ---------------------------------------------------------------------------
    def create(
        self, actor: Link, name: str, body: Any, base: str, session: str | None = None
    ) -> dict[str, Any]:
        """`POST /entity/{entity}`: 201 with the thin create reply."""
        entity = self.entity(name)
        with self.lock:
            tx = self._tx(actor)
            record = tx.create(entity, body)
            self._commit(tx, actor, session)
            return {"data": render_created(self.store, entity, record, set(body), base)}

    def update(
        self,
        actor: Link,
        name: str,
        record_id: str,
        body: Any,
        base: str,
        session: str | None = None,
    ) -> dict[str, Any]:
        """`PUT /entity/{entity}/{id}`: the whole record back."""
        entity, rid = self.entity(name), _record_id(name, record_id)
        with self.lock:
            tx = self._tx(actor)
            record = tx.update(entity, rid, body)
            self._commit(tx, actor, session)
            data = render(self.store, entity, record, None, base)
        return {"data": data, "links": {}, "status": "successful"}

    def delete(self, actor: Link, name: str, record_id: str, session: str | None = None) -> None:
        """`DELETE /entity/{entity}/{id}`: retire the record."""
        entity, rid = self.entity(name), _record_id(name, record_id)
        with self.lock:
            tx = self._tx(actor)
            tx.delete(entity, rid)
            self._commit(tx, actor, session)

    def revive(
        self, actor: Link, name: str, record_id: str, self_link: str, session: str | None = None
    ) -> dict[str, Any]:
        """`POST /entity/{entity}/{id}?revive=true`."""
        entity, rid = self.entity(name), _record_id(name, record_id)
        with self.lock:
            tx = self._tx(actor)
            _, did_revive = tx.revive(entity, rid)
            self._commit(tx, actor, session)
        return {
            "data": {"type": entity.type, "id": rid},
            "links": {"self": self_link},
            "meta": {"did_revive": did_revive},
        }

    def batch(self, actor: Link, body: Any, base: str) -> dict[str, Any]:
        """`POST /entity/_batch`: every request or none; results in request order."""
        requests = _batch_requests(body)
        with self.lock:
            tx = self._tx(actor)
            staged: list[tuple[str, EntityDef, Any, Any]] = []
            for index, request in enumerate(requests):
                try:
                    staged.append(self._batch_one(tx, request))
                except SgError as error:
                    # The site names the failing request only in validation errors; the
                    # emulator always does, under source.requests.<index>.
                    error.source = {"requests": {str(index): error.title}}
                    raise
            self._commit(tx, actor, None)
            rows = [
                self._batch_row(kind, entity, record, extra, base)
                for kind, entity, record, extra in staged
            ]
        return {"data": rows}

    def _batch_one(
        self, tx: Transaction, request: dict[str, Any]
    ) -> tuple[str, EntityDef, Any, Any]:
        entity = self.schema.entities.get(request["entity"])
        if entity is None:
            raise SgError(400, "Invalid entity type: entity type [] does not exist.")
        kind = request["request_type"]
        record_id = request.get("record_id", 0)
        if not isinstance(record_id, int):
            raise not_found(entity.type, record_id)
        if kind == "create":
            return kind, entity, tx.create(entity, request["data"]), set(request["data"])
        if kind == "update":
            return kind, entity, tx.update(entity, record_id, request["data"]), None
        return kind, entity, tx.delete(entity, record_id), None

    def _batch_row(
        self, kind: str, entity: EntityDef, record: Any, sent: Any, base: str
    ) -> dict[str, Any]:
        if kind == "create":
            return {"data": render_created(self.store, entity, record, sent, base)}
        if kind == "update":
            current = self.store.get(entity.type, record.id)
            data = render(self.store, entity, current or record, None, base)
            return {"data": data, "links": {}, "status": "successful"}
        return {
            "request_type": "delete",
            "type": entity.type,
            "id": record.id,
            "uuid": str(uuid.uuid1()),
            "did_delete": True,
        }

    def write(self, actor: Link, stage: Callable[[Transaction], _T]) -> _T:
        """Stage writes in one transaction, commit them and send their webhooks (all or none)."""
        with self.lock:
            tx = self._tx(actor)
            result = stage(tx)
            self._commit(tx, actor, None)
            return result

    def _tx(self, actor: Link) -> Transaction:
        return Transaction(self.store, actor, self.now())

    def _commit(self, tx: Transaction, actor: Link, session: str | None) -> None:
        changes = tx.commit()
        self.emitter.emit(self.store, changes, actor, session)


def _record_id(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise not_found(name, text) from None


def _retired(return_only: Any) -> bool:
    if return_only is None:
        return False
    if return_only not in _RETURN_ONLY:
        raise SgError(
            400,
            "Request Parameters invalid.",
            source={"options": {"return_only": ["return_only must be one of: active, retired"]}},
        )
    return bool(return_only == "retired")


def _type_info(entity: EntityDef) -> dict[str, Any]:
    return {
        "name": {"value": entity.label, "editable": True},
        "visible": {"value": True, "editable": False},
    }


def _batch_requests(body: Any) -> list[dict[str, Any]]:
    """Validate a `_batch` body; 400 with per-request reasons under source.requests."""
    if not isinstance(body, dict):
        raise SgError(400, "Invalid JSON body. Expected Hash but received Array.")
    requests = body.get("requests")
    if not isinstance(requests, list):
        raise SgError(
            400, "Request Parameters invalid.", source={"requests": ["requests is missing"]}
        )
    problems: dict[str, dict[str, list[str]]] = {}
    for index, request in enumerate(requests):
        issues: dict[str, list[str]] = {}
        if not isinstance(request, dict):
            problems[str(index)] = {"request": ["request must be a hash"]}
            continue
        if "entity" not in request:
            issues["entity"] = ["entity is missing"]
        kind = request.get("request_type")
        if kind not in ("create", "update", "delete"):
            issues["request_type"] = ["request_type must be one of: create, update, delete"]
        elif kind != "delete" and not (isinstance(request.get("data"), dict) and request["data"]):
            issues["data"] = [
                "data hash containing field/value pairs is required for the given request"
            ]
        if issues:
            problems[str(index)] = issues
    if problems:
        raise SgError(400, "Request Parameters invalid.", source={"requests": problems})
    return requests
