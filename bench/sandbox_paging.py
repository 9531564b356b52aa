"""Issue #3's figure: a 100,000-issue Jira production generates, seeds and serves full paging
with flat memory. Prints generation/seed time, memory after seeding, and memory growth while
every page is served (the sandbox runs in this process; the client reads over loopback).

    python -m bench.sandbox_paging [--issues 100000]
"""

from __future__ import annotations

import argparse
import gc
import time

import httpx

from syncd_sandbox.dataset import generate
from syncd_sandbox.jira import DEFAULT_API_TOKEN, DEFAULT_EMAIL, JiraSandbox
from syncd_sandbox.serving import ServedApp


def rss_mb() -> float:
    """Resident set size of this process now."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=100_000)
    args = parser.parse_args()
    base = rss_mb()
    started = time.perf_counter()
    production = generate(issues=args.issues)
    generated = time.perf_counter() - started
    sandbox = JiraSandbox()
    sandbox.seed(production)
    seeded = time.perf_counter() - started - generated
    del production
    gc.collect()
    after_seed = rss_mb()
    served = ServedApp.start(sandbox.create_app())
    samples, pages, issues = [], 0, 0
    token: str | None = None
    started = time.perf_counter()
    with httpx.Client(
        base_url=served.url, auth=(DEFAULT_EMAIL, DEFAULT_API_TOKEN), timeout=60
    ) as client:
        while True:
            params: dict[str, str | int] = {
                "jql": "project = HRB ORDER BY updated ASC",
                "maxResults": 100,
                "fields": "summary,status,assignee,updated",
            }
            if token:
                params["nextPageToken"] = token
            page = client.get("/rest/api/3/search/jql", params=params).json()
            pages += 1
            issues += len(page["issues"])
            if pages % 50 == 0:
                samples.append(rss_mb())
            token = page.get("nextPageToken")
            if not token:
                break
    paged = time.perf_counter() - started
    served.stop()
    sandbox.close()
    print(f"issues: {args.issues:,}; generated in {generated:.1f} s, seeded in {seeded:.1f} s")
    print(
        f"RSS: {base:.0f} MB at start, {after_seed:.0f} MB seeded "
        f"({after_seed - base:.0f} MB for the production)"
    )
    print(
        f"paged {issues:,} issues in {pages:,} pages of 100 in {paged:.1f} s; RSS while "
        f"paging: min {min(samples):.0f} MB, max {max(samples):.0f} MB "
        f"(growth {max(samples) - after_seed:+.0f} MB over the seeded size)"
    )


if __name__ == "__main__":
    main()
