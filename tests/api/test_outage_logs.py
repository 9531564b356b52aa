"""A store outage is logged when it starts and when it ends, not per request or per turn.

Issue #18: a PostgreSQL outage of 30 s wrote 342 error lines (a traceback per worker round,
per scheduler tick, per inbox batch and per webhook request). A real server process on a
PostgreSQL cluster of the test's own, which the test stops and starts again.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.api import private_pg
from tests.api.served import served
from tests.factories import signed_delivery

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not private_pg.available(), reason="initdb/pg_ctl are not installed"),
]

OUTAGE_SECONDS = 8


def _deliver(client: httpx.Client, n: int) -> int:
    headers, body = signed_delivery(f"a{n % 5 + 1}", f"outage-{n}")
    return client.post("/webhooks/a", content=body, headers=headers).status_code


def _until(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_store_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    tmp_path: Path,
) -> None:
    with private_pg.private_postgres() as cluster:
        settings = {
            "store_url": cluster.url,
            "log_level": "INFO",
            "sync": {"poll_interval_seconds": 10},
        }
        with (
            served(tmp_path, settings, ready="/readyz") as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            assert _deliver(client, 0) == 202
            time.sleep(1.5)  # the workers' first rounds
            before = len(server.log_lines())
            cluster.stop()
            answers: Counter[int] = Counter()
            ready: Counter[int] = Counter()
            sent = 0
            ends = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < ends:
                sent += 1
                answers[_deliver(client, sent)] += 1
                ready[client.get("/readyz").status_code] += 1
                time.sleep(0.05)
            cluster.start()
            _until(lambda: client.get("/readyz").status_code == 200, 60, "readiness")
            _until(lambda: _deliver(client, 10_000) == 202, 60, "the inbox to store again")
            time.sleep(3)  # every loop's next turn, which works again
            during = server.log_lines()[before:]
        loud = [line for line in during if line["level"] in ("error", "critical", "warning")]
        print(  # noqa: T201 (the figures)
            f"\n{OUTAGE_SECONDS} s outage: {sent} webhook requests {dict(answers)}, readyz "
            f"{dict(ready)}; {len(loud)} warning/error lines:\n  "
            + "\n  ".join(f"{line['level']}: {line['message'][:110]}" for line in loud)
        )
        assert answers[503] >= 10 and ready[503] >= 10  # the outage was seen by callers
        # Every loud line is a state change of one loop, and each loop changes state twice.
        assert all("outage" in line for line in loud), [line["message"] for line in loud]
        changes = Counter((line["outage"], line["outage_state"]) for line in loud)
        assert set(changes.values()) == {1}, changes
        failing = {what for what, state in changes if state == "failing"}
        recovered = {what for what, state in changes if state == "recovered"}
        assert failing == recovered and "storing webhook deliveries" in failing
        assert any(what.startswith("worker ") for what in failing)
        # Bounded by the loops, not by the requests: far fewer lines than requests.
        assert len(loud) <= 2 * len(failing) < sent
