"""API calls the Jira connector makes, as the Jira sandbox counts them.

Run: `.venv/bin/python bench/jira_api_calls.py [--issues 1000] [--k 10]`.
Scenarios, each on a fresh connector state where it says so:
- a full pull of N issues (floor: ceil(N / 100) list calls, plus serverInfo and the fields);
- an incremental pull after k edits by a person (one list call, plus `myself` for the time zone);
- a fetch of k issues, one of them deleted (one list call per 100 keys, one more per deleted);
- pushing k field edits (one PUT each);
- pushing k status changes from one status of one issue type (one POST each, plus one read of
  the transitions offered there);
- pushing k edits that change fields and status (a PUT and a POST each).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.jira import JiraConfig, JiraConnector
from syncd.connector import PushItem
from syncd_sandbox.dataset import generate
from syncd_sandbox.jira import DEFAULT_API_TOKEN, DEFAULT_EMAIL, JiraSandbox
from syncd_sandbox.serving import ServedApp


@dataclass
class Scenario:
    """One measured scenario: what was done, and the calls per endpoint it cost."""

    name: str
    calls: dict[str, int] = field(default_factory=dict)
    records: int = 0

    @property
    def total(self) -> int:
        """Every call."""
        return sum(self.calls.values())

    def count(self, endpoint: str) -> int:
        """Calls to one endpoint (`GET /rest/api/3/search/jql`...)."""
        return self.calls.get(endpoint, 0)


def _counted(sandbox: JiraSandbox, work: Callable[[], int], name: str) -> Scenario:
    before = sandbox.calls.snapshot()
    records = work()
    after = sandbox.calls.snapshot()
    calls = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    return Scenario(name, calls, records)


def measure(*, issues: int = 1000, k: int = 10, seed: int = 5) -> list[Scenario]:
    """Serve a seeded sandbox, run every scenario, return the counts."""
    production = generate(seed=seed, issues=issues)
    sandbox = JiraSandbox(time_zone="Europe/Paris")
    sandbox.seed(production)
    server = ServedApp.start(sandbox.create_app())
    config = JiraConfig(
        base_url=server.url,
        email=DEFAULT_EMAIL,
        api_token=DEFAULT_API_TOKEN,
        projects=[production.jira_project_key],
        allow_private_addresses=True,  # the emulator listens on loopback
    )
    connector = JiraConnector("jira", config)
    try:
        return _scenarios(sandbox, connector, production.people[1].email, k)
    finally:
        connector.close()
        server.stop()
        sandbox.close()


def _scenarios(
    sandbox: JiraSandbox, connector: JiraConnector, person: str, k: int
) -> list[Scenario]:
    out: list[Scenario] = []
    cursor: list[str | None] = [None]

    def full_pull() -> int:
        n = 0
        for batch in connector.pull("issue", None, fields=[]):
            n += len(batch.records)
            cursor[0] = batch.cursor
        return n

    out.append(_counted(sandbox, full_pull, "full pull"))
    store = sandbox.site.store
    with store.lock:
        live = sorted((store.key(r) for r in store.records()), key=lambda s: int(s.split("-")[1]))
    for key in live[:k]:
        sandbox.edit_issue(key, as_user=person, fields={"summary": f"{key} edited"})

    def incremental() -> int:
        return sum(len(b.records) for b in connector.pull("issue", cursor[0], fields=[]))

    out.append(_counted(sandbox, incremental, f"incremental pull after {k} edits"))
    deleted = live.pop()
    sandbox.delete_issue(deleted, as_user=person)
    out.append(
        _counted(
            sandbox,
            lambda: len(connector.fetch("issue", [*live[: k - 1], deleted], fields=[])),
            f"fetch {k} issues, one deleted",
        )
    )

    def push(items: list[PushItem]) -> Callable[[], int]:
        def run() -> int:
            result = connector.push("issue", items)
            assert not result.rejected, result.rejected
            return len(result.written)

        return run

    edits = [PushItem(external_id=key, payload={"fields": {"summary": "set"}}) for key in live[:k]]
    out.append(_counted(sandbox, push(edits), f"push {k} field edits"))
    todo = _in_status(sandbox, "To Do", "Task")
    moves = [
        PushItem(external_id=key, payload={"fields": {"status": {"name": "In Progress"}}})
        for key in todo[:k]
    ]
    out.append(_counted(sandbox, push(moves), f"push {k} status changes"))
    both = [
        PushItem(
            external_id=key,
            payload={"fields": {"summary": "both", "status": {"name": "In Progress"}}},
        )
        for key in todo[k : 2 * k]
    ]
    out.append(_counted(sandbox, push(both), f"push {k} field + status changes"))
    return out


def _in_status(sandbox: JiraSandbox, status: str, issue_type: str) -> list[str]:
    site = sandbox.site
    workflow, types = site.catalog.workflow, site.catalog.issue_types
    with site.store.lock:
        return sorted(
            (
                site.store.key(r)
                for r in site.store.records()
                if workflow.statuses[r.status].name == status
                and types[r.issue_type].name == issue_type
            ),
            key=lambda s: int(s.split("-")[1]),
        )


def main() -> None:
    """Print one line per scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    scenarios = measure(issues=args.issues, k=args.k)
    print(f"{'scenario':<36} {'records':>7} {'calls':>5}  by endpoint")
    for s in scenarios:
        detail = ", ".join(f"{e} x{n}" for e, n in sorted(s.calls.items()))
        print(f"{s.name:<36} {s.records:>7} {s.total:>5}  {detail}")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
