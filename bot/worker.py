"""Process-wide settings of a process that runs calls, set once by its entry point
(`veribot serve`, `dial`, `call`, the load benchmarks) and never as a side effect of loading
something. Call `configure_worker_process()` first thing, before any call starts."""

from __future__ import annotations

import gc
import sys

# The recognition threads take the GIL back after every Vosk call while the event loop of
# ~25 calls holds it most of the time; at CPython's default 5 ms switch interval a turn's
# final result waited 100-500 ms for it (SIP load benchmark, 50 calls on 2 workers).
SWITCH_INTERVAL = 0.001

# Young collections every 700 allocations (CPython's default) promote most objects of live calls
# (pipecat's tasks, events, queues: ~1,600 a call) to the oldest generation, whose full collection
# then walks ~120,000 objects per worker at 150 calls on 2 workers: 30-60 ms with the event loop
# stopped, so every caller chunk due meanwhile is late (`benchmarks/call_load.py`, gc max ms:
# 59 ms, 78 late chunks). Collecting the young generation every 20,000 allocations lets short-lived
# objects die young: the longest collection 9-20 ms, 0 late chunks, GC 0.4-0.6 instead of 2.6 ms
# a second, memory per call unchanged (3.6 MB).
GC_YOUNG_THRESHOLD = 20_000


def configure_worker_process() -> None:
    """Set the GIL switch interval for calls (never raises it if someone set it lower) and the
    young-generation GC threshold (never lowers it)."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), *older)
