"""Process-wide settings of a process that runs calls: set once, by the entry point.

    from audio.runtime import configure_process
    configure_process()  # first thing in a worker (serve), benchmark or test session

Why: each call's recognition runs on a few threads (`audio.scheduler`) that take the GIL
back after every Vosk call, while the event loop of ~25 calls holds it most of the time.
At CPython's default 5 ms switch interval a turn's final result waited 100-500 ms for the
GIL (SIP load benchmark, 50 calls on 2 workers); at 1 ms it does not. This is a setting of
the whole interpreter, so it belongs to whoever owns the process, not to a library that
happens to load models (it used to be a side effect of loading the speech resources)."""

from __future__ import annotations

import sys

SWITCH_INTERVAL = 0.001  # seconds; CPython's default is 0.005


def configure_process() -> None:
    """Shorten the GIL switch interval to SWITCH_INTERVAL (never lengthens it). Idempotent."""
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)
