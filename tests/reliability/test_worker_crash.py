"""Item 3, a worker killed mid-sync: a real `syncd serve` process is SIGKILLed 3 times at random
while ShotGrid edits flow to Jira through it (before, during or after its writes), and
restarted each time. After recovery every target equals what the edits say (diff = 0), and
no issue was moved twice (a write repeated after a kill would show in Jira's changelog).

tests/e2e/test_crash.py kills once; this scales it to several kills at random points.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncd_sandbox.dataset import generate
from syncd_sandbox.jira import DEFAULT_ACCOUNT_ID, DEFAULT_API_TOKEN, DEFAULT_EMAIL
from syncd_sandbox.runner import Sandbox
from syncd_sandbox.stack import linked_pairs
from syncd_sandbox.webhooks import WebhookConfig
from tests.reliability.figures import Figures, Record
from tests.reliability.serve import Served, free_port, wait_until, write_config

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

EDITS, KILLS = 24, 3


@pytest.fixture
def box() -> Iterator[Sandbox]:
    box = Sandbox(generate(seed=31, issues=300))
    box.start()
    yield box
    box.stop()


def test_sigkills_mid_sync_leave_every_target_right_and_written_once(
    box: Sandbox, tmp_path: Path, figures: Figures, record_property: Record
) -> None:
    rng = random.Random(3)
    port = free_port()
    db = tmp_path / "syncd.sqlite3"
    served = Served(write_config(tmp_path, box, port, f"sqlite:///{db}"), tmp_path / "log", port)
    box.point_webhooks_at(served.url)
    box.shotgrid.webhooks.config = WebhookConfig(  # the tool's own retries, as ShotGrid does
        url=f"{served.url}/webhooks/shotgrid", secret=box.options.secrets["shotgrid"],
        max_attempts=60, backoff_seconds=0.25, timeout_seconds=5,
    )  # fmt: skip

    def first_polls_done() -> bool:
        with sqlite3.connect(db) as conn:
            links = conn.execute("select count(*) from links where connector='jira'").fetchone()
            busy = conn.execute(
                "select count(*) from jobs where status in ('todo','doing') and kind='poll'"
            ).fetchone()
        return bool(links[0] > 100 and busy[0] == 0)

    served.start()
    try:
        served.wait_ready()
        wait_until(first_polls_done, 120, "the first poll of every tool")
        production = box.production
        pairs = [(task, key) for status in ("wtg", "rdy", "ip")
                 for key, task in linked_pairs(production, sg_status=status)][:EDITS]  # fmt: skip
        assert len(pairs) == EDITS
        kill_after = set(rng.sample(range(2, EDITS - 1), KILLS))
        artist = box.production.people[1].email
        for n, (task, _) in enumerate(pairs):
            box.shotgrid.edit_as(artist, "Task", task, {"sg_status_list": "rev"})
            if n in kill_after:
                time.sleep(rng.uniform(0.0, 1.5))  # anywhere in the worker's round
                served.kill()
                served.start()
                served.wait_ready()

        def wrong() -> list[str]:
            return [key for _, key in pairs
                    if box.jira.issue(key)["fields"]["status"]["name"] != "In Review"]  # fmt: skip

        started = time.monotonic()
        wait_until(lambda: not wrong(), 180, "every edit to reach Jira")
        recovery = time.monotonic() - started
        auth = (DEFAULT_EMAIL, DEFAULT_API_TOKEN)
        moved_twice = []
        for _, key in pairs:
            changelog = httpx.get(
                f"{box.url('jira')}/rest/api/3/issue/{key}/changelog", auth=auth
            ).json()["values"]
            moves = [h for h in changelog if h["author"]["accountId"] == DEFAULT_ACCOUNT_ID
                     and any(item["field"] == "status" for item in h["items"])]  # fmt: skip
            if len(moves) != 1:
                moved_twice.append(f"{key}: {len(moves)}")
        assert moved_twice == []
        figures.report(
            record_property, 3, edits=EDITS, sigkills=served.kills, diff=0,
            written_twice=0, seconds_to_converge_after_last_edit=round(recovery, 1),
        )  # fmt: skip
    finally:
        served.stop()
