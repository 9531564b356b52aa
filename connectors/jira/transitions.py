"""What the connector remembers to change a status in one call: issues' statuses, workflows.

Jira sets a status only through a workflow transition, whose id depends on where the issue
is. Listing an issue's transitions before every move would double the calls of a batch of
status changes, so the connector remembers:

- each issue's status (and issue type) as it last read it (pull, fetch, its own moves);
- the transitions Jira offered from a status, per (project, issue type, status), for a while.

A move then costs one call (the POST). The memory can be wrong, and the connector never
trusts it with the outcome:

- A transition's target is fixed in a workflow, and a successful POST always lands the issue
  in that target, so a stale memory can only make the POST fail (400: not offered from where
  the issue really is). The connector then reads the issue afresh and tries again.
- Before it says "no transition leads there", or "already there", it reads the issue afresh.
- Workflows differ per project and issue type, hence the key. A workflow edited in Jira
  (a transition re-pointed to another status) could send one move astray until the entry
  expires (`TRANSITIONS_TTL_SECONDS`); Jira's transition ids are not reused within a
  workflow, so this takes an admin re-wiring the workflow itself.
- Transitions with conditions (permissions, field values) may be listed yet refused: the
  refusal is reported with Jira's reason.

A status no transition from here leads to may still be reached in several hops (Done →
Reopen → To Do → In Review). Jira lists only the transitions from an issue's current status,
so for those moves the connector reads the whole workflow once (the project's workflow
scheme names it; `workflow/search` gives its transitions and statuses), keeps it per
(project, issue type) like the rest, and takes the shortest path through it (fewest
transitions, breadth first). A refused hop means the workflow changed: it is read again and
the path planned afresh from where the issue is.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TRANSITIONS_TTL_SECONDS = 900.0
REMEMBERED_ISSUES = 200_000  # ~200 bytes each (statuses shared): ~40 MB at most


@dataclass(frozen=True, slots=True)
class Where:
    """An issue's status as last seen, and the workflow it belongs to."""

    project: str
    issue_type: str | None  # the issue type's id
    status: str  # the status name

    def moved(self, status: str) -> Where:
        """The same issue in another status."""
        return Where(self.project, self.issue_type, status)

    def workflow_key(self) -> tuple[str, str | None, str]:
        """The cache key of the transitions offered from here."""
        return (self.project, self.issue_type, self.status.casefold())


@dataclass(frozen=True, slots=True)
class Transition:
    """A transition: its id, its name and the name of the status it leads to."""

    id: str
    name: str
    to: str


def same_status(a: str, b: str) -> bool:
    """Status names compare without case (Jira refuses two statuses differing only so)."""
    return a.casefold() == b.casefold()


def project_of(key: str) -> str:
    """The project key of an issue key."""
    return key.rpartition("-")[0]


def where_of(key: str, fields: Mapping[str, Any]) -> Where | None:
    """Where an issue is, from its `fields` (None when the status was not sent)."""
    status = fields.get("status")
    if not isinstance(status, Mapping) or not status.get("name"):
        return None
    issue_type = fields.get("issuetype")
    type_id = issue_type.get("id") if isinstance(issue_type, Mapping) else None
    # Interned: a few distinct values shared by every remembered issue.
    return Where(
        sys.intern(project_of(key)),
        sys.intern(str(type_id)) if type_id else None,
        sys.intern(str(status["name"])),
    )


def transitions_of(raw: Sequence[Mapping[str, Any]]) -> list[Transition]:
    """Transitions as Jira lists them (`{"id", "name", "to": {"name"}}`)."""
    return [
        Transition(str(t["id"]), str(t.get("name") or ""), str((t.get("to") or {}).get("name")))
        for t in raw
        if t.get("id") is not None and isinstance(t.get("to"), Mapping)
    ]


def choose(transitions: Sequence[Transition], target: str) -> Transition | None:
    """The first transition leading to `target`."""
    return next((t for t in transitions if same_status(t.to, target)), None)


def describe(transitions: Sequence[Transition]) -> str:
    """`Reopen → To Do, Start → In Progress` (or `none`)."""
    return ", ".join(f"{t.name} → {t.to}" for t in transitions) or "none"


