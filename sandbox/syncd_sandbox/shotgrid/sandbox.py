"""`ShotGridSandbox`: the ShotGrid REST v1 emulator, its control API and its webhooks."""

from __future__ import annotations

import hmac
import math
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from syncd_sandbox.knobs import CallLog, Knobs, TokenBucket, install_knobs
from syncd_sandbox.production import Production
from syncd_sandbox.webhooks import WebhookConfig, webhook_router

from .api3 import Api3, Api3Deps, api3_router
from .api3_auth import Api3Auth, Api3Credentials
from .auth import TokenStore
from .control import PersonRef, control_router
from .errors import CODE_AUTH, CODE_FAILED, CODE_THROTTLED, SgError, fault
from .events import EventEmitter, ShotGridWebhookSender
from .render import parse_fields, render
from .routes import ApiDeps, api_router
from .schema import Schema
from .seed import seed_store
from .service import ShotGridService
from .store import Link, Record, Store

SHOTGUN_VERSION = "8.26.0.8056"
SHOTGUN_BUILD = "c40f3b9"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ShotGridSandbox:
    """A faithful in-memory ShotGrid (Flow Production Tracking) site speaking REST API v1."""

    def __init__(
        self,
        *,
        knobs: Knobs | None = None,
        webhook: WebhookConfig | None = None,
        clock: Callable[[], datetime] | None = None,
        script_name: str = "syncd",
        script_key: str = "sandbox-sg-key",
        api_user_id: int = 1,
        person_password: str = "sandbox-sg-password",
        token_lifetime_seconds: int = 600,
        refresh_lifetime_seconds: int = 86_400,
        batched_webhooks: bool = False,
        webhook_entity_types: Iterable[str] | None = None,
        script_generates_events: bool = True,
        site_url: str = "https://syncd-sandbox.shotgrid.autodesk.com/",
        webhook_id: str | None = None,
    ) -> None:
        self.knobs = knobs or Knobs()
        self.calls = CallLog()
        self.clock = clock or _utc_now
        self.script_name, self._script_key = script_name, script_key
        self.api_user: Link = ("ApiUser", api_user_id)
        self._person_password = person_password
        self._generate_events = script_generates_events
        self.site_url = site_url
        self.webhooks = ShotGridWebhookSender(webhook)
        self.events = EventEmitter(
            self.webhooks,
            self.clock,
            batched=batched_webhooks,
            webhook_id=webhook_id or str(uuid.uuid4()),
            site_url=site_url,
            entity_types=webhook_entity_types,
        )
        self.tokens = TokenStore(
            self.clock,
            lifetime_seconds=token_lifetime_seconds,
            refresh_lifetime_seconds=refresh_lifetime_seconds,
        )
        schema = Schema()
        self.service = ShotGridService(schema, Store(schema), self.clock, self.knobs, self.events)
        self._bucket: TokenBucket | None = None
        self._bucket_limit: int | None = None
        self._bucket_lock = threading.Lock()
        self._seed_script_user()
        self.api3 = Api3(
            Api3Deps(
                self.service,
                Api3Auth(
                    Api3Credentials(
                        script_name,
                        script_key,
                        self.api_user,
                        person_password,
                        self._active_login,
                    ),
                    self.clock,
                    session_lifetime_seconds=refresh_lifetime_seconds,
                ),
                SHOTGUN_VERSION,
                SHOTGUN_BUILD,
                self._throttle,
            )
        )

    # -- lifecycle ------------------------------------------------------------------------
    def seed(self, production: Production) -> None:
        """Replace every record with the production's (the script's ApiUser included)."""
        schema = Schema()
        store = Store(schema)
        seed_store(
            store,
            production,
            script_name=self.script_name,
            api_user_id=self.api_user[1],
            generate_events=self._generate_events,
        )
        with self.service.lock:
            self.service.schema, self.service.store = schema, store

    def create_app(self) -> FastAPI:
        """The ASGI app: REST v1 routes, knobs, webhook and person control routes."""
        app = FastAPI(
            title="ShotGrid sandbox (REST API v1)",
            docs_url="/_sandbox/docs",
            openapi_url="/_sandbox/openapi.json",
            redoc_url=None,
        )
        deps = ApiDeps(self.service, self._authorize, self._grant, self._server_info)
        for prefix in ("/api/v1", "/api/v1.1"):
            # Added as plain routes rather than an included router: the knobs middleware names
            # endpoints from `route.path`, which FastAPI's included-router wrapper lacks, and
            # /_sandbox/calls should count `GET /api/v1/entity/{entity}/{record_id}`.
            app.router.routes.extend(api_router(deps, prefix).routes)
        # The api3 JSON-RPC protocol of `shotgun_api3`, over the same service and store.
        app.router.routes.extend(api3_router(self.api3).routes)
        app.include_router(control_router(self))
        app.include_router(webhook_router(self.webhooks))
        install_knobs(app, knobs=self.knobs, calls=self.calls, fault_response=fault)
        app.add_exception_handler(SgError, _sg_error)
        app.add_exception_handler(StarletteHTTPException, _http_error)
        app.add_exception_handler(RequestValidationError, _validation_error)
        return app

    def close(self) -> None:
        """Stop the webhook delivery thread."""
        self.webhooks.close()

    # -- people (the web UI) --------------------------------------------------------------
    @property
    def batched_webhooks(self) -> bool:
        """Whether deliveries use the batched format."""
        return self.events.batched

    @batched_webhooks.setter
    def batched_webhooks(self, value: bool) -> None:
        self.events.batched = value

    def people(self) -> list[dict[str, Any]]:
        """Every HumanUser: id, name, login, email."""
        service = self.service
        with service.lock:
            entity = service.schema.entities["HumanUser"]
            rows = sorted(service.store.tables["HumanUser"].records.values(), key=lambda r: r.id)
            return [
                {"id": r.id, **{n: r.values[entity.index[n]] for n in ("name", "login", "email")}}
                for r in rows
                if not r.retired
            ]

    def person(self, ref: PersonRef) -> Link:
        """A HumanUser link from an id, login or email; 404 when nobody matches."""
        for p in self.people():
            if ref == p["id"] or (
                isinstance(ref, str)
                and ref.casefold() in (str(p["login"]).casefold(), str(p["email"]).casefold())
            ):
                return ("HumanUser", int(p["id"]))
        raise SgError(404, "Not Found", code=CODE_FAILED, detail=f"No HumanUser matches {ref!r}.")

    def _active_login(self, login: str) -> Link | None:
        """An active HumanUser by exact login (api3 `user_login`, `sudo_as_login`)."""
        service = self.service
        with service.lock:
            entity = service.schema.entities["HumanUser"]
            login_slot, status_slot = entity.index["login"], entity.index["sg_status_list"]
            for row in service.store.tables["HumanUser"].records.values():
                values = row.values
                if not row.retired and values[login_slot] == login and values[status_slot] == "act":
                    return ("HumanUser", row.id)
        return None

    def edit_as(
        self, person: PersonRef, entity: str, record_id: int, attributes: dict[str, Any]
    ) -> dict[str, Any]:
        """A person edits a record in the web UI; returns the record as the API renders it."""
        actor = self.person(person)
        reply = self.service.update(
            actor, entity, str(record_id), attributes, "/api/v1", _session(actor)
        )
        data: dict[str, Any] = reply["data"]
        return data

    def create_as(
        self, person: PersonRef, entity: str, attributes: dict[str, Any]
    ) -> dict[str, Any]:
        """A person creates a record in the web UI."""
        actor = self.person(person)
        created = self.service.create(actor, entity, attributes, "/api/v1", _session(actor))
        return self.record(entity, int(created["data"]["id"]))

    def delete_as(self, person: PersonRef, entity: str, record_id: int) -> None:
        """A person moves a record to the trash."""
        actor = self.person(person)
        self.service.delete(actor, entity, str(record_id), _session(actor))

    def revive_as(self, person: PersonRef, entity: str, record_id: int) -> bool:
        """A person restores a record from the trash; False if it was not retired."""
        actor = self.person(person)
        reply = self.service.revive(actor, entity, str(record_id), "", _session(actor))
        return bool(reply["meta"]["did_revive"])

    def record(self, entity: str, record_id: int, fields: str | None = None) -> dict[str, Any]:
        """One live record in the wire shape (for tests and the demo)."""
        service = self.service
        definition = service.entity(entity)
        with service.lock:
            row = service.store.live(definition.type, record_id)
            if row is None:
                raise SgError(404, "Not Found", code=CODE_FAILED)
            return render(service.store, definition, row, parse_fields(fields), "/api/v1")

    # -- auth, rate limit, server info ----------------------------------------------------
    def _authorize(self, request: Request) -> Link:
        grant = self.tokens.authenticate(request.headers.get("authorization"))
        self._throttle()
        return grant.user

    def _throttle(self) -> None:
        # Re-read the knob on every call so PATCH /_sandbox/knobs takes effect at once.
        limit = self.knobs.rate_limit_per_minute
        if limit is None:
            return
        with self._bucket_lock:
            if self._bucket is None or self._bucket_limit != limit:
                self._bucket = TokenBucket(rate=limit / 60.0, capacity=float(limit))
                self._bucket_limit = limit
            wait = self._bucket.try_take()
        if wait > 0:
            # ShotGrid publishes no numbers; a Retry-After is an assumption of the emulator.
            raise SgError(
                429,
                "Too Many Requests",
                code=CODE_THROTTLED,
                detail=f"Rate limit of {limit} requests per minute exceeded.",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )

    def _grant(self, params: dict[str, str]) -> dict[str, Any]:
        kind = params.get("grant_type")
        if kind == "client_credentials":
            client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
            if client_id == self.script_name and hmac.compare_digest(secret, self._script_key):
                return self.tokens.issue(self.api_user, "script")
            raise SgError(400, f"Can't authenticate script '{client_id}'.", code=CODE_AUTH)
        if kind == "password":
            username = params.get("username", "")
            try:
                user = self.person(username)
            except SgError:
                user = None
            password = params.get("password", "")
            if user is not None and hmac.compare_digest(password, self._person_password):
                return self.tokens.issue(user, "password")
            raise SgError(400, f"Can't authenticate user '{username}'.", code=CODE_AUTH)
        if kind == "refresh_token":
            return self.tokens.refresh(params.get("refresh_token", ""))
        if kind == "session_token":
            ending = params.get("session_token", "")[-4:]
            raise SgError(
                400, f"Can't authenticate session token ending with '{ending}'", code=CODE_AUTH
            )
        raise SgError(400, "Unsupported grant_type", source={})

    def _server_info(self, prefix: str) -> dict[str, Any]:
        return {
            "data": {
                "shotgun_version": f"v{SHOTGUN_VERSION} (build {SHOTGUN_BUILD})",
                "api_version": prefix.rsplit("/", 1)[-1],
                "shotgun_version_number": SHOTGUN_VERSION,
                "shotgun_build_number": SHOTGUN_BUILD,
                "portfolio_version": SHOTGUN_VERSION,
                "unified_login_flow_enabled": True,
                "user_authentication_method": "default",
                "site_id": "1",
                "site_name": "syncd_sandbox",
            }
        }

    def _seed_script_user(self) -> None:
        store = self.service.store
        entity = store.schema.entities["ApiUser"]
        values = entity.blank()
        now = self.clock().astimezone(UTC).replace(microsecond=0)
        for name, value in (
            ("firstname", self.script_name),
            ("lastname", "1.0"),
            ("generate_event_log_entries", self._generate_events),
            ("created_at", now),
            ("updated_at", now),
        ):
            values[entity.index[name]] = value
        store.put("ApiUser", Record(self.api_user[1], values))


def _session(actor: Link) -> str:
    """A stable web-session uuid per person (API writes carry none)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"shotgrid-sandbox/{actor[0]}/{actor[1]}"))


async def _sg_error(request: Request, exc: Exception) -> Response:
    del request
    assert isinstance(exc, SgError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/") and exc.status_code in (404, 405):
        return SgError(404, "Not Found").response()
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if request.url.path.startswith("/api/"):
        return SgError(
            400, "Request Parameters invalid.", source={"errors": str(exc.errors())}
        ).response()
    return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
