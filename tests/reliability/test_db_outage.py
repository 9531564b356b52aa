"""Item 7, a database outage: `syncd serve` on a private PostgreSQL cluster, which is stopped
(immediate shutdown) for 10 s while webhooks keep coming, then started again.

Deliveries are sent as the trackers send them (again, until acknowledged). During the
outage no delivery may get a 2xx (the sender must keep it and retry: 503); afterwards every
acknowledged delivery is in the inbox (0 lost) and every one is processed (0 jobs lost).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from syncd_sandbox.dataset import generate
from syncd_sandbox.runner import Sandbox
from tests.reliability.figures import Figures, Record
from tests.reliability.private_pg import PrivateCluster
from tests.reliability.serve import Served, free_port, signed_delivery, wait_until, write_config

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

OUTAGE_SECONDS = 10
SENDERS = 4


@dataclass
class Answer:
    """One attempt to deliver: when it was answered, and how (0: no answer)."""

    at: float
    status: int
    nonce: str


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    found = PrivateCluster.create(free_port())
    yield found
    found.destroy()


@pytest.fixture
def box() -> Iterator[Sandbox]:
    box = Sandbox(generate(seed=17, issues=100))
    box.start()
    yield box
    box.stop()


def test_webhooks_during_a_database_outage_get_503_and_nothing_is_lost(
    cluster: PrivateCluster,
    box: Sandbox,
    tmp_path: Path,
    figures: Figures,
    record_property: Record,
) -> None:
    port = free_port()
    config = write_config(tmp_path, box, port, cluster.store_url)
    served = Served(config, tmp_path / "service.log", port)
    served.start()
    answers: list[Answer] = []
    acked: set[str] = set()
    lock = threading.Lock()
    done = threading.Event()
    counter = iter(range(10**9))
    try:
        served.wait_ready()

        def sender() -> None:
            with httpx.Client(timeout=15) as client:
                while not done.is_set():
                    with lock:
                        n = next(counter)
                    nonce = f"pg-{uuid.uuid4().hex}"
                    tool, headers, body = signed_delivery(box, n, nonce)
                    while not done.is_set():  # the tracker's retries
                        try:
                            status = client.post(
                                f"{served.url}/webhooks/{tool}", headers=headers, content=body
                            ).status_code
                        except httpx.HTTPError:
                            status = 0
                        with lock:
                            answers.append(Answer(time.monotonic(), status, nonce))
                            if 200 <= status < 300:
                                acked.add(nonce)
                                break
                        time.sleep(0.2)
                    time.sleep(0.05)

        threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
        for thread in threads:
            thread.start()
        time.sleep(4)
        cluster.stop()
        down_at = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        up_at = time.monotonic()
        cluster.start()
        time.sleep(8)
        done.set()
        for thread in threads:
            thread.join()

        # Answers given while the database was down (a margin for requests in flight).
        during = [a for a in answers if down_at + 1 <= a.at <= up_at]
        ok_during = [a for a in during if 200 <= a.status < 300]
        statuses = sorted({a.status for a in during})
        assert during, "no delivery was attempted during the outage"
        assert ok_during == [], f"{len(ok_during)} deliveries acknowledged with the database down"
        assert 503 in statuses, f"answers during the outage: {statuses}"

        def inbox() -> tuple[list[str], int]:
            """Acknowledged deliveries missing from the inbox; stored ones not processed."""
            with psycopg.connect(cluster.syncd_url) as conn:
                rows = conn.execute("select body, status from inbox").fetchall()
            bodies = b"\n".join(bytes(r[0]) for r in rows)
            missing = [n for n in acked if n.encode() not in bodies]
            return missing, sum(1 for r in rows if r[1] == "new")

        with contextlib.suppress(AssertionError):
            wait_until(lambda: inbox() == ([], 0), 120, "the inbox to be processed")
        missing, unprocessed = inbox()
        assert missing == [], f"{len(missing)} acknowledged deliveries lost"
        assert unprocessed == 0, f"{unprocessed} stored deliveries never processed"
        figures.report(
            record_property, 7, outage_s=OUTAGE_SECONDS, attempts=len(answers),
            acked=len(acked), answered_during_outage=len(during), acked_during_outage=0,
            statuses_during_outage=statuses, lost=0,
        )  # fmt: skip
    finally:
        done.set()
        served.stop()
