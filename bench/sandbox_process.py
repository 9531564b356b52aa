"""The sandbox in a process of its own, driven by JSON lines on stdin and stdout.

The tools and syncd never share a process in reality, so the benchmark does not let them
share one either: each scenario starts this process, reads the connector tables it prints,
and points a syncd at them. Commands (one JSON object per line, one answer each):

    {"cmd": "calls"}                      API calls per tool and endpoint since the last reset
    {"cmd": "reset_calls"}
    {"cmd": "knobs", "latency_ms": 50, "jitter_ms": 10}     every tool's added latency
    {"cmd": "quotas", "enabled": false}   turn the Sheets quotas off
    {"cmd": "webhooks", "url": "http://127.0.0.1:8000"}     send deliveries to a syncd
    {"cmd": "flush"}                      wait until queued deliveries are out
    {"cmd": "record", "on": true}         start (and clear) or stop recording writes
    {"cmd": "edits", ...}                 person edits at a steady rate (`bench.edits.drive`)
    {"cmd": "writes"}                     the recorded writes (`bench.edits.Write`)
    {"cmd": "rss"}                        this process's memory
    {"cmd": "stop"}

Writes are recorded where each emulator hands a change to its webhook sender: that happens
inside the API call (or person edit) that applied the change, after the added latency, so
its timestamp is when the tool started showing the value, at no cost to the path measured.
"""

from __future__ import annotations

import argparse
import contextlib
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.common import Json, peak_rss_mb, read_line, rss_mb, send_line
from syncd_sandbox.dataset import generate, plan_sizes
from syncd_sandbox.production import Production
from syncd_sandbox.runner import Sandbox, SandboxOptions


class WriteRecorder:
    """Timestamps of the changes each emulator announces, while recording is on."""

    def __init__(self) -> None:
        self.on = False
        self._lock = threading.Lock()
        self.raw: list[tuple[float, str, Mapping[str, Any]]] = []

    def install(self, box: Sandbox) -> None:
        """Wrap every emulator's webhook sender so that each announced change is noted."""
        for tool, emulator in box.emulators.items():
            sender = emulator.webhooks
            original = sender.send

            def send(
                payload: Mapping[str, Any],
                headers: Mapping[str, str] | None = None,
                *,
                _tool: str = tool,
                _send: Any = original,
            ) -> None:
                if self.on:
                    stamp = time.time()
                    with self._lock:
                        self.raw.append((stamp, _tool, payload))
                _send(payload, headers)

            setattr(sender, "send", send)  # noqa: B010 (an instance attribute, on purpose)
        # Sheets API writes fire no webhook (nor does the Apps Script trigger for them); the
        # emulator's edit history sees every write, inside the call that applies it.
        history = box.sheets.record

        def record(actor: str, spreadsheet_id: str, action: str, detail: str) -> None:
            if self.on:
                entry = {"actor": actor, "spreadsheet_id": spreadsheet_id, "action": action}
                entry["detail"] = detail
                with self._lock:
                    self.raw.append((time.time(), "sheets-history", entry))
            history(actor, spreadsheet_id, action, detail)

        setattr(box.sheets, "record", record)  # noqa: B010

    def start(self) -> None:
        """Forget what was recorded and record from now on."""
        with self._lock:
            self.raw = []
        self.on = True

    def writes(self) -> list[Json]:
        """What was recorded, reduced to who changed which record's fields to what."""
        from bench.edits import summarize_write

        with self._lock:
            raw = list(self.raw)
        return [w for stamp, tool, payload in raw for w in summarize_write(stamp, tool, payload)]


def _counts(production: Production) -> Json:
    return {
        "jira_issues": sum(1 for i in production.jira_issues if not i.deleted),
        "sg_tasks": len(production.sg_tasks),
        "sg_assets": len(production.assets),
        "sg_shots": len(production.shots),
        "invoice_rows": len(production.invoices.rows) - 1,
        "budget_rows": len(production.budget.rows) - 1,
        "people": len(production.people),
    }


def serve(args: argparse.Namespace) -> None:
    """Child side: build, serve, answer commands until `stop` or end of input."""
    started = time.perf_counter()
    production = generate(seed=args.seed, issues=args.issues, invoices=args.invoices)
    box = Sandbox(production, SandboxOptions(latency_ms=args.latency_ms, jitter_ms=args.jitter_ms))
    recorder = WriteRecorder()
    recorder.install(box)
    box.start()
    workdir = Path(args.workdir)
    tables = box.connector_tables(workdir)
    send_line(
        sys.stdout,
        {
            "ready": True,
            "tables": tables,
            "urls": {tool: box.url(tool) for tool in box.emulators},
            "counts": _counts(production),
            "seconds_to_start": time.perf_counter() - started,
            "rss_mb": rss_mb(),
        },
    )
    try:
        while True:
            try:
                message = read_line(sys.stdin)
            except EOFError:
                return
            if message["cmd"] == "stop":
                send_line(sys.stdout, {"ok": True})
                return
            send_line(sys.stdout, _answer(box, production, recorder, message))
    finally:
        box.stop()


