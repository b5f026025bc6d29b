"""A worker's headroom: whether it can take one more call without the calls it has suffering.

    headroom = Headroom(WorkerSettings())        # one per worker process
    probe = HeadroomProbe(headroom, queue_wait=pool.final_wait, late_frames=lambda: endpoint_late)
    task = asyncio.create_task(probe.run(stop))  # a 10 ms timer + samples every 250 ms
    headroom.holding()                           # None, or the Reason new calls wait for

Three signs, each over the last `window_seconds`: the event loop's lag (p99 of how late a 10 ms timer
fires: every call's audio runs on that loop), the recognition queue's wait (how long a caller's turn
end waits for a recognition thread) and frames sent late on the line. When one reaches its `stop`
level the worker holds: no new call is started or accepted (the dialer waits, inbound gets 503 with
Retry-After) while the calls in progress go on. It resumes once every sign has stayed below its
`resume` level for `resume_after_seconds` (hysteresis: a worker at its limit does not flap between
taking and refusing calls). The limit is measured, not a fixed number of calls: a busy box holds
earlier, an idle one later. Time is passed in (`now`), so the rules are tested without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.settings import WorkerSettings

log = logging.getLogger("veribot.headroom")

SIGNS = ("loop_lag", "queue_wait", "late_frames")


@dataclass(frozen=True)
class Reason:
    """Why new calls wait: which sign, its value over the window and the level that stopped them."""

    code: str  # loop_lag | queue_wait | late_frames | storage
    value: float = 0.0
    limit: float = 0.0

    def text(self) -> str:
        """One English line for the log (the console and the CLI translate `code` themselves)."""
        if self.code == "loop_lag":
            return f"event-loop lag p99 {self.value:.0f} ms >= {self.limit:.0f} ms"
        if self.code == "queue_wait":
            return f"recognition queue wait {self.value:.0f} ms >= {self.limit:.0f} ms"
        if self.code == "late_frames":
            return f"{self.value:.0f} frames sent late on the line >= {self.limit:.0f}"
        return "storage alarm: the database refuses writes"

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "value": round(self.value, 1), "limit": self.limit}


class Headroom:
    """The hold decision from samples (see the module text). Not thread-safe: the event loop feeds it."""

    def __init__(self, settings: WorkerSettings | None = None, clock: Callable[[], float] = time.monotonic,
                 in_progress: Callable[[], int] | None = None) -> None:
        self.settings = settings or WorkerSettings()
        self.clock = clock
        self.in_progress = in_progress  # calls this worker has now (None: not counted, min_calls ignored)
        self._lags: deque[tuple[float, float]] = deque()  # (time, ms)
        self._waits: deque[tuple[float, float]] = deque()
        self._late: deque[tuple[float, int]] = deque()
        self.reason: Reason | None = None  # set while holding
        self.since: float | None = None  # when the current hold began
        self._calm_since: float | None = None  # every sign below its resume level since
        self.holds = 0  # holds begun since start (the benchmark and the log count them)

    # ------------------------------------------------------------ samples
    def note_lag(self, ms: float, now: float | None = None) -> None:
        self._add(self._lags, ms, now)

    def note_queue_wait(self, ms: float, now: float | None = None) -> None:
        self._add(self._waits, ms, now)

    def note_late_frames(self, n: int, now: float | None = None) -> None:
        if n > 0:
            self._add(self._late, n, now)

    def _add(self, q: deque, value: float, now: float | None) -> None:
        t = self.clock() if now is None else now
        q.append((t, value))
        self._trim(q, t)

    def _trim(self, q: deque, now: float) -> None:
        while q and q[0][0] < now - self.settings.window_seconds:
            q.popleft()

    def signs(self, now: float | None = None) -> dict[str, float]:
        """Each sign over the window: lag p99 ms, longest queue wait ms, late frames."""
        t = self.clock() if now is None else now
        for q in (self._lags, self._waits, self._late):
            self._trim(q, t)
        lags = sorted(v for _, v in self._lags)
        p99 = lags[min(len(lags) - 1, int(0.99 * (len(lags) - 1) + 0.5))] if lags else 0.0
        return {"loop_lag": p99, "queue_wait": max((v for _, v in self._waits), default=0.0),
                "late_frames": float(sum(v for _, v in self._late))}

    # ------------------------------------------------------------ decision
    def check(self, now: float | None = None) -> Reason | None:
        """Update and return the hold: the Reason new calls wait for, or None (take calls)."""
        t = self.clock() if now is None else now
        s, signs = self.settings, self.signs(t)
        stop = {"loop_lag": s.lag_stop_ms, "queue_wait": s.queue_wait_stop_ms, "late_frames": s.late_frames_stop}
        resume = {"loop_lag": s.lag_resume_ms, "queue_wait": s.queue_wait_resume_ms,
                  "late_frames": s.late_frames_resume}
        over = next((Reason(k, signs[k], stop[k]) for k in SIGNS if stop[k] > 0 and signs[k] >= stop[k]), None)
        few = self.in_progress is not None and self.in_progress() < s.min_calls  # nothing to protect
        if self.reason is None:
            if over is not None and s.admission and not few:
                self.reason, self.since, self._calm_since = over, t, None
                self.holds += 1
                log.warning("worker holds new calls: %s (calls in progress go on)", over.text())
            return self.reason
        if few:
            log.warning("worker takes new calls again: fewer than %d calls in progress (held %.0f s)",
                        s.min_calls, t - (self.since or t))
            self.reason = self.since = self._calm_since = None
            return None
        if over is not None:
            self.reason = over  # the latest sign that keeps it holding
        calm = all(signs[k] <= resume[k] for k in SIGNS if stop[k] > 0)
        if not calm:
            self._calm_since = None
        elif self._calm_since is None:
            self._calm_since = t
        elif t - self._calm_since >= s.resume_after_seconds:
            log.warning("worker takes new calls again: headroom back for %.0f s (held %.0f s)",
                        t - self._calm_since, t - (self.since or t))
            self.reason = self.since = self._calm_since = None
        return self.reason

    def holding(self) -> Reason | None:
        """The current hold (as of the last check)."""
        return self.reason


class Admission:
    """Every reason this worker takes no new call, combined: its storage alarm (`storage_ok`) and
    its headroom. The SIP endpoint refuses INVITEs with 503 while `accepting()` is False and logs
    `why()`; the dialer holds while `holding()` is not None."""

    def __init__(self, headroom: Headroom | None = None, storage_ok: Callable[[], bool] | None = None) -> None:
        self.headroom = headroom
        self.storage_ok = storage_ok

    def reasons(self) -> list[Reason]:
        out = [] if self.storage_ok is None or self.storage_ok() else [Reason("storage")]
        held = self.headroom.holding() if self.headroom is not None else None
        return [*out, held] if held is not None else out

    def accepting(self) -> bool:
        return not self.reasons()

    def holding(self) -> Reason | None:
        """The headroom's hold (the dialer's own storage handling covers the alarm)."""
        return self.headroom.holding() if self.headroom is not None else None

    def why(self) -> str:
        return "; ".join(r.text() for r in self.reasons()) or "taking calls"

    def as_dict(self) -> dict[str, object]:
        """For the dashboard: holding or not, why, since when (monotonic age in seconds), the signs."""
        h = self.headroom
        return {"holding": bool(self.reasons()), "reasons": [r.as_dict() for r in self.reasons()],
                "held_seconds": round(h.clock() - h.since) if h is not None and h.since is not None else None,
                "signs": {k: round(v, 1) for k, v in h.signs().items()} if h is not None else {}}


class HeadroomProbe:
    """Feeds a Headroom from the running worker: a 10 ms timer's lateness every tick; the
    recognition queue's wait and the late-frame count every `sample_seconds`."""

    def __init__(self, headroom: Headroom, *, queue_wait: Callable[[], float] | None = None,
                 late_frames: Callable[[], int] | None = None, sample_seconds: float = 0.25) -> None:
        self.headroom = headroom
        self.queue_wait = queue_wait  # seconds the oldest waiting turn end has waited
        self.late_frames = late_frames  # a running count of frames sent late
        self.sample_seconds = sample_seconds
        self._late_seen: int | None = None

    def sample(self, now: float) -> None:
        if self.queue_wait is not None:
            self.headroom.note_queue_wait(self.queue_wait() * 1000, now)
        if self.late_frames is not None:
            total = self.late_frames()
            if self._late_seen is not None:
                self.headroom.note_late_frames(max(0, total - self._late_seen), now)
            self._late_seen = total
        self.headroom.check(now)

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


__all__ = ["SIGNS", "Admission", "Headroom", "HeadroomProbe", "Reason"]
