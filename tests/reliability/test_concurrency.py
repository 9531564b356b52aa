"""Item 9, concurrency per entity: 8 workers (threads with their own connections) take 500
jobs on 20 entities from the job queue on PostgreSQL while they are being queued. Each job,
while it runs, counts the jobs of its entity running at the same time: the maximum is 1. And
while one job of an entity waits, queueing another folds it in: waiting jobs per entity <= 1.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from syncd.jobs.store_queue import StoreJobQueue
from syncd.store import tables as t
from syncd.store.store import Store
from tests.reliability.figures import Figures, Record

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKERS, JOBS, ENTITIES = 8, 500, 20


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_one_job_per_entity_at_a_time(
    store_url: str, figures: Figures, record_property: Record
) -> None:
    store = Store(store_url)
    queue = StoreJobQueue(store)
    rng = random.Random(9)
    running: Counter[str] = Counter()
    most: Counter[str] = Counter()
    waiting_most = 0
    ran = 0
    lock = threading.Lock()
    produced = threading.Event()

    def produce() -> None:
        for n in range(JOBS):
            key = f"item:{rng.randrange(ENTITIES)}"
            with store.transaction() as tx:
                queue.enqueue(tx, "refresh", {"n": n}, dedupe_key=key, lock_key=key)
            if n % 50 == 0:
                time.sleep(0.01)
        produced.set()

    def work(name: str) -> None:
        nonlocal ran
        idle_since = None
        while True:
            jobs = queue.claim(name, lease=timedelta(seconds=60), kinds=["refresh"], limit=2)
            if not jobs:
                if produced.is_set():
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since > 1.0:
                        return
                time.sleep(0.005)
                continue
            idle_since = None
            keys = [job.lock_key or "" for job in jobs]
            with lock:
                for key in keys:
                    running[key] += 1
                    most[key] = max(most[key], running[key])
            time.sleep(rng.uniform(0, 0.004))  # the job's work
            with store.transaction() as tx:
                queue.complete(tx, jobs)
            with lock:
                for key in keys:
                    running[key] -= 1
                ran += len(jobs)

    def watch() -> None:
        nonlocal waiting_most
        while not produced.is_set():
            with store.transaction() as tx:
                counts = tx.conn.execute(
                    sa.select(t.jobs.c.lock_key, sa.func.count())
                    .where(t.jobs.c.status == "todo").group_by(t.jobs.c.lock_key)
                ).all()  # fmt: skip
            waiting_most = max([waiting_most, *(c for _, c in counts)])
            time.sleep(0.01)

    threads = [threading.Thread(target=produce), threading.Thread(target=watch)]
    threads += [threading.Thread(target=work, args=(f"w{i}",)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with store.transaction() as tx:
        left = tx.conn.execute(
            sa.select(sa.func.count()).select_from(t.jobs).where(t.jobs.c.status != "done")
        ).scalar_one()
    store.close()
    assert left == 0
    assert max(most.values()) == 1, most
    assert waiting_most <= 1
    figures.report(
        record_property, 9, workers=WORKERS, jobs_queued=JOBS, entities=ENTITIES,
        jobs_run=ran, max_concurrent_per_entity=max(most.values()),
        max_waiting_per_entity=waiting_most,
    )  # fmt: skip