@dataclass(frozen=True, slots=True)
class WorkflowGraph:
    """A whole workflow: the transitions offered from each status (by folded status name)."""

    name: str
    offered: Mapping[str, tuple[Transition, ...]]

    def path(self, start: str, target: str) -> list[Transition] | None:
        """The shortest way from `start` to `target` (fewest transitions); None if there is
        none. Ties go to the transitions in the order the workflow lists them."""
        goal = target.casefold()
        came: dict[str, tuple[str, Transition] | None] = {start.casefold(): None}
        queue = deque([start.casefold()])
        while queue:
            here = queue.popleft()
            if here == goal:
                hops: list[Transition] = []
                step = came[here]
                while step is not None:
                    hops.append(step[1])
                    step = came[step[0]]
                return hops[::-1]
            for transition in self.offered.get(here, ()):
                ahead = transition.to.casefold()
                if ahead not in came:
                    came[ahead] = (here, transition)
                    queue.append(ahead)
        return None

    def reachable(self, start: str) -> list[str]:
        """The statuses some path from `start` reaches, nearest first (start excluded)."""
        seen = {start.casefold()}
        found: list[str] = []
        queue = deque([start.casefold()])
        while queue:
            for transition in self.offered.get(queue.popleft(), ()):
                if transition.to.casefold() not in seen:
                    seen.add(transition.to.casefold())
                    found.append(transition.to)
                    queue.append(transition.to.casefold())
        return found


def workflow_graph(raw: Mapping[str, Any]) -> WorkflowGraph:
    """A workflow as `workflow/search?expand=transitions,statuses` returns it: transitions
    with `from` (status ids) and `to` (a status id); a global one starts anywhere."""
    names = {
        str(s["id"]): str(s["name"])
        for s in raw.get("statuses") or []
        if isinstance(s, Mapping) and s.get("id") is not None and s.get("name")
    }
    offered: dict[str, list[Transition]] = {name.casefold(): [] for name in names.values()}
    for t in raw.get("transitions") or []:
        to = names.get(str(t.get("to")))
        if to is None or t.get("id") is None:
            continue
        transition = Transition(str(t["id"]), str(t.get("name") or ""), to)
        if t.get("type") == "global":
            sources = [name for name in names.values() if not same_status(name, to)]
        else:  # "initial" transitions have no source: they create issues
            sources = [names[str(f)] for f in t.get("from") or [] if str(f) in names]
        for source in sources:
            offered[source.casefold()].append(transition)
    name = str((raw.get("id") or {}).get("name") or raw.get("name") or "workflow")
    return WorkflowGraph(name, {status: tuple(ts) for status, ts in offered.items()})


class Workflows:
    """The issues' last known statuses and the transitions offered per status; thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._issues: OrderedDict[str, Where] = OrderedDict()
        self._offered: dict[tuple[str, str | None, str], tuple[float, list[Transition]]] = {}
        self._learning: dict[tuple[str, str | None, str], threading.Lock] = {}
        self._graphs: dict[tuple[str, str | None], tuple[float, WorkflowGraph]] = {}
        self._reading: dict[tuple[str, str | None], threading.Lock] = {}

    def saw(self, key: str, where: Where | None) -> None:
        """Remember where an issue is (or forget it, with None)."""
        with self._lock:
            if where is None:
                self._issues.pop(key, None)
                return
            self._issues[key] = where
            self._issues.move_to_end(key)
            while len(self._issues) > REMEMBERED_ISSUES:
                self._issues.popitem(last=False)

    def where(self, key: str) -> Where | None:
        """Where the issue was last seen."""
        with self._lock:
            return self._issues.get(key)

    def offered(self, where: Where) -> list[Transition] | None:
        """The transitions remembered for this status, if fresh."""
        with self._lock:
            entry = self._offered.get(where.workflow_key())
        if entry is None or self._clock() - entry[0] > TRANSITIONS_TTL_SECONDS:
            return None
        return entry[1]

    def learning(self, where: Where) -> threading.Lock:
        """Held by the one writer that reads this status's transitions: writers moving other
        issues out of the same status wait for it instead of reading them too."""
        with self._lock:
            return self._learning.setdefault(where.workflow_key(), threading.Lock())

    def learn(self, where: Where, transitions: list[Transition]) -> None:
        """Remember the transitions Jira just offered from this status."""
        with self._lock:
            self._offered[where.workflow_key()] = (self._clock(), transitions)

    def graph(self, where: Where) -> WorkflowGraph | None:
        """The whole workflow this issue follows, if read lately."""
        with self._lock:
            entry = self._graphs.get((where.project, where.issue_type))
        if entry is None or self._clock() - entry[0] > TRANSITIONS_TTL_SECONDS:
            return None
        return entry[1]

    def reading(self, where: Where) -> threading.Lock:
        """Held by the one writer that reads this workflow: others wait for its answer."""
        with self._lock:
            return self._reading.setdefault((where.project, where.issue_type), threading.Lock())

    def learn_graph(self, where: Where, graph: WorkflowGraph | None) -> None:
        """Remember the workflow just read (or forget it, with None: it proved wrong)."""
        with self._lock:
            if graph is None:
                self._graphs.pop((where.project, where.issue_type), None)
            else:
                self._graphs[(where.project, where.issue_type)] = (self._clock(), graph)
