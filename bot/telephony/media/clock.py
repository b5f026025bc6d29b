"""One 20 ms media clock per event loop (per worker process): a single timer wakes every 20 ms
and gives each connected RTP stream the frame it is due, instead of one sleeping task per call.

Issue 23: with a task per call, every call woke its own task 50 times a second (a future, a
timer and a task step each); one timer does the same work in one loop callback and sends
every call's packet back to back.

Policy when the loop was busy and slots were missed (the same for every stream):
- a stream sends at most `MAX_BURST` frames in one wake: the one due now plus one it owes, so
  a stall is caught up one extra frame per tick, never as a burst the far end must absorb;
- a stream owing more than `RESYNC` seconds drops the debt (the line restarts its clock rather
  than send a burst of stale time), as the per-call clock did;
- each frame sent more than one frame after its slot counts as late (`MediaStats.late`).

The clock knows streams only through `_clock_frame(late, now)`; an exception there is logged
and stops that stream's clock alone, as a failing per-call task did.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Protocol

log = logging.getLogger(__name__)

TICK = 0.020  # one RTP frame
MAX_BURST = 2  # frames one stream sends in one wake at most
RESYNC = 0.2  # seconds of owed frames beyond which a stream drops them
_RESYNC_FRAMES = round(RESYNC / TICK)


class Clocked(Protocol):
    def _clock_frame(self, late: bool, now: float) -> None: ...


class MediaClock:
    """The send clock of one event loop. `add(stream)` when a stream starts sending (its first
    frame goes on the next tick), `remove(stream)` when it closes; the timer runs only while
    some stream is on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._streams: dict[Clocked, int] = {}  # stream -> the slot of its next frame
        self._start = 0.0  # loop time of slot 0
        self._due = 0  # the last slot whose time has come
        self._timer: asyncio.TimerHandle | None = None
        self._firing = False
        self.wakes = 0  # timer callbacks run (diagnostics and tests)

    def __len__(self) -> int:
        return len(self._streams)

    def __contains__(self, stream: object) -> bool:
        return stream in self._streams

    def add(self, stream: Clocked) -> None:
        if stream in self._streams:
            return
        if not self._streams and self._timer is None and not self._firing:
            self._start, self._due = self._loop.time(), 0  # idle until now: a fresh grid
            self._timer = self._loop.call_at(self._start + TICK, self._fire)
        self._streams[stream] = self._due + 1

    def remove(self, stream: Clocked) -> None:
        self._streams.pop(stream, None)
        if not self._streams and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self._firing = True
        self.wakes += 1
        start = self._start
        loop_now = self._loop.time()
        # the timer was set for slot _due + 1; a late wake makes later slots due as well
        due = max(self._due + 1, int((loop_now - start) / TICK))
        self._due = due
        now = time.monotonic()  # the streams' own clock (receive times, inactivity)
        try:
            for stream, slot in list(self._streams.items()):
                if due - slot > _RESYNC_FRAMES:
                    slot = due  # starved: restart this line's clock rather than burst
                sent = 0
                while slot <= due and sent < MAX_BURST and stream in self._streams:
                    try:
                        stream._clock_frame(loop_now - (start + slot * TICK) > TICK, now)
                    except Exception:
                        log.exception("rtp send clock failed for one stream; its sending stops")
                        self._streams.pop(stream, None)
                        break
                    slot += 1
                    sent += 1
                if stream in self._streams:
                    self._streams[stream] = slot
        finally:
            self._firing = False
            if self._streams and self._timer is None:
                self._timer = self._loop.call_at(start + (due + 1) * TICK, self._fire)


_clocks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MediaClock] = weakref.WeakKeyDictionary()


def clock_for(loop: asyncio.AbstractEventLoop | None = None) -> MediaClock:
    """The media clock of `loop` (default: the running loop), made on first use."""
    loop = loop or asyncio.get_running_loop()
    clock = _clocks.get(loop)
    if clock is None:
        clock = _clocks[loop] = MediaClock(loop)
    return clock
