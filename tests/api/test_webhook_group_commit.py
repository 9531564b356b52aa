"""Group commit isolates a bad delivery: the others of its group are stored, it alone is refused.

On SQLite and on the real PostgreSQL. Expected rows are the ids the test sent (minus the bad
one), read back from the inbox table; expected jobs are the distinct records named.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.api.app import create_app
from syncd.api.services import Services
from syncd.inbox import Accepted, Delivery, RefusedDelivery, accept_many
from syncd.jobs.store_queue import StoreJobQueue
from syncd.settings import Settings
from syncd.store import tables as t
from syncd.store.inbox import Inbox
from syncd_sandbox.signing import sign_jira
from tests.factories import WEBHOOK_SECRET, World, make_signed_world

VALID = 50
RECORDS = 7  # the valid deliveries name b0..b6
LONG_ID = "x" * 300  # over the inbox's 255 characters (an unsigned header could say this)


@pytest.fixture
def world(store_url: str) -> Iterator[World]:
    world = make_signed_world(store_url)
    yield world
    world.store.close()


def _body(delivery: str, external_id: str, author: str = "person") -> tuple[dict[str, str], bytes]:
    body = json.dumps({"id": external_id, "delivery": delivery, "author": author}).encode()
    return {"content-type": "application/json", **sign_jira(body, WEBHOOK_SECRET)}, body


def _deliveries(world: World, specs: Sequence[tuple[str, str, str]]) -> list[Delivery]:
    tool = world.tools["b"]
    out = []
    for delivery_id, external_id, author in specs:
        headers, body = _body(delivery_id, external_id, author)
        out.append(Delivery(tool, headers, body, tool.parse_webhook(headers, body)))
    return out


def _valid_specs() -> list[tuple[str, str, str]]:
    return [(f"ok-{n}", f"b{n % RECORDS}", "person") for n in range(VALID)]


def _stored_ids(world: World) -> set[str]:
    with world.store.snapshot() as tx:
        return set(tx.conn.execute(sa.select(t.inbox.c.delivery_id)).scalars())


def _queued_records(world: World) -> set[str]:
    with world.store.snapshot() as tx:
        payloads = tx.conn.execute(sa.select(t.jobs.c.payload)).scalars()
        return {str(p["external_id"]) for p in payloads}


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(0, VALID), bad_id=st.sampled_from([LONG_ID, "", "nul\x00id"]))
def test_a_bad_delivery_id_is_refused_alone_and_the_rest_of_its_group_stored(
    world: World, position: int, bad_id: str
) -> None:
    # Hypothesis reuses the store between examples: each example uses fresh ids.
    with world.store.transaction() as tx:
        tx.conn.execute(t.jobs.delete())
        tx.conn.execute(t.inbox.delete())
    specs = _valid_specs()
    specs.insert(position, (bad_id, "b1", "person"))
    outcomes = accept_many(world.store, StoreJobQueue(world.store), _deliveries(world, specs))
    refused = [i for i, o in enumerate(outcomes) if isinstance(o, RefusedDelivery)]
    assert refused == [position]
    message = str(outcomes[position])
    assert "delivery id" in message and "255" in message
    assert all(
        isinstance(o, Accepted) and o.stored == 1 for i, o in enumerate(outcomes) if i != position
    )
    assert _stored_ids(world) == {f"ok-{n}" for n in range(VALID)}
    assert _queued_records(world) == {f"b{n}" for n in range(RECORDS)}


def _poison_insert(
    monkeypatch: pytest.MonkeyPatch, error: type[sa.exc.DBAPIError], poison: str = "poison"
) -> None:
    """The database refuses any insert holding the `poison` row (a constraint we did not
    foresee), or, for an OperationalError, fails as an unreachable store would."""
    original = Inbox.insert_new

    def insert_new(self: Inbox, rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
        if any(row["delivery_id"] == poison for row in rows):
            raise error("INSERT INTO inbox", {}, Exception("violates check constraint"))
        return original(self, rows)

    monkeypatch.setattr(Inbox, "insert_new", insert_new)


def test_an_unexpected_insert_error_is_retried_one_by_one_and_fails_only_its_delivery(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _poison_insert(monkeypatch, sa.exc.IntegrityError)
    specs = _valid_specs()
    specs.insert(23, ("poison", "b2", "person"))
    outcomes = accept_many(world.store, StoreJobQueue(world.store), _deliveries(world, specs))
    assert [i for i, o in enumerate(outcomes) if isinstance(o, RefusedDelivery)] == [23]
    assert "IntegrityError" in str(outcomes[23]) and "INSERT" not in str(outcomes[23])
    assert _stored_ids(world) == {f"ok-{n}" for n in range(VALID)}
    assert _queued_records(world) == {f"b{n}" for n in range(RECORDS)}


def test_a_store_outage_still_fails_the_whole_group(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _poison_insert(monkeypatch, sa.exc.OperationalError)
    specs = [*_valid_specs(), ("poison", "b2", "person")]
    with pytest.raises(sa.exc.OperationalError):
        accept_many(world.store, StoreJobQueue(world.store), _deliveries(world, specs))
    assert _stored_ids(world) == set() and _queued_records(world) == set()


def test_a_value_the_database_refuses_fails_only_its_delivery(world: World) -> None:
    # PostgreSQL's JSONB cannot hold \u0000 (SQLite can): nothing checks for it beforehand,
    # so this is the database refusing one row of a group, for real.
    specs = _valid_specs()
    specs.insert(5, ("nul-author", "b3", "someone\x00"))
    outcomes = accept_many(world.store, StoreJobQueue(world.store), _deliveries(world, specs))
    valid = {f"ok-{n}" for n in range(VALID)}
    if world.store.is_sqlite:
        assert all(isinstance(o, Accepted) for o in outcomes)
        assert _stored_ids(world) == valid | {"nul-author"}
    else:
        assert [i for i, o in enumerate(outcomes) if isinstance(o, RefusedDelivery)] == [5]
        assert "DataError" in str(outcomes[5])
        assert _stored_ids(world) == valid


async def _wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(20_000):  # a bound so a broken writer fails the test instead of hanging it
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the condition never held")


async def _post_in_one_group(
    services: Services, specs: Sequence[tuple[str, str, str]], groups: list[list[str]]
) -> list[httpx.Response]:
    """Post every delivery at once, all in flight before the inbox stores any of them, so
    they share one group commit (the writer is held on a first `gate` delivery meanwhile)."""
    entered, release = threading.Event(), threading.Event()
    original = accept_many

    def held(store: Any, queue: Any, deliveries: Sequence[Delivery]) -> list[Any]:
        ids = [e.delivery_id for d in deliveries for e in d.events]
        groups.append(ids)
        if "gate" in ids:
            entered.set()
            release.wait(60)
        return original(store, queue, deliveries)

    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://syncd") as client:

        async def post(spec: tuple[str, str, str]) -> httpx.Response:
            headers, body = _body(*spec)
            return await client.post("/webhooks/b", content=body, headers=headers)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("syncd.inbox.accept_many", held)
            gate = asyncio.create_task(post(("gate", "b0", "person")))
            await _wait_until(entered.is_set)
            tasks = [asyncio.create_task(post(spec)) for spec in specs]
            await _wait_until(lambda: len(services.inbox._waiting) == len(specs))
            release.set()
            answers = await asyncio.gather(*tasks)
            assert (await gate).status_code == 202
    return list(answers)


def test_fifty_valid_and_one_bad_delivery_at_once_over_http(world: World) -> None:
    services = Services(
        settings=Settings(),
        store=world.store,
        engine=world.engine,
        queue=StoreJobQueue(world.store),
    )
    specs = _valid_specs()
    specs.insert(31, (LONG_ID, "b4", "person"))
    groups: list[list[str]] = []
    try:
        answers = asyncio.run(_post_in_one_group(services, specs, groups))
    finally:
        services.inbox.close()
    assert sorted(len(g) for g in groups) == [1, VALID + 1]  # the gate, then all of them at once
    statuses = [a.status_code for a in answers]
    assert statuses.count(202) == VALID and statuses[31] == 400
    detail = answers[31].json()["detail"]
    assert "300 characters" in detail and "255" in detail
    assert all(
        a.json() == {"stored": 1, "duplicates": 0, "echoes": 0}
        for a in answers
        if a.status_code == 202
    )
    assert _stored_ids(world) == {f"ok-{n}" for n in range(VALID)} | {"gate"}
    assert _queued_records(world) == {f"b{n}" for n in range(RECORDS)}
