"""Webhook API and worker: verified, stored, answered 202; then applied once by the worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from syncd.api.app import create_app
from syncd.api.services import Services
from syncd.jobs.store_queue import StoreJobQueue
from syncd.settings import Settings
from syncd.store import tables as t
from syncd.wake import WakeAll
from syncd.worker import Worker
from syncd_sandbox.signing import sign_jira
from tests.factories import (
    WEBHOOK_SECRET,
    World,
    make_signed_world,
    signed_delivery,
    sqlite_copy,
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = make_signed_world(sqlite_copy(tmp_path), migrate=False)
    for source in ("a", "b", "c"):
        world.put(source, 1, title="Rig hero", status="open")
    world.engine.sync()
    yield world
    world.store.close()


@pytest.fixture
def services(world: World) -> Services:
    settings = Settings(api={"max_body_bytes": 4096})
    return Services(
        settings=settings, store=world.store, engine=world.engine, queue=StoreJobQueue(world.store)
    )


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as client:
        yield client


def _inbox(world: World) -> list[tuple[str, str]]:
    with world.store.transaction() as tx:
        rows = tx.conn.execute(sa.select(t.inbox.c.delivery_id, t.inbox.c.status)).all()
    return [(r.delivery_id, r.status) for r in rows]


def test_forged_unsigned_and_malformed_deliveries_are_refused(
    client: TestClient, world: World
) -> None:
    headers, body = signed_delivery("b1", "d-1")
    forged = body.replace(b"b1", b"b2")
    response = client.post("/webhooks/b", content=forged, headers=headers)
    assert response.status_code == 401 and "does not match" in response.json()["detail"]
    unsigned = {"content-type": "application/json"}
    assert client.post("/webhooks/b", content=body, headers=unsigned).status_code == 401
    headers_bad, _ = signed_delivery("b1", "d-2")
    bad_json = b"{not json"
    response = client.post(
        "/webhooks/b",
        content=bad_json,
        headers={**headers_bad, **sign_jira(bad_json, WEBHOOK_SECRET)},
    )
    assert response.status_code == 400 and "malformed" in response.json()["detail"]
    big = b"x" * 5000
    assert client.post("/webhooks/b", content=big, headers=headers).status_code == 413
    assert client.post("/webhooks/nope", content=body, headers=headers).status_code == 404
    assert _inbox(world) == []  # nothing refused was stored


def test_duplicates_and_echoes_queue_no_extra_work(
    client: TestClient, world: World, services: Services
) -> None:
    headers, body = signed_delivery("b1", "d-1")
    first = client.post("/webhooks/b", content=body, headers=headers)
    again = client.post("/webhooks/b", content=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == {"stored": 1, "duplicates": 0, "echoes": 0}
    assert again.json() == {"stored": 0, "duplicates": 1, "echoes": 0}
    headers, body = signed_delivery("b1", "d-echo", author="syncd")
    assert client.post("/webhooks/b", content=body, headers=headers).json()["echoes"] == 1
    assert sorted(_inbox(world)) == [("d-1", "new"), ("d-echo", "echo")]
    assert services.queue.depth() == {"refresh": 1}


def test_worker_applies_a_delivery_once_and_marks_it_done(
    client: TestClient, world: World, services: Services
) -> None:
    world.put("b", 1, status="done")
    for n in range(5):  # a burst for one record coalesces into one job
        headers, body = signed_delivery("b1", f"d-{n}")
        assert client.post("/webhooks/b", content=body, headers=headers).status_code == 202
    assert services.queue.depth() == {"refresh": 1}
    worker = Worker(world.engine, services.queue)
    assert worker.run_once() == 1
    assert world.tools["a"].get("item", "a1")["status"] == "done"
    assert world.tools["c"].get("item", "c1")["status"] == "done"
    assert {status for _, status in _inbox(world)} == {"done"}
    assert worker.run_once() == 0
    # Replaying every delivery (a tool's retry after we answered) changes nothing.
    for n in range(5):
        headers, body = signed_delivery("b1", f"d-{n}")
        assert client.post("/webhooks/b", content=body, headers=headers).json()["duplicates"] == 1
    assert [len(tool.writes) for tool in world.tools.values()] == [1, 0, 1]


def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    headers, body = signed_delivery("b1", "d-9")
    client.post("/webhooks/b", content=body, headers=headers)
    metrics = client.get("/metrics").text
    assert 'syncd_webhook_deliveries_total{connector="b",outcome="stored"} 1.0' in metrics
    assert 'syncd_queue_depth{queue="jobs:refresh"} 1.0' in metrics


def test_store_outage_answers_503_so_the_tool_retries(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_: object, **__: object) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr("syncd.inbox.accept_many", down)
    headers, body = signed_delivery("b1", "d-outage")
    response = client.post("/webhooks/b", content=body, headers=headers)
    assert response.status_code == 503
    monkeypatch.undo()
    assert client.post("/webhooks/b", content=body, headers=headers).status_code == 202


def test_concurrent_deliveries_are_each_stored_once(client: TestClient, world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def send(n: int) -> int:
        headers, body = signed_delivery(f"b{n % 3}", f"burst-{n % 40}")
        return int(client.post("/webhooks/b", content=body, headers=headers).status_code)

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(send, range(120))) == {202}
    assert len(_inbox(world)) == 40  # 120 deliveries, 40 distinct delivery ids


def test_worker_feeds_the_metrics(client: TestClient, world: World, services: Services) -> None:
    world.put("b", 1, status="done")
    headers, body = signed_delivery("b1", "d-metrics")
    assert client.post("/webhooks/b", content=body, headers=headers).status_code == 202
    Worker(world.engine, services.queue, metrics=services.metrics).run_once()
    text = client.get("/metrics").text
    assert 'syncd_records_pulled_total{connector="b"} 1.0' in text
    assert 'syncd_records_pushed_total{connector="a"} 1.0' in text
    assert "syncd_webhook_to_push_seconds_count 1.0" in text
    assert 'syncd_job_duration_seconds_count{kind="refresh"} 1.0' in text


def test_lanes_take_their_own_tools_jobs_and_write_to_every_tool(
    client: TestClient, world: World, services: Services
) -> None:
    world.put("b", 1, status="done")
    headers, body = signed_delivery("b1", "d-b")
    assert client.post("/webhooks/b", content=body, headers=headers).status_code == 202
    headers, body = signed_delivery("a1", "d-a")
    assert client.post("/webhooks/a", content=body, headers=headers).status_code == 202
    lane_c = Worker(world.engine, services.queue, name="c", connectors=["c"])
    lane_b = Worker(world.engine, services.queue, name="b", connectors=["b"])
    lane_a = Worker(world.engine, services.queue, name="a", connectors=["a"])
    assert lane_c.run_once() == 0  # nothing arrived from c
    assert lane_b.run_once() == 1  # b's delivery only...
    assert services.queue.depth() == {"refresh": 1}  # ...a's still waits for its lane
    # ...and b's change went to every other tool, a and c included.
    assert world.tools["a"].get("item", "a1")["status"] == "done"
    assert world.tools["c"].get("item", "c1")["status"] == "done"
    world.put("a", 1, title="Rig hero v2")  # a's lane reads a1 as it is when it gets there
    assert lane_a.run_once() == 1
    assert world.tools["b"].get("item", "b1")["title"] == "Rig hero v2"
    assert services.queue.depth() == {}


def test_waking_reaches_every_worker() -> None:
    wake = WakeAll()
    first, second = wake.subscribe(), wake.subscribe()
    wake.set()
    first.clear()  # one worker taking the news...
    assert second.is_set() and wake.is_set()  # ...leaves it for the others
