"""Admin API status, source errors and sync triggers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.memory import MemoryConnector
from syncd.connector import Batch
from syncd.errors import TransientError
from tests.api.admin_kit import ADMIN, API, CONNECTOR_SECRET, VIEWER, Kit, Seen, build_kit
from tests.factories import SignedMemoryConnector, signed_delivery, signed_tools


@dataclass
class UnreachableTool(SignedMemoryConnector):
    """A memory tool that can be switched off, and then fails every read."""

    failing: bool = False

    def pull(
        self, entity: str, cursor: str | None, *, fields: Sequence[tuple[str, ...]]
    ) -> Iterator[Batch]:
        """Fail while switched off; the memory tool's pull otherwise."""
        if self.failing:
            # A careless tool error that echoes the request, credential included.
            raise TransientError(
                self.name, f"GET https://c.example/rest?api_token={CONNECTOR_SECRET}: refused"
            )
        yield from super().pull(entity, cursor, fields=fields)


@pytest.fixture
def flaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: Seen) -> Iterator[Kit]:
    """Like `kit`, with tool c able to fail."""
    monkeypatch.chdir(tmp_path)
    tools: dict[str, MemoryConnector] = signed_tools()
    first = tools["a"]
    tools["c"] = UnreachableTool(name="c", clock=first.clock, users={"c-u1": "zoe@studio.example"})
    with build_kit(tmp_path, seen, tools=tools) as built:
        yield built


def _status(kit: Kit) -> dict[str, object]:
    response = kit.client.get(f"{API}/status", headers=VIEWER)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_status_shows_cursors_runs_lag_failures_and_queue_depths(flaky: Kit) -> None:
    tool = flaky.world.tools["c"]
    assert isinstance(tool, UnreachableTool)
    tool.failing = True
    flaky.world.engine.sync()
    conflict = flaky.open_conflict()
    flaky.client.post(
        f"{API}/conflicts/{conflict.id}/resolve", headers=ADMIN, json={"value": "done"}
    )
    headers, body = signed_delivery("b1", "d-1")
    assert flaky.client.post("/webhooks/b", content=body, headers=headers).status_code == 202
    status = _status(flaky)
    by_name = {c["connector"]: c for c in status["connectors"]}  # type: ignore[attr-defined]
    a, c = by_name["a"], by_name["c"]
    assert a["kind"] == "memory" and set(a["cursors"]) == {"item"} and a["cursors"]["item"]
    assert a["last_run"]["status"] == "ok" and a["failed_runs_24h"] == 0
    assert a["runs_24h"] == 3 and 0 <= a["lag_seconds"] < 60
    assert c["last_run"]["status"] == "failed" and c["failed_runs_24h"] == 2
    assert c["runs_24h"] == 3
    message = c["last_run"]["message"]
    assert "refused" in message and CONNECTOR_SECRET not in message and "**********" in message
    assert c["last_success"] is not None and c["lag_seconds"] >= a["lag_seconds"]
    # The resolution waits in the outbox for the tools that do not hold "done" yet.
    assert (by_name["b"]["outbox"], c["outbox"], a["outbox"]) == (1, 1, 0)
    assert status["inbox"] == 1
    assert status["jobs"] == {"push": 2, "refresh": 1}
    assert status["mapping"] == {
        "version": flaky.service.engine.mappings.version,
        "version_id": 1,
    }
    assert a["last_failure"] is None
    # c comes back: its last run is fine, and the last failure stays visible.
    tool.failing = False
    flaky.world.engine.sync()
    c = {x["connector"]: x for x in _status(flaky)["connectors"]}["c"]  # type: ignore[attr-defined]
    assert c["last_run"]["status"] == "ok" and c["lag_seconds"] < 60
    assert c["last_failure"]["status"] == "failed" and "**********" in c["last_failure"]["message"]


def test_source_errors_name_the_place_and_the_reason(kit: Kit) -> None:
    conflict = kit.open_conflict()
    # "review" is a task status, but no tool's value table can write it.
    response = kit.client.post(
        f"{API}/conflicts/{conflict.id}/resolve", headers=ADMIN, json={"value": "review"}
    )
    assert response.status_code == 200
    kit.run_worker()
    errors = kit.client.get(f"{API}/source-errors", headers=VIEWER).json()
    assert {(e["connector"], e["external_id"], e["field"]) for e in errors} == {
        ("a", "a1", "status"),
        ("b", "b1", "status"),
        ("c", "c1", "status"),
    }
    assert all("cannot write status" in e["message"] for e in errors)
    only_a = kit.client.get(f"{API}/source-errors?connector=a", headers=VIEWER).json()
    assert [e["connector"] for e in only_a] == ["a"]
    by_name = {c["connector"]: c for c in _status(kit)["connectors"]}  # type: ignore[attr-defined]
    assert [by_name[n]["source_errors"] for n in "abc"] == [1, 1, 1]


def test_a_sync_trigger_queues_poll_jobs_for_the_worker(kit: Kit) -> None:
    one = kit.client.post(f"{API}/sync", headers=ADMIN, json={"connector": "a"})
    assert one.status_code == 202 and one.json() == {"connectors": ["a"], "full": False}
    assert kit.service.queue.depth() == {"poll": 1}
    assert kit.service.services.wake_worker.is_set()
    kit.client.post(f"{API}/sync", headers=ADMIN, json={"connector": "a"})
    assert kit.service.queue.depth() == {"poll": 1}  # a waiting poll absorbs the second
    every = kit.client.post(f"{API}/sync", headers=ADMIN, json={"connector": None, "full": True})
    assert every.json() == {"connectors": ["a", "b", "c"], "full": True}
    assert kit.service.queue.depth() == {"poll": 4}
    assert kit.client.post(f"{API}/sync", headers=ADMIN, json={"connector": "z"}).status_code == 404
    bad = kit.client.post(f"{API}/sync", headers=ADMIN, json={"connector": "a", "when": "now"})
    assert bad.status_code == 422
    while kit.run_worker():
        pass
    assert kit.service.queue.depth() == {}
    by_name = {c["connector"]: c for c in _status(kit)["connectors"]}  # type: ignore[attr-defined]
    assert [by_name[n]["runs_24h"] for n in "abc"] == [3, 2, 2]
