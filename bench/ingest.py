"""Webhook ingest: deliveries per second accepted with durable storage, and ack latency.

The service runs the real ShotGrid connector (signature verified on every delivery) and
the inbox on the embedded SQLite store or PostgreSQL; no worker runs, so what is measured is
receive -> verify -> store in the inbox and queue -> 202. Load comes from a second process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from syncd.service import Service
from syncd.settings import Settings, default_mappings_dir
from syncd_sandbox.serving import ServedApp

SECRET = "bench-shotgrid-secret"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def store_url(backend: str) -> Iterator[str]:
    """A fresh store of the given backend."""
    if backend == "sqlite":
        yield f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
        return
    name = f"syncd_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-quantile (0..1) of sorted values."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def measure(backend: str, levels: list[int], per_level: int) -> list[dict[str, Any]]:
    """Run the load at each concurrency level; one row of figures per level."""
    rows = []
    with store_url(backend) as url:
        settings = Settings(
            store_url=url,
            mappings_dir=default_mappings_dir(),
            log_level="WARNING",
            log_json=False,
            # The load comes from one address, faster than the default per-address limit:
            # the limiter stays in the path (its cost is measured) but never refuses.
            api={"webhook_rate_limit": "1000000/second"},
            connectors={
                "shotgrid": {
                    "kind": "shotgrid",
                    "base_url": "http://127.0.0.1:9",
                    "script_name": "syncd",
                    "script_key": "unused",
                    "project_id": 155,
                    "api_user_id": 1,
                    "webhook_secret": SECRET,
                    "allow_private_addresses": True,  # never called: a placeholder site
                }
            },
        )
        service = Service(settings, workers=0, schedule=False)
        served = ServedApp.start(service.app())
        try:
            endpoint = f"{served.url}/webhooks/shotgrid"
            for level in levels:
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.loadgen",
                        endpoint,
                        SECRET,
                        "--n",
                        str(per_level),
                        "--concurrency",
                        str(level),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                result = json.loads(out.stdout)
                lat = result["latencies"]
                rows.append(
                    {
                        "backend": backend,
                        "concurrency": level,
                        "deliveries": result["count"],
                        "per_second": result["count"] / result["seconds"],
                        "p50_ms": percentile(lat, 0.50) * 1000,
                        "p99_ms": percentile(lat, 0.99) * 1000,
                        "max_ms": lat[-1] * 1000 if lat else float("nan"),
                        "statuses": result["statuses"],
                    }
                )
        finally:
            served.stop()
            service.close()
    return rows
