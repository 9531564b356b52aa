"""Writing one issue: its fields with one edit, its status through a workflow transition.

A payload is `{"fields": {...}}` as the mapping builds it, custom fields by name and
`status` as `{"name": "<target>"}`. Fields go out in one `PUT issue/{key}` (ids, Jira's value
shapes); then, if the status differs, the transition leading to the target is taken. The
common case costs one call per issue (an edit, or a move whose transitions are known), two
when both change; see `transitions.py` for what is remembered and why it is safe.

A refusal of one issue (a bad value, no transition, a deleted issue) becomes that issue's
rejection reason; only failures of the whole call (credentials, the site down) raise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from syncd.connector import PushItem, PushStep

from .client import JiraClient, JiraRefusal
from .fields import FieldCatalog, UnknownField
from .jql import is_issue_key
from .transitions import (
    Transition,
    Where,
    WorkflowGraph,
    Workflows,
    choose,
    describe,
    same_status,
    transitions_of,
    where_of,
    workflow_graph,
)

log = logging.getLogger(__name__)

GONE = "the issue does not exist (or syncd's Jira account cannot see it)"


def refusal_reason(refusal: JiraRefusal, catalog: FieldCatalog | None = None) -> str:
    """Jira's reason, with field ids named as the mapping names them."""
    if refusal.status == 404:
        return GONE
    if refusal.errors:
        name = catalog.name_of if catalog is not None else str
        return "; ".join(f"{name(field)}: {message}" for field, message in refusal.errors.items())
    if refusal.messages:
        return "; ".join(refusal.messages)
    return str(refusal).removeprefix(f"[{refusal.connector}] ")


