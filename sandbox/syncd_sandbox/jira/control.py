"""`/_sandbox/...` person routes: someone editing in the Jira UI, attributed to them.

Bodies name the person by accountId or email in `"as"`. Fields take the same values as
`PUT /rest/api/3/issue` (a `description` may be plain text or an ADF doc here); `status`
goes through the workflow like a transition would.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from syncd_sandbox.jira.routes import base_url, json_response
from syncd_sandbox.jira.site import JiraSite
from syncd_sandbox.knobs import CONTROL_PREFIX


class PersonHost(Protocol):
    """What the control routes need from the sandbox."""

    @property
    def site(self) -> JiraSite: ...

    def person(self, ident: str) -> str: ...

    def people(self) -> list[dict[str, Any]]: ...

    def edit_issue(
        self,
        key: str,
        *,
        as_user: str,
        fields: dict[str, Any] | None = None,
        update: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> None: ...

    def create_issue(self, *, as_user: str, fields: dict[str, Any]) -> str: ...

    def delete_issue(self, key: str, *, as_user: str) -> None: ...


class PersonEdit(BaseModel):
    """`POST /_sandbox/issues/{key}/edit`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    as_user: str = Field(alias="as", description="accountId or email of the person editing")
    fields: dict[str, Any] = {}
    update: dict[str, Any] = {}
    status: str | None = Field(None, description="status to move to through the workflow")


class PersonCreate(BaseModel):
    """`POST /_sandbox/issues`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    as_user: str = Field(alias="as")
    fields: dict[str, Any]


def control_router(host: PersonHost) -> APIRouter:
    """The person control API."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])

    def rendered(request: Request, key: str) -> Response:
        view = host.site.view("3", base_url(request))
        return json_response(host.site.issue(key, fields=None, expand=frozenset(), view=view))

    @router.get("/people")
    def people() -> list[dict[str, Any]]:
        """Everyone on the site, with accountIds and emails."""
        return host.people()

    @router.get("/issues/{key}")
    def get_issue(request: Request, key: str) -> Response:
        """An issue as `GET /rest/api/3/issue/{key}` shows it (no credential needed)."""
        return rendered(request, key)

    @router.post("/issues/{key}/edit")
    def edit(request: Request, key: str, body: PersonEdit) -> Response:
        """Edit an issue as the person named in `as` (then move it to `status`)."""
        host.site.remember_base(base_url(request))
        host.edit_issue(
            key, as_user=body.as_user, fields=body.fields, update=body.update, status=body.status
        )
        return rendered(request, key)

    @router.post("/issues", status_code=201)
    def create(request: Request, body: PersonCreate) -> Response:
        """Create an issue as the person named in `as`."""
        host.site.remember_base(base_url(request))
        key = host.create_issue(as_user=body.as_user, fields=body.fields)
        response = rendered(request, key)
        response.status_code = 201
        return response

    @router.delete("/issues/{key}", status_code=204)
    def delete(request: Request, key: str) -> Response:
        """Delete an issue as the person named in the `as` query parameter."""
        host.site.remember_base(base_url(request))
        host.delete_issue(key, as_user=request.query_params.get("as", ""))
        return Response(status_code=204)

    return router
