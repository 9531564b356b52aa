"""Benchmark the seeded-production generator: wall time and memory per size.

Run: `.venv/bin/python bench/sandbox_dataset.py [--sizes 300,10000,100000] [--repeat 3]`.
Time is measured without tracing (fastest of `--repeat` runs); memory in a separate traced
run, because tracemalloc itself slows allocation down several times.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

from syncd_sandbox.dataset import BENCH, DEMO, generate, plan_sizes
from syncd_sandbox.production import Production

MIB = 1024 * 1024


def timed(issues: int, seed: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) for one generation; CPU time is steadier on a busy box."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    generate(seed=seed, issues=issues)
    return time.perf_counter() - wall, time.process_time() - cpu


def traced(issues: int, seed: int) -> tuple[int, int, Production]:
    """(retained bytes, peak bytes, the production) for one traced generation."""
    gc.collect()
    tracemalloc.start()
    production = generate(seed=seed, issues=issues)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return retained, peak, production


def main() -> None:
    """Print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=f"{DEMO},10000,{BENCH}", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size (best kept)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(
        f"{'issues':>8} {'tasks':>7} {'assets':>7} {'shots':>6} {'people':>6} {'invoices':>8}"
        f" {'wall s':>7} {'cpu s':>6} {'retained MiB':>12} {'peak MiB':>9} {'B/issue':>8}"
    )
    for issues in (int(size) for size in args.sizes.split(",")):
        wall, cpu = min(timed(issues, args.seed) for _ in range(args.repeat))
        retained, peak, production = traced(issues, args.seed)
        sizes = plan_sizes(issues)
        print(
            f"{issues:>8} {len(production.sg_tasks):>7} {len(production.assets):>7}"
            f" {len(production.shots):>6} {len(production.people):>6} {sizes.invoices:>8}"
            f" {wall:>7.2f} {cpu:>6.2f} {retained / MIB:>12.1f} {peak / MIB:>9.1f}"
            f" {retained // issues:>8}"
        )
        del production


if __name__ == "__main__":
    main()
