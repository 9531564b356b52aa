"""Items 1, 2 and 18 against a real `syncd serve` process over the sandbox, with DEBUG logs.

1. Inbox durability: 2,000 signed webhooks (Jira and ShotGrid), sent by 8 threads while the
   process is SIGKILLed 3 times at random and restarted: every delivery that got a 2xx is
   in the inbox (found by a nonce in its body, not by the service's delivery ids).
2. Ack latency: 50 deliveries a second for 10 s while the workers re-read the 2,000 above;
   p50, p99 and max time-to-2xx printed (no timed assertion: the figure is the result).
18. Secret hygiene: every configured secret (tokens, webhook secrets, the service-account
   key's parts) is searched for in the DEBUG log, every answer body and the OpenAPI document.
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from syncd_sandbox.dataset import generate
from syncd_sandbox.jira import DEFAULT_API_TOKEN
from syncd_sandbox.runner import SG_KEY, Sandbox
from tests.reliability.figures import Figures, Record
from tests.reliability.serve import (
    ADMIN_TOKEN,
    Served,
    free_port,
    signed_delivery,
    write_config,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

DELIVERIES = 2_000
KILLS = 3
SENDERS = 8
RATE_PER_SECOND, RATE_SECONDS = 50, 10


@pytest.fixture
def box() -> Iterator[Sandbox]:
    box = Sandbox(generate(seed=13, issues=150))
    box.start()
    yield box
    box.stop()


@pytest.fixture
def served(box: Sandbox, tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    store = f"sqlite:///{tmp_path / 'syncd.sqlite3'}"
    config = write_config(tmp_path, box, port, store, log_level="DEBUG")
    service = Served(config, tmp_path / "service.log", port)
    service.start()
    service.wait_ready()
    yield service
    service.stop()


def _inbox_bodies(db: Path) -> list[bytes]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("select body from inbox")]


def test_inbox_durability_ack_latency_and_secret_hygiene(
    box: Sandbox, served: Served, tmp_path: Path, figures: Figures, record_property: Record
) -> None:
    rng = random.Random(1)
    nonces = [f"rel-{uuid.uuid4().hex}" for _ in range(DELIVERIES)]
    acked: set[str] = set()
    answers: list[str] = []
    refused = 0
    sent = 0
    lock = threading.Lock()
    kill_at = sorted(rng.sample(range(200, DELIVERIES - 200), KILLS))

    def send(client: httpx.Client, n: int) -> None:
        # As the trackers do: a delivery not acknowledged is sent again, a little later.
        nonlocal refused, sent
        tool, headers, body = signed_delivery(box, n, nonces[n])
        for _ in range(100):
            try:
                answer = client.post(f"{served.url}/webhooks/{tool}", headers=headers, content=body)
            except httpx.HTTPError:
                answer = None
            with lock:
                if answer is not None:
                    answers.append(answer.text)
                if answer is not None and answer.is_success:
                    acked.add(nonces[n])
                    sent += 1
                    return
                refused += 1
            time.sleep(0.2)
        with lock:
            sent += 1

    def killer() -> None:
        for target in kill_at:
            while sent < target:
                time.sleep(0.005)
            served.kill()
            served.start()
            served.wait_ready()

    chaos = threading.Thread(target=killer)
    chaos.start()
    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(lambda n: send(client, n), range(DELIVERIES)))
    chaos.join()
    served.wait_ready()
    stored = _inbox_bodies(tmp_path / "syncd.sqlite3")
    found = {nonce for nonce in acked if any(nonce.encode() in b for b in stored)}
    missing = sorted(acked - found)
    assert served.kills == KILLS
    assert missing == [], f"{len(missing)} acknowledged deliveries are not in the inbox"
    figures.report(
        record_property, 1, sent=DELIVERIES, acked_2xx=len(acked), resent=refused,
        sigkills=KILLS, stored=len(stored), missing=len(missing),
    )  # fmt: skip

    # -- 2: ack latency at 50/s while the workers re-read what came in above ---------------
    latencies: list[float] = []
    statuses: list[int] = []
    with httpx.Client(timeout=30) as client:
        start = time.monotonic()
        for k in range(RATE_PER_SECOND * RATE_SECONDS):
            ahead = start + k / RATE_PER_SECOND - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            tool, headers, body = signed_delivery(box, DELIVERIES + k, f"lat-{uuid.uuid4().hex}")
            began = time.perf_counter()
            answer = client.post(f"{served.url}/webhooks/{tool}", headers=headers, content=body)
            latencies.append(time.perf_counter() - began)
            statuses.append(answer.status_code)
            answers.append(answer.text)
    assert all(200 <= s < 300 for s in statuses), sorted(set(statuses))
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    figures.report(
        record_property, 2, requests=len(latencies), rate_per_s=RATE_PER_SECOND,
        p50_ms=round(statistics.median(ordered) * 1000, 1), p99_ms=round(p99 * 1000, 1),
        max_ms=round(ordered[-1] * 1000, 1),
    )  # fmt: skip

    # -- 18: secrets in logs, answers, errors and the OpenAPI document ---------------------
    with httpx.Client(base_url=served.url, timeout=10) as client:
        forged = signed_delivery(box, 1, "forged")
        wrong = {**forged[1], "X-Hub-Signature": "sha256=" + "0" * 64}
        answers.append(client.post("/webhooks/jira", headers=wrong, content=forged[2]).text)
        answers.append(client.post("/webhooks/shotgrid", content=b"{not json").text)
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        for path in ("/admin/v1/status", "/admin/v1/mappings", "/admin/v1/source-errors",
                     "/admin/v1/conflicts", "/openapi.json", "/metrics", "/readyz"):  # fmt: skip
            answers.append(client.get(path, headers=admin).text)
            answers.append(client.get(path, headers={"Authorization": "Bearer wrong"}).text)
        answers.append(client.post("/admin/v1/sync", headers=admin, json={"connector": "x"}).text)
    key = json.loads((tmp_path / "sandbox-service-account.json").read_text())
    key_lines = [line for line in key["private_key"].splitlines() if len(line) > 40]
    secrets = {
        "jira api_token": DEFAULT_API_TOKEN, "shotgrid script_key": SG_KEY,
        "admin token": ADMIN_TOKEN, "private key": key_lines[1], "private_key_id": key.get(
            "private_key_id", "no-such-id-in-the-key"),
        **{f"{tool} webhook_secret": value for tool, value in box.options.secrets.items()},
    }  # fmt: skip
    log = served.log.read_text(errors="replace")
    where = {"log": log, "answers": "\n".join(answers)}
    leaks = [f"{name} in {place}" for name, value in secrets.items()
             for place, text in where.items() if value in text]  # fmt: skip
    assert "DEBUG" in log or "debug" in log  # the level the check is about was on
    assert leaks == []
    figures.report(
        record_property, 18, secrets=len(secrets), log_bytes=len(log), answers=len(answers),
        matches=len(leaks),
    )  # fmt: skip
