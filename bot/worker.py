"""Process-wide settings of a process that runs calls, set once by its entry point
(`veribot serve`, `dial`, `call`, the load benchmarks) and never as a side effect of loading
something. Call `configure_worker_process()` first thing, before any call starts."""

from __future__ import annotations

import sys

# The recognition threads take the GIL back after every Vosk call while the event loop of
# ~25 calls holds it most of the time; at CPython's default 5 ms switch interval a turn's
# final result waited 100-500 ms for it (SIP load benchmark, 50 calls on 2 workers).
SWITCH_INTERVAL = 0.001


def configure_worker_process() -> None:
    """Set the GIL switch interval for calls (never raises it if someone set it lower)."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
