"""Process-wide settings for a long-running syncd process (the CLI applies them at start)."""

from __future__ import annotations

import gc
import sys

# A sync allocates millions of short-lived objects (rows, dicts, values). With CPython's
# default thresholds (700, 10, 10) the collector runs every 700 allocations and walked the
# whole heap 136 times in a 100,000-issue first sync (read: 222 s of CPU, 302 s wall). At
# 20,000 the same read took 261 s wall with 3 full passes and the same peak memory (188 vs
# 185 MiB); at 100,000 cyclic garbage lived long enough to lift the peak to 289-313 MiB.
GC_THRESHOLDS = (20_000, 10, 10)


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
