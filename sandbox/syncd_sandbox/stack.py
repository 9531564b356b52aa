"""syncd and the sandbox together, wired by webhooks: for the demo, end-to-end tests, benchmarks."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from syncd.service import Service
from syncd.settings import Settings, default_mappings_dir
from syncd_sandbox.production import Production
from syncd_sandbox.runner import Sandbox, SandboxOptions
from syncd_sandbox.serving import ServedApp

# How the shipped mappings read task statuses in each tool (for picking demo records).
_SG_STATUS = {
    "wtg": "todo",
    "rdy": "todo",
    "ip": "in_progress",
    "rev": "review",
    "apr": "done",
    "fin": "done",
    "hld": "blocked",
    "omt": "omitted",
}
_JIRA_STATUS = {
    "To Do": "todo",
    "In Progress": "in_progress",
    "In Review": "review",
    "Blocked": "blocked",
    "Done": "done",
}


def linked_pairs(production: Production, *, sg_status: str | None = None) -> list[tuple[str, int]]:
    """(Jira key, ShotGrid task id) pairs linked on both sides whose statuses agree.

    The seeded production plants disagreements between some linked pairs (they become
    conflicts at the first sync); demos and tests that follow one edit pick agreeing pairs.
    """
    issues = {i.key: i for i in production.jira_issues if not i.deleted}
    pairs = []
    for task in production.sg_tasks:
        issue = issues.get(task.jira_key or "")
        if issue is None or issue.sg_task_id != task.id:
            continue
        if sg_status is not None and task.status != sg_status:
            continue
        if _SG_STATUS.get(task.status) and _SG_STATUS[task.status] == _JIRA_STATUS.get(
            issue.status
        ):
            pairs.append((issue.key, task.id))
    return pairs


class Stack:
    """The three emulators served on loopback, and a syncd service they send webhooks to."""

    def __init__(
        self,
        production: Production,
        *,
        workdir: Path | None = None,
        sandbox: SandboxOptions | None = None,
        settings: dict[str, Any] | None = None,
        workers: int = 1,
        schedule: bool = False,
    ) -> None:
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="syncd-stack-"))
        self.production = production
        self.box = Sandbox(production, sandbox)
        self.box.start()
        values: dict[str, Any] = {
            "store_url": f"sqlite:///{self.workdir / 'syncd.sqlite3'}",
            "mappings_dir": default_mappings_dir(),
            "connectors": self.box.connector_tables(self.workdir),
            "log_json": False,
            "log_level": "WARNING",
            "sync": {"poll_interval_seconds": 3600, "full_resync_hours": None},
        }
        values.update(settings or {})
        self.settings = Settings(**values)
        self.service = Service(self.settings, workers=workers, schedule=schedule)
        self.served = ServedApp.start(self.service.app())
        self.service.start()  # served without lifespan: start the background work here
        self.box.point_webhooks_at(self.served.url)

    @property
    def url(self) -> str:
        """syncd's base URL."""
        return self.served.url

    def flush_webhooks(self, timeout: float = 10.0) -> None:
        """Wait until every emulator has delivered what it queued."""
        for emulator in self.box.emulators.values():
            emulator.webhooks.flush(timeout)

    def close(self) -> None:
        """Stop everything."""
        self.service.stop()
        self.served.stop()
        self.service.close()
        self.box.stop()