class Pusher:
    """Writes payloads to issues with as few calls as the memory of workflows allows."""

    def __init__(self, client: JiraClient, workflows: Workflows) -> None:
        self._client, self._workflows = client, workflows

    def push(
        self, item: PushItem, catalog: FieldCatalog, steps: list[PushStep] | None = None
    ) -> str | None:
        """Write one item; the reason it was refused, or None when it was written. The
        transitions taken are appended to `steps` when a status move took several."""
        key = item.external_id
        if not is_issue_key(key):
            return f"{key!r} is not a Jira issue key"
        payload = dict(item.payload)
        fields: dict[str, Any] = dict(payload.pop("fields", None) or {})
        if payload:
            return f"{key}: only fields can be written, not {', '.join(sorted(payload))}"
        target: str | None = None
        if "status" in fields:
            status = fields.pop("status")
            target = status.get("name") if isinstance(status, Mapping) else status
            if not isinstance(target, str) or not target.strip():
                return f"{key}: a Jira status cannot be emptied"
        try:
            edits = catalog.outgoing(fields)
        except UnknownField as exc:
            return f"{key}: {exc}"
        if edits:
            try:
                self._client.edit(key, edits)
            except JiraRefusal as refusal:
                return f"{key}: {refusal_reason(refusal, catalog)}"
        if target is None:
            return None
        refused = self.move(key, target.strip(), steps if steps is not None else [])
        if refused is not None and edits:
            return f"{refused} (its other fields were written)"
        return refused

    def move(self, key: str, target: str, steps: list[PushStep]) -> str | None:
        """Take the transition to `target` (or the shortest path of them); the reason when
        there is none (or it is refused)."""
        where = self._workflows.where(key)
        if where is not None and not same_status(where.status, target):
            offered = self._workflows.offered(where)
            if offered is None:
                with self._workflows.learning(where):
                    offered = self._workflows.offered(where)  # learnt while we waited?
                    if offered is None:
                        return self._move_afresh(key, target, steps)
            chosen = choose(offered, target) if offered is not None else None
            if chosen is not None:
                try:
                    self._client.transition(key, chosen.id)
                except JiraRefusal as refusal:
                    if refusal.status == 404:
                        return f"{key}: {GONE}"
                    # Not offered from where the issue really is: look again below.
                    log.info(
                        "%s: transition %s refused (%s); reading it afresh", key, chosen.id, refusal
                    )
                else:
                    self._workflows.saw(key, where.moved(chosen.to))
                    return None
        return self._move_afresh(key, target, steps)

    def _read(self, key: str) -> tuple[Where, list[Transition], str | None] | str:
        """Where the issue is, the transitions offered there and its project's id (one call,
        remembered), or why it could not be read."""
        try:
            raw = self._client.issue(key, ["status", "issuetype", "project"], expand="transitions")
        except JiraRefusal as refusal:
            return f"{key}: {refusal_reason(refusal)}"
        fields = raw.get("fields") or {}
        here = where_of(key, fields)
        if here is None:
            return f"{key}: Jira sent no status for the issue"
        offered = transitions_of(raw.get("transitions") or [])
        self._workflows.saw(key, here)
        self._workflows.learn(here, offered)
        project = fields.get("project")
        project_id = project.get("id") if isinstance(project, Mapping) else None
        return here, offered, str(project_id) if project_id is not None else None

    def _move_afresh(self, key: str, target: str, steps: list[PushStep]) -> str | None:
        """Read the issue's status and transitions (one call), then move it if needed."""
        read = self._read(key)
        if isinstance(read, str):
            return read
        here, offered, project_id = read
        if same_status(here.status, target):
            return None  # already there (a replay, or someone moved it)
        chosen = choose(offered, target)
        if chosen is None:
            return self._walk(key, here, offered, project_id, target, steps)
        try:
            self._client.transition(key, chosen.id)
        except JiraRefusal as refusal:
            # A retried POST whose first attempt landed is refused (no longer offered from
            # there): the issue is where it should be. Look once more before saying no.
            if refusal.status != 404 and self._is_at(key, target):
                return None
            return (
                f"{key}: Jira refused {chosen.name!r} from {here.status!r} to {target!r}: "
                f"{refusal_reason(refusal)}"
            )
        self._workflows.saw(key, here.moved(chosen.to))
        return None

    def _graph(self, here: Where, project_id: str | None) -> WorkflowGraph | str:
        """The issue's whole workflow (read once per workflow and remembered), or why not."""
        graph = self._workflows.graph(here)
        if graph is not None:
            return graph
        if project_id is None:
            return "Jira sent no project for the issue"
        with self._workflows.reading(here):
            graph = self._workflows.graph(here)  # read while we waited?
            if graph is not None:
                return graph
            try:
                raw = self._client.workflow(project_id, here.issue_type)
            except JiraRefusal as refusal:
                return f"its workflow could not be read: {refusal_reason(refusal)}"
            if raw is None:
                return "its project's workflow scheme names no workflow Jira returns"
            graph = workflow_graph(raw)
            self._workflows.learn_graph(here, graph)
            return graph

    def _walk(
        self,
        key: str,
        here: Where,
        offered: list[Transition],
        project_id: str | None,
        target: str,
        steps: list[PushStep],
    ) -> str | None:
        """No transition leads to `target` from here: take the shortest path of them through
        the workflow, each hop in `steps`. A refused hop re-reads the workflow (it changed)
        and plans again from where the issue then is, once."""
        start = here.status
        for attempt in range(2):
            graph = self._graph(here, project_id)
            if isinstance(graph, str):
                return (
                    f"{key}: no transition from {here.status!r} to {target!r} "
                    f"(available: {describe(offered)}); {graph}"
                )
            path = graph.path(here.status, target)
            if path is None:
                reachable = ", ".join(graph.reachable(here.status)) or "none"
                return (
                    f"{key}: no path from {here.status!r} to {target!r} in workflow "
                    f"{graph.name!r} (statuses reachable from {here.status!r}: {reachable})"
                )
            refused = self._take(key, here, path, steps)
            if refused is None:
                return None
            self._workflows.learn_graph(here, None)  # it proved wrong: read it again
            read = self._read(key)
            if isinstance(read, str):
                return read
            here, offered, project_id = read
            if same_status(here.status, target):
                return None
            if attempt == 1:
                tried = " → ".join([start, *(t.to for t in path)])
                return f"{key}: the path {tried} was refused at {refused}"
        return None  # pragma: no cover - the loop returns

    def _take(
        self, key: str, here: Where, path: list[Transition], steps: list[PushStep]
    ) -> str | None:
        """Take the transitions in turn; the refused hop's description, or None."""
        at = here
        for hop in path:
            try:
                self._client.transition(key, hop.id)
            except JiraRefusal as refusal:
                log.info("%s: hop %s → %s refused (%s)", key, at.status, hop.to, refusal)
                return f"{hop.name!r} ({at.status} → {hop.to}): {refusal_reason(refusal)}"
            steps.append(PushStep(field="status", old=at.status, new=hop.to, via=hop.name))
            at = at.moved(hop.to)
            self._workflows.saw(key, at)
        return None

    def _is_at(self, key: str, target: str) -> bool:
        """Whether the issue is in `target` now (one read); remembers what it saw."""
        try:
            raw = self._client.issue(key, ["status", "issuetype"])
        except JiraRefusal:
            return False
        here = where_of(key, raw.get("fields") or {})
        self._workflows.saw(key, here)
        return here is not None and same_status(here.status, target)
