"""One seeded Jira Cloud site: reads, edits, transitions, creates and deletes, with webhooks.

REST handlers and the person control API both call in here; `actor` is the accountId a
change is attributed to (the integration user for API calls, a person for control calls).
Every change happens under the store lock; the webhook is rendered under it and sent after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from syncd_sandbox.jira.catalog import Catalog, CustomFieldIds, Transition, User, build_catalog
from syncd_sandbox.jira.edits import CANNOT_SET, EditPlanner, Refusal, Values
from syncd_sandbox.jira.errors import UNBOUNDED_JQL, bad_request, field_errors, issue_not_found
from syncd_sandbox.jira.events import IssueEvent, JiraWebhookSender, delivery_headers, issue_payload
from syncd_sandbox.jira.formats import to_millis
from syncd_sandbox.jira.jql import JqlError, Sort, parse
from syncd_sandbox.jira.render import Json, Renderer, View, select_fields
from syncd_sandbox.jira.search import Compiler, Plan, count, decode_token, encode_token, page
from syncd_sandbox.jira.seeding import seed_records
from syncd_sandbox.jira.store import ChangeItem, History, IssueRecord, IssueStore
from syncd_sandbox.production import Production

Clock = Callable[[], datetime]
SEARCH_CAP_WITH_FIELDS = 100
SEARCH_CAP_IDS_ONLY = 5000


class JiraSite:
    """A project's issues plus everything around them, seeded from a `Production`."""

    def __init__(
        self,
        production: Production,
        *,
        integration: User,
        time_zone: str,
        field_ids: CustomFieldIds,
        clock: Clock,
        webhooks: JiraWebhookSender,
        default_order: tuple[Sort, ...],
        site_url: str | None = None,
    ) -> None:
        self.zone = ZoneInfo(time_zone)
        self.clock, self.webhooks, self.default_order = clock, webhooks, default_order
        self.catalog: Catalog = build_catalog(
            production,
            integration=integration,
            time_zone=time_zone,
            field_ids=field_ids,
            now=clock(),
        )
        self.store = IssueStore(production.jira_project_key)
        self.renderer = Renderer(self.catalog, self.store, self.zone)
        self.planner = EditPlanner(self.catalog)
        self._fixed_url = site_url
        self.base_url = site_url or "http://127.0.0.1"
        self.store.load(*seed_records(production.jira_issues, self.catalog, self.store))

    def remember_base(self, base: str) -> None:
        """Remember where clients reach the site, so webhook links point there too."""
        if self._fixed_url is None:
            self.base_url = base

    def view(self, version: str, base: str | None = None) -> View:
        """A rendering view for a request that reached the site at `base`."""
        if base:
            self.remember_base(base)
        return View(self._fixed_url or base or self.base_url, version)

    def _now(self) -> int:
        return self.store.stamp(to_millis(self.clock()))

    def _get(self, id_or_key: str) -> IssueRecord:
        record = self.store.find(id_or_key)
        if record is None:
            raise issue_not_found()
        return record

    # -- reads -------------------------------------------------------------------------------

    def search(
        self,
        jql: str,
        *,
        token: str | None,
        limit: int,
        fields: Sequence[str] | None,
        expand: frozenset[str],
        view: View,
    ) -> Json:
        """One page of `search/jql`: `{issues, nextPageToken?, isLast}`."""
        names = self._field_names(fields) if fields is not None else None
        cap = SEARCH_CAP_WITH_FIELDS if names else SEARCH_CAP_IDS_ONLY
        with self.store.lock:
            plan = self._plan(jql)
            after = decode_token(plan, token) if token else None
            rows, more = page(plan, self.store, after, min(limit, cap))
            issues = [self.renderer.issue(r, names, view, expand) for r in rows]
            body: Json = {"issues": issues}
            if more:
                body["nextPageToken"] = encode_token(plan, plan.sort_key(rows[-1]))
            body["isLast"] = not more
        return body

    def count(self, jql: str) -> int:
        """How many issues a JQL query matches."""
        with self.store.lock:
            return count(self._plan(jql), self.store)

    def _plan(self, jql: str) -> Plan:
        try:
            query = parse(jql)
            if not query.clauses:
                raise bad_request(UNBOUNDED_JQL)
            compiler = Compiler(self.catalog, self.store, self.zone, self.clock())
            return compiler.compile(query, self.default_order)
        except JqlError as error:
            raise bad_request(str(error)) from error

    def _field_names(self, requested: Sequence[str]) -> tuple[str, ...]:
        renderer = self.renderer
        return select_fields(
            requested, navigable=renderer.navigable_fields, every=renderer.every_field
        )

    def issue(
        self, id_or_key: str, *, fields: Sequence[str] | None, expand: frozenset[str], view: View
    ) -> Json:
        """`GET issue/{idOrKey}`; all fields unless `fields` narrows them."""
        names = self._field_names(fields or ["*all"])
        with self.store.lock:
            return self.renderer.issue(self._get(id_or_key), names, view, expand)

    def transitions(self, id_or_key: str, view: View) -> Json:
        """`GET issue/{idOrKey}/transitions`."""
        with self.store.lock:
            record = self._get(id_or_key)
            available = self.catalog.workflow.available(record.status)
            return {
                "expand": "transitions",
                "transitions": [self.renderer.transition(t, view) for t in available],
            }

    def workflow_scheme(self, project_ids: Sequence[str], view: View) -> Json:
        """`GET workflowscheme/project?projectId=`: the scheme of each project (one here)."""
        catalog = self.catalog
        values = []
        if catalog.project_id in project_ids:
            values.append(
                {
                    "projectIds": [catalog.project_id],
                    "workflowScheme": {
                        "id": 10100,
                        "name": f"{catalog.project_key}: Software workflow scheme",
                        "description": "",
                        "defaultWorkflow": catalog.workflow.NAME,
                        "issueTypeMappings": {},
                        "self": f"{view.api}/workflowscheme/10100",
                    },
                }
            )
        return {
            "maxResults": 50,
            "startAt": 0,
            "total": len(values),
            "isLast": True,
            "values": values,
        }

    def workflow_search(self, names: Sequence[str], expand: frozenset[str], view: View) -> Json:
        """`GET workflow/search`: the workflows by name, with transitions and statuses when
        expanded (`from` lists status ids, as Jira's workflow REST resources do)."""
        workflow = self.catalog.workflow
        values = []
        if not names or workflow.NAME in names:
            found: Json = {
                "id": {"name": workflow.NAME, "entityId": "5ed0d5a1-0000-4000-8000-1"},
                "description": "",
            }
            if "transitions" in expand:
                found["transitions"] = [
                    {
                        "id": t.id,
                        "name": t.name,
                        "description": "",
                        "from": [workflow.statuses[n].id for n in froms],
                        "to": workflow.statuses[t.to].id,
                        "type": "directed",
                    }
                    for t, froms in workflow.transitions_from()
                ]
            if "statuses" in expand:
                found["statuses"] = [{"id": s.id, "name": s.name} for s in workflow.statuses]
            values.append(found)
        return {
            "maxResults": 50,
            "startAt": 0,
            "total": len(values),
            "isLast": True,
            "values": values,
            "self": f"{view.api}/workflow/search",
        }

    def changelog(self, id_or_key: str, start_at: int, max_results: int, view: View) -> Json:
        """`GET issue/{idOrKey}/changelog`, paged by startAt/maxResults."""
        with self.store.lock:
            record = self._get(id_or_key)
            histories = record.histories or []
            chosen = histories[start_at : start_at + max_results]
            url = f"{view.api}/issue/{self.store.key(record)}/changelog"
            body: Json = {
                "self": f"{url}?maxResults={max_results}&startAt={start_at}",
                "maxResults": max_results,
                "startAt": start_at,
                "total": len(histories),
                "isLast": start_at + len(chosen) >= len(histories),
                "values": [self.renderer.history(h, view) for h in chosen],
            }
            if not body["isLast"]:
                next_start = start_at + max_results
                body["nextPage"] = f"{url}?maxResults={max_results}&startAt={next_start}"
            return body

    # -- writes ------------------------------------------------------------------------------

    def edit(
        self,
        id_or_key: str,
        fields: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        actor: str,
        rich_text: bool,
    ) -> IssueRecord:
        """Edit fields; a real change bumps `updated`, writes history and sends a webhook."""
        with self.store.lock:
            record = self._get(id_or_key)
            values = self.planner.plan(record, fields, update, rich_text=rich_text)
            self._change(record, values, (), actor)
            return record

    def transition(
        self, id_or_key: str, transition_id: str, fields: Mapping[str, Any], *, actor: str
    ) -> None:
        """Take a transition by id; 400 when this issue's status does not offer it."""
        with self.store.lock:
            record = self._get(id_or_key)
            available = self.catalog.workflow.available(record.status)
            chosen = next((t for t in available if t.id == transition_id), None)
            if chosen is None:
                raise bad_request(f"Transition id '{transition_id}' is not valid for this issue.")
            if fields:
                raise field_errors({f: CANNOT_SET.format(field=f) for f in fields})
            self._change(
                record, {}, (self._status_item(record.status, chosen.to),), actor, chosen.to
            )

    def edit_then_move(
        self,
        id_or_key: str,
        fields: Mapping[str, Any],
        update: Mapping[str, Any],
        status_name: str | None,
        *,
        actor: str,
        rich_text: bool,
    ) -> None:
        """Edit as a person does in the UI: save the fields (one history), then move to
        `status_name` through the transition the workflow offers. Both are checked first."""
        with self.store.lock:
            record = self._get(id_or_key)
            chosen = self._transition_towards(record, status_name) if status_name else None
            values = self.planner.plan(record, fields, update, rich_text=rich_text)
            self._change(record, values, (), actor)
            if chosen is not None:
                self.transition(id_or_key, chosen.id, {}, actor=actor)

    def _transition_towards(self, record: IssueRecord, status_name: str) -> Transition | None:
        """The offered transition into `status_name` (None if already there); 400 if none."""
        workflow = self.catalog.workflow
        target = workflow.index_of(status_name)
        if target is None:
            raise bad_request(f"The status '{status_name}' does not exist.")
        if target == record.status:
            return None
        offered = workflow.available(record.status)
        chosen = next((t for t in offered if t.to == target), None)
        if chosen is None:
            names = ", ".join(f"{t.name} → {workflow.statuses[t.to].name}" for t in offered)
            current = workflow.statuses[record.status].name
            raise bad_request(
                f"No transition from '{current}' to '{status_name}'; offered: {names}."
            )
        return chosen

    def assign(self, id_or_key: str, account_id: str | None, *, actor: str) -> None:
        """`PUT issue/{idOrKey}/assignee`."""
        self.edit(
            id_or_key, {"assignee": {"accountId": account_id}}, {}, actor=actor, rich_text=True
        )

    def _status_item(self, old: int, new: int) -> ChangeItem:
        statuses = self.catalog.workflow.statuses
        return ChangeItem(
            "status",
            "jira",
            "status",
            statuses[old].id,
            statuses[old].name,
            statuses[new].id,
            statuses[new].name,
        )

    def _change(
        self,
        record: IssueRecord,
        values: Values,
        extra_items: tuple[ChangeItem, ...],
        actor: str,
        status: int | None = None,
    ) -> None:
        changed, items = self.planner.changes(record, values)
        items = (*extra_items, *items)
        if not items:
            return  # Jira writes no history, bumps nothing and sends nothing for a no-op edit
        for attribute, value in changed.items():
            setattr(record, attribute, value)
        if status is not None:
            record.status = status
        history = self.store.record_change(record, items, actor, self._now())
        self._emit("jira:issue_updated", record, actor, history)

    def create(
        self,
        fields: Mapping[str, Any],
        update: Mapping[str, Any] | None = None,
        *,
        actor: str,
        rich_text: bool,
    ) -> IssueRecord:
        """Create an issue in the initial status; `project`, `summary`, `issuetype` required."""
        extra = {
            "project": lambda value, _rich: self._project(value),
            "issuetype": lambda value, _rich: {"issue_type": self._issue_type(value)},
            "reporter": lambda value, _rich: {"reporter": self._reporter(value)},
        }
        missing = {
            "project": "Specify a valid project ID or key",
            "summary": "You must specify a summary of the issue.",
            "issuetype": "Specify an issue type",
        }
        absent = {k: v for k, v in missing.items() if k not in fields}
        if absent:
            raise field_errors(absent)
        with self.store.lock:
            values = self.planner.plan(None, fields, update or {}, rich_text=rich_text, extra=extra)
            record = self.store.create(
                status=self.catalog.workflow.initial, reporter=actor, created=self._now()
            )
            for attribute, value in values.items():
                setattr(record, attribute, value)
            self.store.add(record)
            self._emit("jira:issue_created", record, actor, None)
            return record

    def _project(self, value: Any) -> Values:
        catalog = self.catalog
        if isinstance(value, dict) and (
            str(value.get("key", "")).casefold() == catalog.project_key.casefold()
            or str(value.get("id", "")) == catalog.project_id
        ):
            return {}
        raise Refusal("Specify a valid project ID or key")

    def _issue_type(self, value: Any) -> int:
        ident = (value.get("id") or value.get("name")) if isinstance(value, dict) else None
        index = self.catalog.issue_type(str(ident)) if ident else None
        if index is None:
            raise Refusal("Specify a valid issue type")
        return index

    def _reporter(self, value: Any) -> str:
        account_id = value.get("accountId") if isinstance(value, dict) else None
        if not isinstance(account_id, str) or account_id not in self.catalog.users:
            raise Refusal("Specify a valid value for reporter")
        return account_id

    def delete(self, id_or_key: str, *, actor: str) -> None:
        """Delete an issue; its key then answers 404 and is never reused."""
        with self.store.lock:
            record = self._get(id_or_key)
            self._emit("jira:issue_deleted", record, actor, None)
            self.store.remove(record)

    def _emit(
        self, event: IssueEvent, record: IssueRecord, actor: str, history: History | None
    ) -> None:
        """Render the webhook while holding the lock; queue it (never blocks on delivery)."""
        view = View(self.base_url, "2")
        renderer = self.renderer
        changelog = None
        if history is not None:
            changelog = {"id": str(history.id), "items": renderer.history(history, view)["items"]}
        timestamps = {"jira:issue_created": record.created, "jira:issue_updated": record.updated}
        payload = issue_payload(
            event,
            timestamp=timestamps.get(event) or to_millis(self.clock()),
            user=renderer.user(actor, view),
            issue=renderer.issue(record, renderer.every_field, view),
            changelog=changelog,
        )
        self.webhooks.send(payload, delivery_headers())
