"""`JiraSandbox`: a faithful local Jira Cloud (REST v2/v3 subset, webhooks, limits, faults)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from syncd_sandbox.jira.access import Credential, Gatekeeper
from syncd_sandbox.jira.catalog import CustomFieldIds, User
from syncd_sandbox.jira.control import control_router
from syncd_sandbox.jira.errors import JiraError, bad_request, fault, method_not_allowed, no_endpoint
from syncd_sandbox.jira.events import JiraWebhookSender
from syncd_sandbox.jira.jql import parse
from syncd_sandbox.jira.render import Json
from syncd_sandbox.jira.routes import VERSIONS, rest_router
from syncd_sandbox.jira.site import JiraSite
from syncd_sandbox.knobs import CallLog, Knobs, install_knobs
from syncd_sandbox.production import Production, SheetTab
from syncd_sandbox.webhooks import WebhookConfig, webhook_router

DEFAULT_EMAIL = "syncd@studio.example"
DEFAULT_API_TOKEN = "sandbox-jira-token"
DEFAULT_ACCOUNT_ID = "712020:5c0f8e2a-3b7d-4e61-9a52-7d1e0c4b9f30"
_EMPTY_TAB = SheetTab(title="", rows=())


def _empty_production() -> Production:
    """The site before `seed()`: project SBX, the default workflow, no people, no issues."""
    return Production(
        name="empty",
        seed=0,
        jira_project_key="SBX",
        jira_project_name="Sandbox",
        sg_project_id=0,
        sg_project_name="",
        spreadsheet_id="",
        spreadsheet_title="",
        milestones=(),
        departments=(),
        steps=(),
        people=(),
        assets=(),
        shots=(),
        sg_tasks=(),
        jira_issues=(),
        invoices=_EMPTY_TAB,
        budget=_EMPTY_TAB,
        jira_statuses=("To Do", "In Progress", "Done"),
        sg_status_codes=(),
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class JiraSandbox:
    """A Jira Cloud site in memory, served by `create_app()`.

    API calls made with the integration credential (default `syncd@studio.example` /
    `sandbox-jira-token`) are attributed to the integration user; the `/_sandbox/issues`
    routes and the `edit_issue`/`create_issue`/`delete_issue` methods act as a named person.
    """

    def __init__(
        self,
        *,
        knobs: Knobs | None = None,
        webhook: WebhookConfig | None = None,
        clock: Callable[[], datetime] | None = None,
        email: str = DEFAULT_EMAIL,
        api_token: str = DEFAULT_API_TOKEN,
        account_id: str = DEFAULT_ACCOUNT_ID,
        display_name: str = "syncd",
        time_zone: str = "UTC",
        field_ids: CustomFieldIds | None = None,
        default_order: str = "created DESC",
        site_url: str | None = None,
    ) -> None:
        self.knobs = knobs or Knobs()
        self.calls = CallLog()
        self.webhooks = JiraWebhookSender(webhook)
        self.clock = clock or _utc_now
        self.integration = User(account_id, display_name, email, True, time_zone)
        self._time_zone = time_zone
        self._field_ids = field_ids or CustomFieldIds()
        order = parse(f"ORDER BY {default_order}").order
        if not order:
            raise ValueError(f"default_order {default_order!r} is not an ORDER BY list")
        self._default_order = order
        self._site_url = site_url
        self.gate = Gatekeeper(
            [Credential(email, api_token, account_id)], self.knobs, wall_clock=self.clock
        )
        self.site = self._build(_empty_production())

    def _build(self, production: Production) -> JiraSite:
        return JiraSite(
            production,
            integration=self.integration,
            time_zone=self._time_zone,
            field_ids=self._field_ids,
            clock=self.clock,
            webhooks=self.webhooks,
            default_order=self._default_order,
            site_url=self._site_url,
        )

    def seed(self, production: Production) -> None:
        """Replace the site with the production's project, people, workflow and issues."""
        self.site = self._build(production)

    def create_app(self) -> FastAPI:
        """The ASGI app: REST API, knobs, webhook control and person control routes."""
        app = FastAPI(
            title="Jira Cloud sandbox",
            openapi_url="/_sandbox/openapi.json",
            docs_url="/_sandbox/docs",
            redoc_url=None,
        )
        for version in VERSIONS:
            app.include_router(rest_router(self, version))
        app.include_router(control_router(self))
        app.include_router(webhook_router(self.webhooks))
        install_knobs(app, knobs=self.knobs, calls=self.calls, fault_response=fault)

        @app.exception_handler(JiraError)
        async def jira_error(_request: Request, error: JiraError) -> Response:
            return error.to_response()

        @app.exception_handler(StarletteHTTPException)
        async def http_error(request: Request, error: StarletteHTTPException) -> Response:
            path = request.url.path
            if path.startswith("/rest/") and error.status_code == 404:
                return no_endpoint(request.method, path).to_response()
            if path.startswith("/rest/") and error.status_code == 405:
                allow = (error.headers or {}).get("Allow", "")
                return method_not_allowed(request.method, path, allow).to_response()
            return JSONResponse({"detail": error.detail}, error.status_code, headers=error.headers)

        return app

    def close(self) -> None:
        """Stop the webhook delivery thread."""
        self.webhooks.close()

    # -- people acting in the UI -------------------------------------------------------------

    def person(self, ident: str) -> str:
        """The accountId of a person named by accountId or email; 400 if unknown."""
        user = self.site.catalog.user(ident) if ident else None
        if user is None:
            raise bad_request(f"No user '{ident}' on this site.")
        return user.account_id

    def people(self) -> list[dict[str, Any]]:
        """Everyone on the site, the integration user included."""
        return [
            {
                "accountId": u.account_id,
                "displayName": u.display_name,
                "email": u.email,
                "emailVisible": u.email_visible,
                "integration": u.account_id == self.integration.account_id,
            }
            for u in self.site.catalog.users.values()
        ]

    def edit_issue(
        self,
        key: str,
        *,
        as_user: str,
        fields: dict[str, Any] | None = None,
        update: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> None:
        """Edit as a person: fields first (one history), then `status` through the workflow.

        A `description` may be plain text or an ADF doc. Nothing changes if either part is
        refused.
        """
        actor = self.person(as_user)
        fields, update = fields or {}, update or {}
        rich_text = not isinstance(fields.get("description"), str)
        self.site.edit_then_move(key, fields, update, status, actor=actor, rich_text=rich_text)

    def create_issue(self, *, as_user: str, fields: dict[str, Any]) -> str:
        """Create an issue as a person; `project` defaults to the site's. Returns its key."""
        actor = self.person(as_user)
        site = self.site
        fields = {
            "project": {"key": site.catalog.project_key},
            "issuetype": {"name": "Task"},
            **fields,
        }
        rich_text = not isinstance(fields.get("description"), str)
        record = site.create(fields, actor=actor, rich_text=rich_text)
        return site.store.key(record)

    def delete_issue(self, key: str, *, as_user: str) -> None:
        """Delete an issue as a person."""
        self.site.delete(key, actor=self.person(as_user))

    def issue(self, key: str, *, version: str = "3") -> Json:
        """An issue with every field, as `GET /rest/api/{version}/issue/{key}` renders it."""
        site = self.site
        return site.issue(key, fields=None, expand=frozenset(), view=site.view(version))