def _answer(box: Sandbox, production: Production, recorder: WriteRecorder, message: Json) -> Json:
    cmd = message["cmd"]
    if cmd == "calls":
        return {"calls": box.calls()}
    if cmd == "reset_calls":
        for emulator in (box.jira, box.sheets, box.shotgrid):
            emulator.calls.reset()
        return {"ok": True}
    if cmd == "knobs":
        for emulator in (box.jira, box.sheets, box.shotgrid):
            emulator.knobs.latency_ms = float(message["latency_ms"])
            emulator.knobs.jitter_ms = float(message["jitter_ms"])
        return {"ok": True}
    if cmd == "quotas":
        box.sheets.quotas.limits.enabled = bool(message["enabled"])
        return {"ok": True}
    if cmd == "webhooks":
        box.point_webhooks_at(str(message["url"]))
        return {"ok": True}
    if cmd == "flush":
        for tool in box.emulators:
            box.emulators[tool].webhooks.flush(float(message.get("timeout", 30.0)))
        return {"ok": True}
    if cmd == "record":
        if message["on"]:
            recorder.start()
        else:
            recorder.on = False
        return {"ok": True}
    if cmd == "writes":
        return {"writes": recorder.writes()}
    if cmd == "edits":
        from bench.edits import drive

        return drive(box, production, message)
    if cmd == "rss":
        return {"rss_mb": rss_mb(), "peak_rss_mb": peak_rss_mb()}
    return {"error": f"unknown command {cmd!r}"}


class SandboxProcess:
    """Parent side: start the sandbox process, talk to it, stop it."""

    def __init__(
        self,
        *,
        issues: int,
        invoices: int | None = 5_000,
        seed: int = 7,
        latency_ms: float = 50.0,
        jitter_ms: float = 10.0,
        workdir: Path | None = None,
        timeout: float = 600.0,
    ) -> None:
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="syncd-bench-"))
        self.sizes = plan_sizes(issues, invoices)
        command = [
            sys.executable,
            "-m",
            "bench.sandbox_process",
            "--issues",
            str(issues),
            "--seed",
            str(seed),
            "--latency-ms",
            str(latency_ms),
            "--jitter-ms",
            str(jitter_ms),
            "--workdir",
            str(self.workdir),
        ]
        if invoices is not None:
            command += ["--invoices", str(invoices)]
        self.latency_ms, self.jitter_ms = latency_ms, jitter_ms
        self._proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self._lock = threading.Lock()
        self.hello = self._read(timeout)
        if not self.hello.get("ready"):
            raise RuntimeError(f"the sandbox did not start: {self.hello}")
        self.tables: dict[str, dict[str, Any]] = self.hello["tables"]
        self.counts: Json = self.hello["counts"]

    @property
    def pid(self) -> int:
        """The sandbox process's id (to read its memory)."""
        return self._proc.pid

    def _read(self, timeout: float) -> Json:
        # One answer per command, so nothing is left in the pipe's buffer between answers
        # and select() on the descriptor tells whether the next one has started to arrive.
        stdout = self._proc.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        if not ready:
            self._proc.kill()
            raise TimeoutError(f"the sandbox did not answer within {timeout:.0f} s")
        return read_line(stdout)

    def ask(self, cmd: str, timeout: float = 600.0, **params: Any) -> Json:
        """Send one command and return its answer."""
        assert self._proc.stdin is not None
        with self._lock:
            send_line(self._proc.stdin, {"cmd": cmd, **params})
            answer = self._read(timeout)
        if "error" in answer:
            raise RuntimeError(f"sandbox: {answer['error']}")
        return answer

    def calls(self) -> dict[str, dict[str, int]]:
        """API calls per tool and endpoint since the last reset."""
        calls: dict[str, dict[str, int]] = self.ask("calls")["calls"]
        return calls

    def close(self) -> None:
        """Stop the process (politely, then not)."""
        if self._proc.poll() is None:
            with contextlib.suppress(EOFError, BrokenPipeError, OSError):
                self.ask("stop", timeout=10)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def main() -> None:
    """`python -m bench.sandbox_process --issues N ...` (started by `SandboxProcess`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, required=True)
    parser.add_argument("--invoices", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--jitter-ms", type=float, default=10.0)
    parser.add_argument("--workdir", required=True)
    serve(parser.parse_args())


if __name__ == "__main__":
    main()
