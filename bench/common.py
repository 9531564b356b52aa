"""What every benchmark scenario shares: percentiles, memory, the machine, tables, JSON lines.

Scenario modules (`initial`, `baseline`, `floor`, `incremental`, `ingest`) compute figures;
this module measures the process and the machine and renders figures as rich tables.
"""

from __future__ import annotations

import cProfile
import io
import json
import math
import os
import platform
import pstats
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.table import Table

Json = dict[str, Any]
MIB = 1024 * 1024


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values. Sorts a copy."""
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def summary_ms(seconds: Sequence[float]) -> Json:
    """p50, p95, p99 and max of durations given in seconds, in milliseconds, with the count."""
    return {
        "n": len(seconds),
        "p50_ms": percentile(seconds, 0.50) * 1000,
        "p95_ms": percentile(seconds, 0.95) * 1000,
        "p99_ms": percentile(seconds, 0.99) * 1000,
        "max_ms": max(seconds) * 1000 if seconds else math.nan,
    }


def _status_kib(field: str, pid: int | str = "self") -> int:
    """A `VmXxx:` line of /proc/<pid>/status, in KiB (0 when absent)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process so far (VmHWM), in MiB."""
    return _status_kib("VmHWM", pid) / 1024


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process now (VmRSS), in MiB."""
    return _status_kib("VmRSS", pid) / 1024


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return os.getloadavg()


def machine() -> Json:
    """Where and when the figures were taken."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_at_start": list(load_average()),
        "code": code_version(),
    }


def code_version() -> Json:
    """The commit measured, and the files changed since (read-only git commands)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], capture_output=True, text=True, timeout=10, check=False
            )
        except OSError:
            return ""
        return done.stdout

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "changed_files": changed}


def fmt(value: Any, digits: int = 1) -> str:
    """A figure for a table cell: thousands separators, fixed decimals, '-' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table with right-aligned figures."""
    out = Table(title=title, title_justify="left")
    for name in columns:
        out.add_column(name, justify="left" if name in ("scenario", "tool", "what") else "right")
    for row in rows:
        out.add_row(*(fmt(cell) for cell in row))
    return out


def calls_text(calls: Mapping[str, Mapping[str, int]]) -> str:
    """API calls per tool and endpoint on one line per tool, most frequent first."""
    lines = []
    for tool, endpoints in calls.items():
        parts = sorted(endpoints.items(), key=lambda kv: -kv[1])
        lines.append(f"{tool}: " + ", ".join(f"{e} x{n:,}" for e, n in parts))
    return "\n".join(lines)


def total_calls(calls: Mapping[str, Mapping[str, int]]) -> int:
    """Every call of every tool."""
    return sum(sum(endpoints.values()) for endpoints in calls.values())


def write_json(path: Path, data: Json) -> None:
    """Write results as indented JSON (NaN becomes null), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_no_nan(data), indent=2, default=str) + "\n")


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    return value


def send_line(stream: IO[str], message: Json) -> None:
    """One JSON message per line (the protocol between the benchmark's processes)."""
    stream.write(json.dumps(_no_nan(message), default=str) + "\n")
    stream.flush()


def read_line(stream: IO[str]) -> Json:
    """The next JSON message; EOFError when the other side has gone."""
    line = stream.readline()
    if not line:
        raise EOFError("the other process closed its pipe")
    message: Json = json.loads(line)
    return message


def run_child(module: str, args: Sequence[str], *, timeout: float | None = None) -> Json:
    """Run `python -m module args` in a fresh process; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{module} failed ({done.returncode}):\n{done.stderr[-4000:]}\n{done.stdout[-2000:]}"
        )
    result: Json = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def console() -> Console:
    """Where tables go (wide enough for the call breakdowns)."""
    return Console(width=max(120, Console().width))


class ThreadsProfile:
    """cProfile over the calling thread and every thread started while it is on.

    The engine reads the tools in threads of its own, so a profile of the main thread alone
    would show it waiting. Each new thread gets its own profiler; `top()` merges them (the
    times are summed over threads, so "waiting in recv" adds up across the three readers).
    """

    def __init__(self) -> None:
        self._profiles = [cProfile.Profile()]
        self._lock = threading.Lock()

    def _start_in_thread(self, *_: object) -> None:
        profiler = cProfile.Profile()
        with self._lock:
            self._profiles.append(profiler)
        sys.setprofile(None)
        profiler.enable()

    def __enter__(self) -> ThreadsProfile:
        threading.setprofile(self._start_in_thread)
        self._profiles[0].enable()
        return self

    def __exit__(self, *_: object) -> None:
        self._profiles[0].disable()
        threading.setprofile(None)

    def top(self, path: Path, limit: int = 30) -> Json:
        """Save the merged profile; the top functions by own time and by cumulative time."""
        with self._lock:
            stats = pstats.Stats(*self._profiles)
        path.parent.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(str(path))
        out: Json = {"file": str(path)}
        for key in ("tottime", "cumulative"):
            stream = io.StringIO()
            pstats.Stats(str(path), stream=stream).sort_stats(key).print_stats(limit)
            out[key] = [line for line in stream.getvalue().splitlines() if line.strip()]
        return out


def syncd_figure(comparison: Json, value: float) -> str:
    """syncd's figure, marked ≈ when its writes were partly extrapolated."""
    text = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    return f"≈{text}" if comparison.get("syncd_extrapolated") else text
