"""Process-wide settings for a long-running syncd process (the CLI applies them at start)."""

from __future__ import annotations

import gc
import sys

# A sync allocates millions of short-lived objects (rows, dicts, values). With CPython's
# default thresholds (700, 10, 10) the collector runs every 700 allocations and walks the
# whole heap every ~70,000: measured on a 10,000-issue first sync, 19 full collections and
# 10-20% of the CPU. Young collections every 100,000 allocations find the same cycles.
GC_THRESHOLDS = (100_000, 50, 100)


# A thread back from the network (a webhook's refresh) waits for the GIL up to the switch
# interval each time, while a CPU-bound one (a rollup recompute) holds it: at CPython's 5 ms
# that added hundreds of ms to a refresh. 1 ms costs the CPU-bound thread little.
SWITCH_INTERVAL_SECONDS = 0.001


def tune_runtime() -> None:
    """Collect garbage less often (leaving what start-up loaded out of it), and hand the GIL
    over sooner to threads that come back from I/O."""
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
