"""Feeds a worker's Headroom (bot/pipeline/headroom.py) from the running process: a 10 ms timer's
lateness every tick; every `sample_seconds` the recognition queue's wait, frames sent late, the
turnarounds of turn ends recognized since the last sample, and the CPU wait of this process's
threads (Linux: /proc/self/task/*/schedstat, time runnable but not running)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any


def run_delay_seconds(pid: str = "self") -> float | None:
    """Seconds this process's threads have spent ready to run but waiting for a core, summed over
    its live threads (None where the kernel does not say: not Linux, no schedstat). Read by hand:
    psutil has no run-queue time."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    total, seen = 0, False
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[1])
                seen = True
        except (OSError, IndexError, ValueError):  # a thread that just ended
            continue
    return total / 1e9 if seen else None


class HeadroomProbe:
    """`headroom`: the worker's bot.pipeline.headroom.Headroom (not imported: it imports this module).
    `queue_wait()`: seconds the oldest waiting turn end has waited; `late_frames()`: a running
    count of frames sent late; `turn_times()`: turnarounds (seconds) of turn ends recognized since
    the previous call (audio.scheduler.RecognitionPool.turn_times); `cpu_wait()`: a running total of
    seconds the process's threads waited for a core (default: run_delay_seconds; None: not read)."""

    def __init__(self, headroom: Any, *, queue_wait: Callable[[], float] | None = None,
                 late_frames: Callable[[], int] | None = None,
                 turn_times: Callable[[], list[float]] | None = None,
                 cpu_wait: Callable[[], float | None] | None = run_delay_seconds,
                 sample_seconds: float = 0.25) -> None:
        self.headroom = headroom
        self.queue_wait = queue_wait
        self.late_frames = late_frames
        self.turn_times = turn_times
        self.cpu_wait = cpu_wait
        self.sample_seconds = sample_seconds
        self._late_seen: int | None = None
        self._waited: tuple[float, float] | None = None  # (time, run delay total) at the previous sample

    def sample(self, now: float) -> None:
        h = self.headroom
        if self.queue_wait is not None:
            h.note_queue_wait(self.queue_wait() * 1000, now)
        if self.late_frames is not None:
            total = self.late_frames()
            if self._late_seen is not None:
                h.note_late_frames(max(0, total - self._late_seen), now)
            self._late_seen = total
        if self.turn_times is not None:
            for seconds in self.turn_times():
                h.note_turnaround(seconds * 1000, now)
        waited = self.cpu_wait() if self.cpu_wait is not None else None
        if waited is not None:
            if self._waited is not None and now > self._waited[0]:
                # threads that ended take their delay with them: never negative
                h.note_cpu_wait(max(0.0, waited - self._waited[1]) * 1000 / (now - self._waited[0]), now)
            self._waited = (now, waited)
        h.check(now)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        loop = asyncio.get_running_loop()
        next_sample = loop.time()
        while stop is None or not stop.is_set():
            t = loop.time()
            await asyncio.sleep(0.01)
            now = loop.time()
            self.headroom.note_lag(max(0.0, (now - t - 0.01) * 1000), now)
            if now >= next_sample:
                self.sample(now)
                next_sample = now + self.sample_seconds


__all__ = ["HeadroomProbe", "run_delay_seconds"]
