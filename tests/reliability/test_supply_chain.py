"""Item 19: static analysis (bandit, medium severity and above: 0 findings) and a fuzz of the
signature, header and webhook parsers (bounded examples in CI: every input is either
accepted or refused with a ValueError, never another exception, which the webhook routes
would answer with a 500).

pip-audit is not run: it needs an advisory database (PyPI's JSON API or OSV) this machine
cannot reach. docs/reliability.md says how to run it where it can.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jira import JiraConfig, JiraConnector
from connectors.sheets.webhooks import parse_delivery
from connectors.shotgrid import ShotGridConfig, ShotGridConnector
from syncd.signatures import verify_jira, verify_shotgrid, verify_standard
from syncd_sandbox.signing import sign_jira, sign_shotgrid, sign_standard
from tests.reliability.figures import Figures, Record

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fuzz-webhook-secret"
STANDARD_SECRET = "whsec_ZnV6ei13ZWJob29rLXNlY3JldC1rZXktMzI="
EXAMPLES = 300  # per property: a few seconds in CI; raise with --hypothesis-seed for a soak

# Header text as starlette hands it over: the raw bytes decoded as latin-1.
header_text = st.binary(max_size=60).map(lambda raw: raw.decode("latin-1"))
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
# Bodies shaped like each tool's, with any value where a known key goes.
jira_bodies = st.fixed_dictionaries(
    {"webhookEvent": st.sampled_from(["jira:issue_updated", "jira:issue_created",
                                      "jira:issue_deleted", "comment_created"]) | json_values},
    optional={
        "issue": json_values | st.fixed_dictionaries(
            {"key": json_values, "fields": json_values}, optional={"id": json_values}
        ),
        "timestamp": json_values,
        "user": json_values,
        "changelog": json_values,
    },
)  # fmt: skip
shotgrid_bodies = st.fixed_dictionaries(
    {"data": json_values | st.fixed_dictionaries(
        {"entity": json_values, "project": json_values, "meta": json_values,
         "user": json_values, "id": json_values},
        optional={"deliveries": json_values, "event_log_entry_id": json_values},
    )},
    optional={"timestamp": json_values},
)  # fmt: skip
sheets_bodies = st.fixed_dictionaries(
    {"type": st.sampled_from(["sheet.edit", "sheet.change"]) | json_values,
     "spreadsheetId": st.just("sheet-1") | json_values,
     "sheetName": st.sampled_from(["Invoices", "Budget"]) | json_values},
    optional={"range": json_values, "user": json_values, "rows": json_values},
)  # fmt: skip


def _body(value: Any, raw: bytes) -> bytes:
    return raw if value is None else json.dumps(value).encode()


def test_bandit_finds_nothing_at_medium_severity_or_above(
    figures: Figures, record_property: Record
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-r", "syncd", "connectors", "sandbox",
         "--severity-level", "medium", "-f", "json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = json.loads(run.stdout)
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert findings == [], "\n".join(findings)
    assert run.returncode == 0, run.stderr
    totals = report["metrics"]["_totals"]
    figures.report(
        record_property, 19, bandit_lines=totals["loc"], medium_or_high=0,
        low_reviewed=totals["SEVERITY.LOW"], nosec=totals["nosec"],
    )  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "X-Hub-Signature",
                "x-hub-signature",
                "X-SG-SIGNATURE",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
                "Content-Type",
            ]
        ),
        header_text,
        max_size=5,
    ),
    body=st.binary(max_size=200),
)
def test_signature_checks_refuse_garbage_with_value_error_only(
    headers: dict[str, str], body: bytes
) -> None:
    for verify in (verify_jira, verify_shotgrid):
        with contextlib.suppress(ValueError):
            verify(headers, body, SECRET)
    with contextlib.suppress(ValueError):
        verify_standard(headers, body, STANDARD_SECRET, now=time.time())


@pytest.fixture(scope="module")
def jira() -> Iterator[JiraConnector]:
    """A Jira connector (its parser needs no network)."""
    config = JiraConfig.model_validate({
        "base_url": "https://studio.atlassian.net", "email": "s@x.example", "api_token": "t",
        "projects": ["HRB"], "webhook_secret": SECRET,
    })  # fmt: skip
    connector = JiraConnector("jira", config)
    yield connector
    connector.close()


@pytest.fixture(scope="module")
def shotgrid() -> Iterator[ShotGridConnector]:
    """A ShotGrid connector (its parser needs no network)."""
    config = ShotGridConfig.model_validate({
        "base_url": "https://studio.shotgrid.autodesk.com", "script_name": "s",
        "script_key": "k", "project_id": 155, "webhook_secret": SECRET,
    })  # fmt: skip
    connector = ShotGridConnector("shotgrid", config)
    yield connector
    connector.close()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.none() | jira_bodies | json_values, raw=st.binary(max_size=100))
def test_signed_jira_deliveries_parse_or_are_refused(
    jira: JiraConnector, value: Any, raw: bytes
) -> None:
    body = _body(value, raw)
    with contextlib.suppress(ValueError):
        jira.parse_webhook(sign_jira(body, SECRET), body)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.none() | shotgrid_bodies | json_values,
    raw=st.binary(max_size=100),
    delivery=st.none() | header_text,
)
def test_signed_shotgrid_deliveries_parse_or_are_refused(
    shotgrid: ShotGridConnector, value: Any, raw: bytes, delivery: str | None
) -> None:
    body = _body(value, raw)
    headers = sign_shotgrid(body, SECRET)
    if delivery is not None:
        headers["x-sg-delivery-id"] = delivery
    with contextlib.suppress(ValueError):
        shotgrid.parse_webhook(headers, body)


@settings(max_examples=EXAMPLES, deadline=None)
@given(value=st.none() | sheets_bodies | json_values, raw=st.binary(max_size=100),
       msg_id=header_text)  # fmt: skip
def test_signed_sheets_deliveries_parse_or_are_refused(value: Any, raw: bytes, msg_id: str) -> None:
    body = _body(value, raw)
    now = 1_765_000_000
    try:
        headers = sign_standard(body, STANDARD_SECRET, msg_id=msg_id, timestamp=now)
    except UnicodeEncodeError:
        return  # the sender could not send this id; the header fuzz above covers it raw
    with contextlib.suppress(ValueError):
        parse_delivery(
            headers, body, secret=STANDARD_SECRET, secret_setting="sheets.webhook_secret",
            now=now, spreadsheet_id="sheet-1", tabs=["Invoices", "Budget"],
        )  # fmt: skip
