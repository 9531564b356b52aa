"""Replays and forgeries against the running service, with deliveries the emulators signed.

Reliability checklist (/work/shared/reliability.md section 8):
- 8: every captured delivery replayed 3x with its own headers and 3x with a new (unsigned)
  delivery id, the whole set shuffled: nothing new stored, no job, no call to any tool;
  each person's edit reached the other tool with exactly one write.
- 13: per source, wrong secret / one byte changed / signature header missing / JSON
  re-serialised / signed timestamp 305 s old / 305 s ahead: 401, nothing stored.
- 14: a captured delivery resent 6 minutes later (the service's wall clock moved on, an
  injected clock) is refused for the timestamped schemes (Jira, Standard Webhooks); resent
  within the window it is a duplicate with no side effect.

Expected values come from the emulators (their call logs and what their senders sent), not
from syncd. The counts are printed as one JSON line (`REPLAY-FIGURES {...}`) that
docs/webhooks.md cites.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import pytest
import sqlalchemy as sa

from connectors.jira import JiraConnector
from connectors.sheets.connector import SheetsConnector
from syncd.store import tables as t
from syncd_sandbox.dataset import generate
from syncd_sandbox.signing import sign_jira, sign_shotgrid, sign_standard
from syncd_sandbox.stack import Stack, linked_pairs
from syncd_sandbox.webhooks import Delivery
from tests.e2e.settle import settled

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

STALE = 305  # seconds from now: past the 300 s tolerance, with room for the request's time
NEW_ID_HEADER = {"jira": "X-Atlassian-Webhook-Identifier", "shotgrid": "x-sg-delivery-id"}
FIGURES: dict[str, Any] = {}


@dataclass
class WallClock:
    """The service's wall clock for webhook timestamps: real time plus a shift tests set."""

    shift: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift


@dataclass
class Rig:
    stack: Stack
    clock: WallClock
    captured: dict[str, list[Delivery]] = field(default_factory=dict)
    edits: int = 0


def _wait_settled(stack: Stack) -> None:
    for _ in range(600):  # a bound so a stuck service fails the test instead of hanging it
        stack.flush_webhooks()
        if settled(stack):
            return
        time.sleep(0.1)
    raise AssertionError("the service did not settle")


def _counts(stack: Stack) -> tuple[int, int]:
    """(inbox rows, job rows) in the store."""
    with stack.service.store.snapshot() as tx:
        inbox = tx.conn.execute(sa.select(sa.func.count()).select_from(t.inbox)).scalar_one()
        jobs = tx.conn.execute(sa.select(sa.func.count()).select_from(t.jobs)).scalar_one()
    return int(inbox), int(jobs)


def _tool_calls(stack: Stack) -> int:
    return sum(sum(calls.values()) for calls in stack.box.calls().values())


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    stack = Stack(
        generate(seed=11, issues=80), workers=1, settings={"rollup": {"flush_interval_seconds": 1}}
    )
    clock = WallClock()
    # The connectors check signed timestamps against this clock (their `now` dependency).
    cast(JiraConnector, stack.service.connectors["jira"])._now = clock
    cast(SheetsConnector, stack.service.connectors["sheets"])._now = clock
    report = stack.service.engine.sync()
    assert not report.errors, report.errors
    _wait_settled(stack)
    rig = Rig(stack, clock)
    _make_edits(rig)
    yield rig
    stack.close()
    print("\nREPLAY-FIGURES " + json.dumps(FIGURES, sort_keys=True))  # noqa: T201 (the report)


