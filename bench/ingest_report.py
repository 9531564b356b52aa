"""Webhook ingest on both stores: `bench.ingest.measure` per backend, and its table.

PostgreSQL is measured when the server on 127.0.0.1:5432 answers; otherwise the section
says it was unavailable instead of failing the run.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from rich.console import Console

from bench import ingest
from bench.common import Json, table

DEFAULT_LEVELS = (1, 8, 32, 64)
DEFAULT_DELIVERIES = 2_000


def postgres_available() -> bool:
    """Whether the PostgreSQL server answers."""
    try:
        with psycopg.connect(ingest.PG_ADMIN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def run(
    levels: list[int],
    per_level: int,
    backends: list[str],
    log: Callable[[str], None] = print,
) -> Json:
    """Rows per backend and concurrency level."""
    out: Json = {"levels": levels, "deliveries_per_level": per_level}
    for backend in backends:
        if backend == "postgres" and not postgres_available():
            out[backend] = None
            out[f"{backend}_note"] = "PostgreSQL on 127.0.0.1:5432 did not answer"
            continue
        log(f"webhook ingest on {backend}: {per_level:,} deliveries at concurrency {levels}")
        out[backend] = ingest.measure(backend, levels, per_level)
    return out


def render(result: Json, out: Console) -> None:
    """The ingest table."""
    rows = []
    for backend in ("sqlite", "postgres"):
        for r in result.get(backend) or []:
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
            rows.append(
                [
                    f"{backend}, concurrency {r['concurrency']}",
                    r["deliveries"],
                    r["per_second"],
                    r["p50_ms"],
                    r["p99_ms"],
                    r["max_ms"],
                    statuses,
                ]
            )
        if result.get(f"{backend}_note"):
            rows.append(
                [f"{backend}: {result[f'{backend}_note']}", None, None, None, None, None, ""]
            )
    out.print(
        table(
            "5. Webhook ingest (signed ShotGrid deliveries, stored durably, 202; load from"
            " another process)",
            [
                "scenario",
                "deliveries",
                "per second",
                "ack p50 ms",
                "ack p99 ms",
                "max ms",
                "statuses",
            ],
            rows,
        )
    )
