"""Multi-hop Jira transitions (issue #15, finding 6): a status change takes the shortest path
through the workflow, read once per workflow, each hop audited; what no path reaches is
reported with what was tried.

The workflow is the Jira emulator's (the shipped one of the seeded production: from Done
only "Reopen" to To Do). Expected paths are worked out here from the emulator's own
per-issue transition lists, not from the connector's graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from connectors.jira.push import Pusher
from connectors.jira.transitions import Workflows
from syncd_sandbox.dataset import generate
from syncd_sandbox.stack import Stack, linked_pairs

pytestmark = pytest.mark.sandbox

WORKFLOW_READ = "GET /rest/api/3/workflow/search"
MOVE = "POST /rest/api/3/issue/{id_or_key}/transitions"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    stack = Stack(generate(seed=23, issues=80), workers=0)
    report = stack.service.engine.sync()
    assert not report.errors, report.errors
    yield stack
    stack.close()


def _api(stack: Stack) -> httpx.Client:
    creds = stack.box.credentials()["jira"]
    return httpx.Client(
        base_url=f"{stack.box.url('jira')}/rest/api/3",
        auth=(creds["email"], creds["api_token"]),
        timeout=10,
    )


def _status(stack: Stack, key: str) -> str:
    return str(stack.box.jira.issue(key)["fields"]["status"]["name"])


def _offered_by_status(stack: Stack) -> dict[str, list[tuple[str, str]]]:
    """For each status some issue is in, the (transition id, target) Jira lists there."""
    offered: dict[str, list[tuple[str, str]]] = {}
    with _api(stack) as api:
        for issue in stack.production.jira_issues:
            if issue.deleted or issue.status in offered:
                continue
            listed = api.get(f"issue/{issue.key}/transitions").json()["transitions"]
            offered[issue.status] = [(t["id"], t["to"]["name"]) for t in listed]
    return offered


def _shortest(offered: Mapping[str, list[tuple[str, str]]], start: str, goal: str) -> int | None:
    """Hops from start to goal over the per-status lists (statuses no issue is in are not
    known here, so this can only under-estimate reachability, never the length)."""
    seen, queue = {start: 0}, deque([start])
    while queue:
        here = queue.popleft()
        if here == goal:
            return seen[here]
        for _, to in offered.get(here, []):
            if to not in seen:
                seen[to] = seen[here] + 1
                queue.append(to)
    return None


def test_the_emulator_workflow_is_per_status_and_refuses_with_jiras_text(stack: Stack) -> None:
    offered = _offered_by_status(stack)
    assert [to for _, to in offered["Done"]] == ["To Do"]  # Done offers Reopen only
    assert all(not t.get("isGlobal") for t in _transitions(stack, _issue_in(stack, "Done")))
    # The whole workflow as `workflow/search` lists it says the same, status by status.
    with _api(stack) as api:
        scheme = api.get("workflowscheme/project", params={"projectId": "10000"}).json()
        name = scheme["values"][0]["workflowScheme"]["defaultWorkflow"]
        workflow = api.get(
            "workflow/search", params={"workflowName": name, "expand": "transitions,statuses"}
        ).json()["values"][0]
        names = {s["id"]: s["name"] for s in workflow["statuses"]}
        for status, listed in offered.items():
            from_workflow = [
                (t["id"], names[t["to"]])
                for t in workflow["transitions"]
                if any(names[f] == status for f in t["from"])
            ]
            assert sorted(from_workflow) == sorted(listed), status
        # A transition not offered from the issue's status: Jira's own 400.
        key = _issue_in(stack, "Done")
        into_review = next(t for t in workflow["transitions"] if names[t["to"]] == "In Review")
        answer = api.post(
            f"issue/{key}/transitions", json={"transition": {"id": into_review["id"]}}
        )
        assert answer.status_code == 400
        assert answer.json() == {
            "errorMessages": [f"Transition id '{into_review['id']}' is not valid for this issue."],
            "errors": {},
        }
    assert _status(stack, key) == "Done"


def _issue_in(stack: Stack, status: str) -> str:
    return next(i.key for i in stack.production.jira_issues if not i.deleted and i.status == status)


def _transitions(stack: Stack, key: str) -> list[dict[str, Any]]:
    with _api(stack) as api:
        listed: list[dict[str, Any]] = api.get(f"issue/{key}/transitions").json()["transitions"]
        return listed


def test_done_to_in_review_takes_the_shortest_path_each_hop_audited(stack: Stack) -> None:
    """Finding 6: a ShotGrid task sent back to review while its Jira issue is Done."""
    offered = _offered_by_status(stack)
    expected_hops = _shortest(offered, "Done", "In Review")
    assert expected_hops == 2  # Reopen, then In Review
    pairs = [
        (key, task)
        for key, task in linked_pairs(stack.production, sg_status="fin")
        if _status(stack, key) == "Done"
    ][:3]
    assert len(pairs) == 3
    artist = stack.production.people[1].email
    before = stack.box.calls()["jira"]
    for _, task_id in pairs:
        stack.box.shotgrid.edit_as(artist, "Task", task_id, {"sg_status_list": "rev"})
    report = stack.service.engine.sync()
    assert not report.errors, report.errors
    after = stack.box.calls()["jira"]
    for key, _ in pairs:
        assert _status(stack, key) == "In Review", key
        hops = _audited_hops(stack, key)
        assert hops == [("Done", "To Do"), ("To Do", "In Review")], key
    # The workflow was read once for the three moves, and each move took exactly its hops.
    assert after.get(WORKFLOW_READ, 0) - before.get(WORKFLOW_READ, 0) == 1
    assert after.get(MOVE, 0) - before.get(MOVE, 0) == 3 * expected_hops
    # Nothing was left pending or refused.
    with stack.service.store.snapshot() as tx:
        assert not tx.outbox.due("jira", 10)


def _audited_hops(stack: Stack, key: str) -> list[tuple[str, str]]:
    with stack.service.store.snapshot() as tx:
        link = tx.links.find([("jira", "issue", key)])[("jira", "issue", key)]
        history = tx.audit.history(link.record_id)
    return [(e["old"], e["new"]) for e in history if e["reason"] == "transition"]


# -- the connector's planning, against a Jira whose workflow changes under it ---------------


class ChangingJira:
    """A stand-in for the client: a workflow as Jira's REST resources list it, changed by
    the test between reads (an admin re-wiring it), and the issue's status."""

    def __init__(self, transitions: list[dict[str, Any]], status: str) -> None:
        self.statuses = {"1": "Done", "2": "To Do", "3": "In Review", "4": "Triage"}
        self.transitions, self.status = transitions, status
        self.workflow_reads = 0
        self.moves: list[str] = []

    def _id(self, name: str) -> str:
        return next(i for i, n in self.statuses.items() if n == name)

    def _offered(self) -> list[dict[str, Any]]:
        here = self._id(self.status)
        return [t for t in self.transitions if here in t["from"]]

    def issue(self, key: str, fields: list[str], *, expand: str | None = None) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "fields": {
                "status": {"name": self.status},
                "issuetype": {"id": "10001"},
                "project": {"id": "10000"},
            }
        }
        if expand == "transitions":
            raw["transitions"] = [
                {"id": t["id"], "name": t["name"], "to": {"name": self.statuses[t["to"]]}}
                for t in self._offered()
            ]
        return raw

    def workflow(self, project_id: str, issue_type_id: str | None) -> dict[str, Any]:
        self.workflow_reads += 1
        return {
            "id": {"name": "wf"},
            "statuses": [{"id": i, "name": n} for i, n in self.statuses.items()],
            "transitions": [dict(t, type="directed") for t in self.transitions],
        }

    def transition(self, key: str, transition_id: str) -> None:
        from connectors.jira.client import JiraRefusal

        chosen = next((t for t in self._offered() if t["id"] == transition_id), None)
        if chosen is None:
            message = f"Transition id '{transition_id}' is not valid for this issue."
            raise JiraRefusal("jira", message, status=400, messages=[message], errors={})
        self.moves.append(self.statuses[chosen["to"]])
        self.status = self.statuses[chosen["to"]]