def _make_edits(rig: Rig) -> None:
    """People edit each tool; every delivery the emulators send is captured as sent."""
    stack, box, production = rig.stack, rig.stack.box, rig.stack.production
    person = production.people[1].email
    sent_before = {tool: len(e.webhooks.stats.history) for tool, e in box.emulators.items()}
    transitions_before = _transition_calls(stack)
    pairs = linked_pairs(production, sg_status="ip")[:3]
    stack.service.engine.sync(push=False)  # read back what the first sync wrote
    time.sleep(1.05 - time.time() % 1)  # ShotGrid's whole-second clock (see test_round_trip)
    for _, task_id in pairs:
        box.shotgrid.edit_as(person, "Task", task_id, {"sg_status_list": "rev"})
    linked = {key for key, _ in pairs}
    others = [i for i in production.jira_issues if not i.deleted and i.key not in linked][:3]
    for n, issue in enumerate(others):
        box.jira.edit_issue(issue.key, as_user=person, fields={"summary": f"replayed {n}"})
    header = list(production.invoices.rows[0])
    column = chr(ord("A") + header.index("Status"))
    rows = [
        n
        for n, row in enumerate(production.invoices.rows[1:], start=2)
        if row[0] and row[header.index("Status")] == "Approved"
    ][:2]
    for row in rows:
        box.sheets.person_edit(
            production.spreadsheet_id,
            as_=person,
            range_=f"'Invoices'!{column}{row}",
            values=[["Paid"]],
        )
    rig.edits = len(pairs) + len(others) + len(rows)
    _wait_settled(stack)
    for key, _ in pairs:  # each ShotGrid edit reached Jira...
        assert box.jira.issue(key)["fields"]["status"]["name"] == "In Review"
    # ...with exactly one write each (one transition per issue).
    transitions = _transition_calls(stack) - transitions_before
    FIGURES["shotgrid_edits_to_jira"] = {"edits": len(pairs), "transitions_written": transitions}
    assert transitions == len(pairs)
    for tool, emulator in box.emulators.items():
        sent = emulator.webhooks.stats.history[sent_before[tool] :]
        assert all(d.status is not None and d.status < 300 for d in sent), tool
        rig.captured[tool] = list(sent)
    assert all(rig.captured.values()), {k: len(v) for k, v in rig.captured.items()}
    FIGURES["logical_changes"] = rig.edits
    FIGURES["captured_deliveries"] = {k: len(v) for k, v in rig.captured.items()}


def _transition_calls(stack: Stack) -> int:
    calls = stack.box.jira.calls.snapshot()
    return sum(
        n
        for endpoint, n in calls.items()
        if endpoint.startswith("POST") and "transitions" in endpoint
    )


def _post(client: httpx.Client, tool: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return client.post(f"/webhooks/{tool}", content=body, headers=headers)


def _with_new_id(tool: str, headers: dict[str, str]) -> dict[str, str]:
    if tool in NEW_ID_HEADER:  # an unsigned header: anyone replaying can change it
        wanted = NEW_ID_HEADER[tool].lower()
        kept = {k: v for k, v in headers.items() if k.lower() != wanted}
        return {**kept, NEW_ID_HEADER[tool]: str(uuid.uuid4())}
    return {**headers, "webhook-id": f"msg_{uuid.uuid4().hex}"}  # signed: breaks the MAC


def test_8_replaying_every_delivery_three_times_out_of_order_changes_nothing(rig: Rig) -> None:
    stack = rig.stack
    _wait_settled(stack)
    inbox, jobs = _counts(stack)
    calls = _tool_calls(stack)
    plan: list[tuple[str, str, Delivery]] = []
    for tool, deliveries in rig.captured.items():
        for delivery in deliveries:
            plan += [(tool, "same", delivery)] * 3 + [(tool, "new-id", delivery)] * 3
    random.Random(8).shuffle(plan)
    answers: dict[tuple[str, str], list[int]] = {}
    stored = 0
    with httpx.Client(base_url=stack.url) as client:
        for tool, how, delivery in plan:
            headers = (
                dict(delivery.headers) if how == "same" else _with_new_id(tool, delivery.headers)
            )
            response = _post(client, tool, delivery.body, headers)
            answers.setdefault((tool, how), []).append(response.status_code)
            if response.status_code == 202:
                stored += response.json()["stored"]
    _wait_settled(stack)
    figures = {
        "tried": len(plan),
        "stored_again": stored,
        "inbox_rows_added": _counts(stack)[0] - inbox,
        "jobs_added": _counts(stack)[1] - jobs,
        "tool_calls_caused": _tool_calls(stack) - calls,
        "answers": {f"{tool}/{how}": sorted(set(codes)) for (tool, how), codes in answers.items()},
    }
    FIGURES["item_8_duplicates"] = figures
    assert stored == 0 and figures["inbox_rows_added"] == 0 and figures["jobs_added"] == 0
    assert figures["tool_calls_caused"] == 0
    for (tool, how), codes in answers.items():
        # A new webhook-id is a forgery for Standard Webhooks (the id is signed): refused.
        expected = {401} if (tool, how) == ("sheets", "new-id") else {202}
        assert set(codes) == expected, (tool, how, codes)


def _variants(rig: Rig, tool: str, delivery: Delivery) -> dict[str, tuple[bytes, dict[str, str]]]:
    """Forged or stale versions of a real delivery, each one the service must refuse."""
    secret = rig.stack.box.options.secrets[tool]
    body, headers = delivery.body, dict(delivery.headers)
    middle = len(body) // 2
    tampered = body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]
    reserialised = json.dumps(json.loads(body), indent=1).encode()
    signature = {"jira": "X-Hub-Signature", "shotgrid": "X-SG-SIGNATURE"}.get(
        tool, "webhook-signature"
    )
    missing = {k: v for k, v in headers.items() if k.lower() != signature.lower()}
    out = {
        "tampered_body": (tampered, headers),
        "missing_header": (body, missing),
        "reserialised_json": (reserialised, headers),
    }
    if tool == "jira":
        out["wrong_secret"] = (body, {**headers, **sign_jira(body, "not-the-secret")})
        payload = json.loads(body)
        for name, shift in (("old_timestamp", -STALE), ("future_timestamp", STALE)):
            stamp = int((time.time() + shift) * 1000)
            moved = json.dumps({**payload, "timestamp": stamp}).encode()
            out[name] = (moved, {**headers, **sign_jira(moved, secret)})
    elif tool == "shotgrid":
        out["wrong_secret"] = (body, {**headers, **sign_shotgrid(body, "not-the-secret")})
    else:
        msg_id, stamp = headers["webhook-id"], int(headers["webhook-timestamp"])
        wrong = "whsec_" + "A" * 32
        out["wrong_secret"] = (
            body,
            {**headers, **sign_standard(body, wrong, msg_id=msg_id, timestamp=stamp)},
        )
        for name, shift in (("old_timestamp", -STALE), ("future_timestamp", STALE)):
            fresh = f"msg_{uuid.uuid4().hex}"  # a new id too: only the time is wrong
            signed = sign_standard(body, secret, msg_id=fresh, timestamp=int(time.time()) + shift)
            out[name] = (body, {**headers, **signed})
    return out


