"""A webhook load generator, run as its own process so it does not share the server's GIL.

    python -m bench.loadgen URL SECRET --n 2000 --concurrency 32

Sends signed ShotGrid deliveries (one new delivery id each, over a set of tasks, so bursts
for one task coalesce) and prints a JSON line: count, seconds, status counts, latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from syncd_sandbox.signing import sign_shotgrid


def delivery(task_id: int, project_id: int) -> bytes:
    """A ShotGrid attribute-change delivery, as the site sends it."""
    body = {
        "data": {
            "id": f"{uuid.uuid4().int % 10**8}.0.0",
            "event_log_entry_id": random.randint(1, 10**9),
            "event_type": "Shotgun_Task_Change",
            "operation": "update",
            "entity": {"type": "Task", "id": task_id},
            "project": {"type": "Project", "id": project_id},
            "user": {"type": "HumanUser", "id": 42},
            "attribute_name": "sg_status_list",
            "meta": {
                "type": "attribute_change",
                "entity_type": "Task",
                "entity_id": task_id,
                "attribute_name": "sg_status_list",
                "field_data_type": "status_list",
                "old_value": "ip",
                "new_value": "rev",
            },
            "created_at": "2026-11-23 10:00:00.000000",
            "session_uuid": str(uuid.uuid4()),
            "delivery_id": str(uuid.uuid4()),
        },
        "timestamp": "2026-11-23T10:00:00Z",
    }
    return json.dumps(body, separators=(",", ":")).encode()


async def _one_connection(
    host: str,
    port: int,
    path: str,
    requests: asyncio.Queue[bytes],
    secret: str,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    """Keep-alive HTTP/1.1 over one connection: send, read the answer, next."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while not requests.empty():
            body = requests.get_nowait()
            ((name, value),) = sign_shotgrid(body, secret).items()
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/json\r\n{name}: {value}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(status_line.split()[1])
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run(
    url: str, secret: str, n: int, concurrency: int, tasks: int, project: int
) -> dict[str, Any]:
    """Send `n` signed deliveries over `concurrency` connections; timings per delivery."""
    parsed = urlsplit(url)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    requests: asyncio.Queue[bytes] = asyncio.Queue()
    for _ in range(n):
        requests.put_nowait(delivery(random.randint(5001, 5000 + tasks), project))
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _one_connection(
                parsed.hostname or "127.0.0.1",
                parsed.port or 80,
                parsed.path,
                requests,
                secret,
                latencies,
                statuses,
            )
            for _ in range(concurrency)
        )
    )
    seconds = time.perf_counter() - started
    latencies.sort()
    return {"count": n, "seconds": seconds, "statuses": statuses, "latencies": latencies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("secret")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--project", type=int, default=155)
    args = parser.parse_args()
    result = asyncio.run(
        run(args.url, args.secret, args.n, args.concurrency, args.tasks, args.project)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
