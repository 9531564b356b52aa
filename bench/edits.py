"""Person-like edits at a steady rate, and what the tools showed afterwards.

`plan()` picks the edits: retitles of ShotGrid tasks and of Jira issues that are linked to
each other (each pair edited from one side only, so two people never race on one title),
and invoice status changes in the budget sheet, in the ratio 2 : 2 : 1 (another `pattern`
can be given, e.g. without the sheet). Every title is new
(it carries the edit's number), so the value that reaches the other tool says which edit
it came from.

`drive()` runs in the sandbox process, with the emulators' own person-edit methods
(`shotgrid.edit_as`, `jira.edit_issue`, `sheets.person_edit`), one edit every 1/rate s.

`summarize_write()` reduces what an emulator announced (its webhook payloads, and the Sheets
edit history for API writes, which fire no webhook) to who set which field of which record
to what, and when; `bench.incremental` matches edits against those.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from bench.common import Json
from syncd_sandbox.production import Production
from syncd_sandbox.runner import Sandbox
from syncd_sandbox.stack import linked_pairs

PATTERN = ("shotgrid", "jira", "shotgrid", "jira", "sheets")
INVOICE_STATUSES = ("Submitted", "Approved", "Paid")
TITLE_MARK = " ·e"


def plan(
    production: Production,
    count: int,
    offset: int = 0,
    pattern: Sequence[str] = PATTERN,
) -> list[Json]:
    """Edits number `offset` to `offset + count - 1`; pairs and rows are taken round-robin.

    The plan is replayed from edit 0, so that each invoice row's next status is known to
    differ from the one it has by then (a no-op edit would never be seen anywhere).
    """
    pairs = linked_pairs(production)
    tasks = {t.id: t for t in production.sg_tasks}
    issues = {i.key: i for i in production.jira_issues}
    sg_side, jira_side = pairs[0::2], pairs[1::2]
    rows = _invoice_rows(production)
    status_now = {number: status for _, number, _, status in rows}
    people = [p for p in production.people if p.jira_email_visible]
    cursors = {tool: itertools.count() for tool in pattern}
    edits = []
    for seq in range(offset + count):
        tool = pattern[seq % len(pattern)]
        n = next(cursors[tool])
        person = people[seq % len(people)]
        if tool == "shotgrid":
            key, task_id = sg_side[n % len(sg_side)]
            value = f"{tasks[task_id].content}{TITLE_MARK}{seq}"
            # The shipped mappings relate the titles: Jira's "[<asset>] <content>" is the
            # record's title; ShotGrid holds the content alone.
            title = f"{_prefix(issues[key].summary)}{value}"
            edit = {
                "record": task_id,
                "value": value,
                "title": title,
                "target": {"tool": "jira", "key": key, "field": "summary", "value": title},
                "person": person.sg_user_id,
            }
        elif tool == "jira":
            key, task_id = jira_side[n % len(jira_side)]
            value = f"{issues[key].summary}{TITLE_MARK}{seq}"
            content = value.removeprefix(_prefix(issues[key].summary))
            edit = {
                "record": key,
                "value": value,
                "title": value,
                "target": {
                    "tool": "shotgrid",
                    "key": task_id,
                    "field": "content",
                    "value": content,
                },
                "person": person.jira_account_id,
            }
        else:
            row, number, column, _ = rows[n % len(rows)]
            current = status_now[number]
            value = next(s for s in INVOICE_STATUSES if s != current)
            if current in INVOICE_STATUSES:
                value = INVOICE_STATUSES[(INVOICE_STATUSES.index(current) + 1) % 3]
            status_now[number] = value
            edit = {
                "record": number,
                "value": value,
                "range": f"'Invoices'!{column}{row}",
                "target": None,
                "person": person.email,
            }
        if seq >= offset:
            edits.append({"seq": seq, "tool": tool, **edit})
    return edits


def _prefix(summary: str) -> str:
    """The "[<asset or shot>] " a Jira summary starts with (the mappings' template), or ""."""
    head, sep, _ = summary.partition("] ")
    return f"{head}{sep}" if sep and head.startswith("[") else ""


def _invoice_rows(production: Production) -> list[tuple[int, str, str, str]]:
    """(sheet row, invoice number, Status column, status) of rows with a unique, clean key."""
    header, *body = production.invoices.rows
    status = header.index("Status")
    column = chr(ord("A") + status)
    counts = Counter(r[0] for r in body)
    return [
        (row_number, row[0], column, row[status])
        for row_number, row in enumerate(body, start=2)
        if row[0] and counts[row[0]] == 1 and row[status] in (*INVOICE_STATUSES, "Draft")
    ]


def drive(box: Sandbox, production: Production, message: Mapping[str, Any]) -> Json:
    """Make the planned edits at `rate` per second for `seconds` (in the sandbox process)."""
    rate, seconds = float(message["rate"]), float(message["seconds"])
    pattern = message.get("pattern") or PATTERN
    edits = plan(production, int(rate * seconds), int(message.get("offset", 0)), pattern)
    sid = production.spreadsheet_id
    done: list[Json] = []
    errors: Counter[str] = Counter()
    lag = 0.0
    started = time.perf_counter() + 0.05
    for i, edit in enumerate(edits):
        due = started + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        else:
            lag = max(lag, -wait)
        at = time.time()
        try:
            if edit["tool"] == "shotgrid":
                box.shotgrid.edit_as(
                    edit["person"], "Task", edit["record"], {"content": edit["value"]}
                )
            elif edit["tool"] == "jira":
                box.jira.edit_issue(
                    edit["record"], as_user=edit["person"], fields={"summary": edit["value"]}
                )
            else:
                box.sheets.person_edit(
                    sid, as_=edit["person"], range_=edit["range"], values=[[edit["value"]]]
                )
        except Exception as exc:  # a refused edit is reported, the stream goes on
            errors[f"{edit['tool']}: {type(exc).__name__}: {exc}"[:200]] += 1
            continue
        done.append({**edit, "at": at, "took": time.time() - at})
    elapsed = time.perf_counter() - started
    return {
        "edits": done,
        "planned": len(edits),
        "seconds": elapsed,
        "achieved_rate": len(done) / elapsed if elapsed > 0 else 0.0,
        "max_lag_seconds": lag,
        "errors": dict(errors),
    }


def summarize_write(stamp: float, tool: str, payload: Mapping[str, Any]) -> list[Json]:
    """Who set which field of which record to what, from one announced change."""
    if tool == "jira":
        issue = payload.get("issue") or {}
        user = payload.get("user") or {}
        items = (payload.get("changelog") or {}).get("items", [])
        return [
            {
                "t": stamp,
                "tool": tool,
                "key": issue.get("key"),
                "by": user.get("accountId"),
                "field": item.get("field"),
                "value": item.get("toString"),
            }
            for item in items
        ]
    if tool == "shotgrid":
        data = payload.get("data") or {}
        events = data.get("deliveries") or [data]
        out = []
        for event in events:
            meta = event.get("meta") or {}
            user = event.get("user") or {}
            out.append(
                {
                    "t": stamp,
                    "tool": tool,
                    "key": (event.get("entity") or {}).get("id"),
                    "by": f"{user.get('type')}:{user.get('id')}",
                    "field": event.get("attribute_name"),
                    "value": meta.get("new_value"),
                }
            )
        return out
    if tool == "sheets-history":
        return [
            {
                "t": stamp,
                "tool": "sheets",
                "key": payload.get("spreadsheet_id"),
                "by": payload.get("actor"),
                "field": payload.get("action"),
                "value": str(payload.get("detail"))[:200],
            }
        ]
    return []  # the Apps Script trigger's own deliveries: the driver timed those edits