def _t(tid: str, name: str, frm: list[str], to: str) -> dict[str, Any]:
    return {"id": tid, "name": name, "from": frm, "to": to}


def _push(pusher: Pusher, target: str) -> str | None:
    return pusher.move("HRB-1", target, [])


def test_a_refused_hop_reads_the_workflow_again_and_plans_from_where_the_issue_is() -> None:
    jira = ChangingJira(
        [_t("11", "Reopen", ["1"], "2"), _t("21", "Review", ["2"], "3")], status="Done"
    )
    pusher = Pusher(jira, Workflows(clock=lambda: 0.0))  # type: ignore[arg-type]
    # Learn the workflow with one move, then put the issue back and re-wire the workflow:
    # Reopen now leads to Triage, and only Triage goes to review.
    assert _push(pusher, "In Review") is None
    assert jira.moves == ["To Do", "In Review"] and jira.workflow_reads == 1
    jira.status, jira.moves = "Done", []
    jira.transitions = [
        _t("12", "Reopen", ["1"], "4"),
        _t("31", "Review", ["4"], "3"),
        _t("21", "Review", ["2"], "3"),
    ]
    assert _push(pusher, "In Review") is None
    assert jira.moves == ["Triage", "In Review"]
    assert jira.workflow_reads == 2  # the remembered one proved wrong: read again


def test_a_status_no_path_reaches_is_reported_with_what_was_tried() -> None:
    jira = ChangingJira(
        [_t("11", "Reopen", ["1"], "2"), _t("41", "Triage", ["2"], "4")], status="Done"
    )
    pusher = Pusher(jira, Workflows(clock=lambda: 0.0))  # type: ignore[arg-type]
    reason = _push(pusher, "In Review")
    assert reason == (
        "HRB-1: no path from 'Done' to 'In Review' in workflow 'wf' "
        "(statuses reachable from 'Done': To Do, Triage)"
    )
    assert jira.moves == []  # nothing was moved on the way to nowhere