def test_13_forged_and_stale_deliveries_are_all_refused_and_nothing_stored(rig: Rig) -> None:
    stack = rig.stack
    _wait_settled(stack)
    inbox, jobs = _counts(stack)
    tried = refused = accepted = 0
    forged: list[str] = []
    per_case: dict[str, int] = {}
    with httpx.Client(base_url=stack.url) as client:
        for tool, deliveries in rig.captured.items():
            for delivery in deliveries:
                for case, (body, headers) in _variants(rig, tool, delivery).items():
                    response = _post(client, tool, body, headers)
                    tried += 1
                    per_case[f"{tool}/{case}"] = per_case.get(f"{tool}/{case}", 0) + 1
                    if response.status_code == 401:
                        refused += 1
                    else:
                        accepted += 1
                        forged.append(f"{tool}/{case}: {response.status_code} {response.text}")
    _wait_settled(stack)
    FIGURES["item_13_signatures"] = {
        "tried": tried,
        "refused_401": refused,
        "accepted_forged": accepted,
        "inbox_rows_added": _counts(stack)[0] - inbox,
        "cases": per_case,
    }
    assert accepted == 0 and refused == tried, forged
    assert _counts(stack) == (inbox, jobs)


def test_14_a_delivery_resent_after_six_minutes_is_refused_within_the_window_deduped(
    rig: Rig,
) -> None:
    stack = rig.stack
    _wait_settled(stack)
    inbox, jobs = _counts(stack)
    calls = _tool_calls(stack)
    late: dict[str, list[int]] = {}
    soon: dict[str, list[int]] = {}
    with httpx.Client(base_url=stack.url) as client:
        rig.clock.shift = 360.0  # six minutes after capture, on the service's clock
        try:
            for tool, deliveries in rig.captured.items():
                for delivery in deliveries:
                    answer = _post(client, tool, delivery.body, dict(delivery.headers))
                    late.setdefault(tool, []).append(answer.status_code)
        finally:
            rig.clock.shift = 0.0
        for tool, deliveries in rig.captured.items():
            for delivery in deliveries:
                answer = _post(client, tool, delivery.body, dict(delivery.headers))
                assert answer.status_code == 202, (tool, answer.text)
                assert answer.json()["stored"] == 0
                soon.setdefault(tool, []).append(answer.json()["duplicates"])
    _wait_settled(stack)
    FIGURES["item_14_replay_window"] = {
        "late_answers": {tool: sorted(set(codes)) for tool, codes in late.items()},
        "late_tried": sum(len(codes) for codes in late.values()),
        "within_window_tried": sum(len(d) for d in soon.values()),
        "inbox_rows_added": _counts(stack)[0] - inbox,
        "jobs_added": _counts(stack)[1] - jobs,
        "tool_calls_caused": _tool_calls(stack) - calls,
    }
    # Jira and Standard Webhooks sign a timestamp: six minutes late is refused.
    assert set(late["jira"]) == {401} and set(late["sheets"]) == {401}
    # ShotGrid signs no timestamp: its replay is a duplicate (its signed ids are kept).
    assert set(late["shotgrid"]) == {202}
    assert _counts(stack) == (inbox, jobs) and _tool_calls(stack) == calls
