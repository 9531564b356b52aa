"""The embedded job queue, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from syncd.jobs.store_queue import StoreJobQueue
from syncd.store import tables as t
from syncd.store.store import Store

LEASE = timedelta(seconds=30)


def _status(store: Store) -> dict[int, str]:
    with store.transaction() as tx:
        return {row.id: row.status for row in tx.conn.execute(sa.select(t.jobs))}


def test_enqueue_belongs_to_the_callers_transaction(store: Store) -> None:
    queue = StoreJobQueue(store)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        queue.enqueue(tx, "refresh", {"k": 1})
        raise RuntimeError("the cause was not stored, so neither is the job")
    assert _status(store) == {}


def test_a_burst_for_one_key_coalesces_until_the_job_starts(store: Store) -> None:
    queue = StoreJobQueue(store)
    with store.transaction() as tx:
        first = queue.enqueue(tx, "refresh", {"inbox": [1]}, dedupe_key="jira:HRB-1")
        second = queue.enqueue(tx, "refresh", {"inbox": [2]}, dedupe_key="jira:HRB-1")
    assert first == second
    [job] = queue.claim("w1", lease=LEASE)
    assert job.payload == {"inbox": [1, 2]}
    with store.transaction() as tx:  # running: a new delivery needs a new job after it
        third = queue.enqueue(tx, "refresh", {"inbox": [3]}, dedupe_key="jira:HRB-1")
    assert third != first


def test_one_running_job_per_lock(store: Store) -> None:
    queue = StoreJobQueue(store)
    with store.transaction() as tx:
        a = queue.enqueue(tx, "refresh", {}, lock_key="jira:HRB-1")
        b = queue.enqueue(tx, "refresh", {}, lock_key="jira:HRB-1")
        c = queue.enqueue(tx, "refresh", {}, lock_key="jira:HRB-2")
    claimed = queue.claim("w1", lease=LEASE, limit=10)
    assert [j.id for j in claimed] == [a, c]  # b waits for a
    assert queue.claim("w2", lease=LEASE, limit=10) == []
    with store.transaction() as tx:
        queue.complete(tx, [claimed[0]])
    [next_job] = queue.claim("w2", lease=LEASE)
    assert next_job.id == b


def test_a_dead_workers_job_returns_and_absorbs_its_waiting_twin(store: Store) -> None:
    queue = StoreJobQueue(store)
    with store.transaction() as tx:
        queue.enqueue(tx, "refresh", {"inbox": [1]}, dedupe_key="k", lock_key="k")
    [job] = queue.claim("w1", lease=timedelta(seconds=-1))  # a lease already over: it died
    with store.transaction() as tx:
        queue.enqueue(tx, "refresh", {"inbox": [2]}, dedupe_key="k", lock_key="k")
    assert queue.requeue_expired() == 1
    [again] = queue.claim("w2", lease=LEASE)
    assert again.id == job.id and again.attempts == 2
    assert again.payload == {"inbox": [1, 2]}  # nothing the twin held is lost
    assert queue.claim("w3", lease=LEASE) == []


def test_heartbeat_keeps_a_live_workers_job(store: Store) -> None:
    queue = StoreJobQueue(store)
    with store.transaction() as tx:
        queue.enqueue(tx, "poll", {})
    [job] = queue.claim("w1", lease=timedelta(seconds=-1))
    assert queue.heartbeat([job], "w1", LEASE) == 1
    assert queue.requeue_expired() == 0
    assert queue.heartbeat([job], "someone-else", LEASE) == 0


def test_retry_then_give_up(store: Store) -> None:
    queue = StoreJobQueue(store, max_attempts=2)
    with store.transaction() as tx:
        job_id = queue.enqueue(tx, "push", {})
    [job] = queue.claim("w", lease=LEASE)
    queue.retry(job, "503", timedelta(0))
    [job] = queue.claim("w", lease=LEASE)
    queue.retry(job, "503 again", timedelta(0))
    assert _status(store)[job_id] == "failed"


def test_concurrent_workers_never_overlap_on_a_lock_and_finish_every_job(store: Store) -> None:
    queue = StoreJobQueue(store)
    with store.transaction() as tx:
        ids = [queue.enqueue(tx, "refresh", {"n": n}, lock_key=f"rec-{n % 10}") for n in range(120)]
    running: Counter[str] = Counter()
    worst: Counter[str] = Counter()
    done: list[int] = []
    guard = threading.Lock()

    def work(name: str) -> None:
        idle = 0
        while idle < 20:
            jobs = queue.claim(name, lease=LEASE, limit=3)
            if not jobs:
                idle += 1
                time.sleep(0.005)
                continue
            idle = 0
            with guard:
                for job in jobs:
                    running[job.lock_key or ""] += 1
                    worst[job.lock_key or ""] = max(
                        worst[job.lock_key or ""], running[job.lock_key or ""]
                    )
            time.sleep(0.001)
            with guard:
                for job in jobs:
                    running[job.lock_key or ""] -= 1
            with store.transaction() as tx:
                queue.complete(tx, jobs)
            with guard:
                done.extend(j.id for j in jobs)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done) == sorted(ids)  # every job once
    assert max(worst.values()) == 1  # never two at once on one lock
