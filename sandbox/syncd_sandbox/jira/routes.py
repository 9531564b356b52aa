"""The Jira Cloud REST routes, mounted once per version under `/rest/api/{2,3,latest}`.

Handlers parse the request the way Jira does (repeated or comma-joined `fields`, Jira's own
400s for bad numbers and bodies), then call `JiraSite`. Every route but `serverInfo` and
`field` needs a credential; every route counts against the caller's rate limit.
"""

import json
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.responses import Response

from syncd_sandbox.jira.access import ANONYMOUS, Gatekeeper, Identity
from syncd_sandbox.jira.errors import (
    JSON_MEDIA_TYPE,
    SEARCH_REMOVED,
    JiraError,
    bad_request,
    problem,
)
from syncd_sandbox.jira.formats import to_millis
from syncd_sandbox.jira.render import View
from syncd_sandbox.jira.site import JiraSite
from syncd_sandbox.knobs import Knobs

ModelT = TypeVar("ModelT", bound=BaseModel)
VERSIONS = ("2", "3", "latest")
SERVER_VERSION = (1001, 0, 0)
BODY_EMPTY = "No content to map to Object due to end of input"
BODY_UNPARSEABLE = "There was an error parsing JSON. Check that your request body is valid."
BODY_INVALID = "Invalid request payload. Refer to the REST API documentation and try again."


class SiteHost(Protocol):
    """What the routes need from the sandbox: the current site, the gatekeeper, the knobs."""

    @property
    def site(self) -> JiraSite: ...

    @property
    def gate(self) -> Gatekeeper: ...

    @property
    def knobs(self) -> Knobs: ...


class SearchBody(BaseModel):
    """`POST search/jql`; the properties Jira's request bean declares."""

    model_config = ConfigDict(extra="forbid")

    jql: str | None = None
    nextPageToken: str | None = None
    maxResults: int | None = None
    fields: list[str] | None = None
    expand: str | list[str] | None = None
    properties: list[str] | None = None
    fieldsByKeys: bool | None = None
    reconcileIssues: list[int] | None = None
    failFast: bool | None = None


class IssueBody(BaseModel):
    """`PUT issue/{idOrKey}` and `POST issue`."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, Any] = {}
    update: dict[str, Any] = {}
    historyMetadata: dict[str, Any] | None = None
    properties: list[dict[str, Any]] | None = None
    transition: dict[str, Any] | None = None


class TransitionBody(IssueBody):
    """`POST issue/{idOrKey}/transitions`."""


class AssigneeBody(BaseModel):
    """`PUT issue/{idOrKey}/assignee`."""

    accountId: str | None


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response with Jira's content type."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status, media_type=JSON_MEDIA_TYPE)


def base_url(request: Request) -> str:
    """The site's base URL as the client reached it."""
    return str(request.base_url).rstrip("/")


def int_param(request: Request, name: str, default: int) -> int:
    """An integer query parameter; Jira's RFC 7807 400 when it does not parse."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw.strip())
    except ValueError:
        detail = f"Failed to convert '{name}' with value: '{raw}'"
        raise problem(400, "Bad Request", detail, request.url.path) from None


def expand_param(value: str | list[str] | None) -> frozenset[str]:
    """`expand` as a set of names (comma-joined string or list)."""
    if value is None:
        return frozenset()
    items = value if isinstance(value, list) else [value]
    return frozenset(part.strip() for item in items for part in item.split(",") if part.strip())


async def read_body(request: Request, model: type[ModelT]) -> ModelT:
    """Parse a JSON body into `model` with Jira's refusals for empty/broken/invalid bodies."""
    raw = await request.body()
    if not raw.strip():
        raise bad_request(BODY_EMPTY)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise bad_request(BODY_UNPARSEABLE) from exc
    if not isinstance(data, dict):
        raise bad_request(BODY_INVALID)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request(BODY_INVALID) from exc


def rest_router(host: SiteHost, version: str) -> APIRouter:
    """The REST API for one version segment."""
    router = APIRouter(prefix=f"/rest/api/{version}")

    def endpoint(request: Request) -> str:
        """Method and path template: Jira counts burst limits per endpoint and method."""
        route = request.scope.get("route")
        return f"{request.method} {getattr(route, 'path', request.url.path)}"

    async def identified(request: Request) -> Identity:
        identity = host.gate.identify(request.headers.get("authorization"))
        host.gate.throttle(identity.account_id or ANONYMOUS, endpoint(request))
        return identity

    async def authenticated(request: Request) -> str:
        identity = host.gate.identify(request.headers.get("authorization"))
        if identity.account_id is None:
            accept = request.headers.get("accept", "")
            raise host.gate.unauthorized(identity, base_url=base_url(request), accept=accept)
        host.gate.throttle(identity.account_id, endpoint(request))
        return identity.account_id

    Caller = Annotated[str, Depends(authenticated)]
    signed_in = [Depends(authenticated)]
    anyone = [Depends(identified)]

    def view(request: Request) -> View:
        return host.site.view(version, base_url(request))

    def page_size(requested: int) -> int:
        cap = host.knobs.page_size_cap
        return min(requested, cap) if cap else requested

    @router.get("/serverInfo", dependencies=anyone)
    async def server_info(request: Request) -> Response:
        """Server info; `deploymentType: Cloud` makes the jira library use Cloud APIs."""
        base = view(request).base
        now = host.site.clock()
        return json_response(
            {
                "baseUrl": base,
                "displayUrl": base,
                "version": ".".join(map(str, SERVER_VERSION)) + "-SNAPSHOT",
                "versionNumbers": list(SERVER_VERSION),
                "deploymentType": "Cloud",
                "buildNumber": 100284,
                "buildDate": "2026-11-01T00:00:00.000+0000",
                "serverTime": host.site.renderer.timestamp(to_millis(now)),
                "scmInfo": "sandbox",
                "serverTitle": "Jira",
                "defaultLocale": {"locale": "en_US"},
                "serverTimeZone": str(host.site.zone),
            }
        )

    @router.get("/myself")
    async def myself(request: Request, caller: Caller) -> Response:
        """The authenticated user, email included."""
        user = host.site.renderer.user(caller, view(request), with_email=True)
        return json_response(
            {
                **(user or {}),
                "locale": "en_US",
                "groups": {"size": 1, "items": []},
                "applicationRoles": {"size": 1, "items": []},
                "expand": "groups,applicationRoles",
            }
        )

    @router.get("/user", dependencies=signed_in)
    async def user(request: Request) -> Response:
        """A user by `accountId`."""
        account_id = request.query_params.get("accountId", "")
        found = host.site.renderer.user(account_id, view(request))
        if found is None:
            raise JiraError(404, [f"User with accountId '{account_id}' does not exist"])
        return json_response(found)

    @router.get("/user/search", dependencies=signed_in)
    async def user_search(request: Request) -> Response:
        """Users whose name or visible email starts with `query` (or by `accountId`)."""
        params = request.query_params
        found = host.site.catalog.find_users(params.get("query", ""), params.get("accountId"))
        start = max(0, int_param(request, "startAt", 0))
        chosen = found[start : start + max(1, int_param(request, "maxResults", 50))]
        current = view(request)
        return json_response([host.site.renderer.user(u.account_id, current) for u in chosen])

    @router.get("/users/search", dependencies=signed_in)
    async def users_search(request: Request) -> Response:
        """Every user (people, apps, the integration), paged by `startAt`/`maxResults` ≤ 1000."""
        start = max(0, int_param(request, "startAt", 0))
        size = min(1000, max(1, int_param(request, "maxResults", 50)))
        chosen = list(host.site.catalog.users.values())[start : start + size]
        current = view(request)
        return json_response([host.site.renderer.user(u.account_id, current) for u in chosen])

    @router.get("/field", dependencies=anyone)
    async def fields() -> Response:
        """Every system and custom field, with clause names and schema."""
        return json_response(host.site.renderer.field_list())

    @router.get("/search", dependencies=signed_in)
    @router.post("/search", dependencies=signed_in)
    async def retired_search() -> Response:
        """The old search, removed on Cloud: 410 pointing at search/jql."""
        raise JiraError(410, [SEARCH_REMOVED])

    @router.get("/search/jql", dependencies=signed_in)
    async def search_get(request: Request) -> Response:
        """Enhanced JQL search, paged by `nextPageToken`."""
        params = request.query_params
        requested = params.getlist("fields")
        return _search(
            request,
            jql=params.get("jql"),
            token=params.get("nextPageToken"),
            limit=int_param(request, "maxResults", 50),
            fields=requested if "fields" in params else None,
            expand=expand_param(params.get("expand")),
        )

    @router.post("/search/jql", dependencies=signed_in)
    async def search_post(request: Request) -> Response:
        """Enhanced JQL search with the parameters in a JSON body."""
        body = await read_body(request, SearchBody)
        return _search(
            request,
            jql=body.jql,
            token=body.nextPageToken,
            limit=50 if body.maxResults is None else body.maxResults,
            fields=body.fields,
            expand=expand_param(body.expand),
        )

    def _search(
        request: Request,
        *,
        jql: str | None,
        token: str | None,
        limit: int,
        fields: list[str] | None,
        expand: frozenset[str],
    ) -> Response:
        if not 1 <= limit <= 5000:
            raise bad_request("The maxResults parameter must be between 1 and 5,000.")
        body = host.site.search(
            jql or "",
            token=token,
            limit=page_size(limit),
            fields=fields,
            expand=expand,
            view=view(request),
        )
        return json_response(body)

    @router.post("/search/approximate-count", dependencies=signed_in)
    async def approximate_count(request: Request) -> Response:
        """How many issues a JQL query matches."""
        body = await read_body(request, SearchBody)
        return json_response({"count": host.site.count(body.jql or "")})

    @router.post("/issue")
    async def create_issue(request: Request, caller: Caller) -> Response:
        """Create an issue (201 with id, key, self)."""
        body = await read_body(request, IssueBody)
        record = host.site.create(body.fields, body.update, actor=caller, rich_text=version == "3")
        current = view(request)
        return json_response(
            {
                "id": str(record.id),
                "key": host.site.store.key(record),
                "self": f"{current.api}/issue/{record.id}",
            },
            201,
        )

    @router.get("/issue/{id_or_key}", dependencies=signed_in)
    async def get_issue(request: Request, id_or_key: str) -> Response:
        """One issue, all fields unless `fields` narrows them."""
        params = request.query_params
        body = host.site.issue(
            id_or_key,
            fields=params.getlist("fields") if "fields" in params else None,
            expand=expand_param(params.get("expand")),
            view=view(request),
        )
        return json_response(body)

    @router.put("/issue/{id_or_key}")
    async def edit_issue(request: Request, id_or_key: str, caller: Caller) -> Response:
        """Edit fields (204, or 200 with the issue when `returnIssue=true`)."""
        body = await read_body(request, IssueBody)
        host.site.edit(id_or_key, body.fields, body.update, actor=caller, rich_text=version == "3")
        if request.query_params.get("returnIssue", "").casefold() == "true":
            current = view(request)
            return json_response(
                host.site.issue(id_or_key, fields=None, expand=frozenset(), view=current)
            )
        return Response(status_code=204)

    @router.get("/issue/{id_or_key}/transitions", dependencies=signed_in)
    async def list_transitions(request: Request, id_or_key: str) -> Response:
        """The transitions the issue's status offers."""
        body = host.site.transitions(id_or_key, view(request))
        wanted = request.query_params.get("transitionId")
        if wanted is not None:
            body["transitions"] = [t for t in body["transitions"] if t["id"] == wanted]
        return json_response(body)

    @router.post("/issue/{id_or_key}/transitions")
    async def do_transition(request: Request, id_or_key: str, caller: Caller) -> Response:
        """Take a transition by id (204)."""
        body = await read_body(request, TransitionBody)
        transition_id = (body.transition or {}).get("id")
        if transition_id is None:
            raise bad_request("You must specify a transition id.")
        # No transition has a screen here, so any field (or update) sent along is refused.
        screen = {**body.fields, **body.update}
        host.site.transition(id_or_key, str(transition_id), screen, actor=caller)
        return Response(status_code=204)

    @router.get("/workflowscheme/project", dependencies=signed_in)
    async def workflow_scheme(request: Request) -> Response:
        """The workflow scheme of each project named by `projectId` (repeatable)."""
        ids = [i for value in request.query_params.getlist("projectId") for i in value.split(",")]
        return json_response(host.site.workflow_scheme(ids, view(request)))

    @router.get("/workflow/search", dependencies=signed_in)
    async def workflow_search(request: Request) -> Response:
        """Workflows (by `workflowName`, repeatable), `expand=transitions,statuses`."""
        names = request.query_params.getlist("workflowName")
        expand = frozenset(
            part.strip()
            for value in request.query_params.getlist("expand")
            for part in value.split(",")
        )
        return json_response(host.site.workflow_search(names, expand, view(request)))

    @router.put("/issue/{id_or_key}/assignee")
    async def assign(request: Request, id_or_key: str, caller: Caller) -> Response:
        """Assign by `accountId`, or unassign with null (204)."""
        body = await read_body(request, AssigneeBody)
        host.site.assign(id_or_key, body.accountId, actor=caller)
        return Response(status_code=204)

    @router.get("/issue/{id_or_key}/changelog", dependencies=signed_in)
    async def changelog(request: Request, id_or_key: str) -> Response:
        """The issue's change history, paged by `startAt`/`maxResults`."""
        start_at = max(0, int_param(request, "startAt", 0))
        max_results = min(100, max(1, int_param(request, "maxResults", 100)))
        return json_response(host.site.changelog(id_or_key, start_at, max_results, view(request)))

    return router
