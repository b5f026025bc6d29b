"""A worker's headroom: whether it can take one more call without the calls it has suffering.

    headroom = Headroom(WorkerSettings())        # one per worker process
    probe = HeadroomProbe(headroom, queue_wait=pool.final_wait, turn_times=pool.turn_times, ...)
    task = asyncio.create_task(probe.run(stop))  # a 10 ms timer + samples every 250 ms
    headroom.holding()                           # None, or the Reason new calls wait for
    headroom.admit()                             # a new call may start now (and is counted), or not

Signs, each over the last `window_seconds`: the event loop's lag (p99 of how late a 10 ms timer
fires: every call's audio runs on that loop), the recognition queue's wait (how long a caller's turn
end waits for a recognition thread), frames sent late on the line, the recognition turnaround (p95
of how long a caller's turn end takes to be recognized, queue and CPU included: what the caller
waits for beyond the end-of-turn silence) and the CPU wait (ms a second the worker's threads were
ready to run but waited for a core: the box's share left to this worker). When one reaches its
`stop` level the worker holds: no new call is started or accepted (the dialer waits, inbound gets 503
with Retry-After) while the calls in progress go on. It resumes once every sign has stayed below its
`resume` level for `resume_after_seconds` (hysteresis: a worker at its limit does not flap).

Starting calls count too: a new call's load shows in the signs only seconds later (its first prompt
and answer), so a burst of starts would all be taken before any sign moved, and calls started
together answer together. `admit()` therefore ramps: at most `starts_per_second` new calls a second,
evenly spaced, and only `ramp_per_second` while any sign is at `near` of its stop level or more; and
slow start: the calls started within `young_seconds` may be at most `young_share` times the older
calls in progress, so the load grows only by what the signs have already seen. Time is passed in
(`now`): the rules are tested without sleeping."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.settings import WorkerSettings

log = logging.getLogger("veribot.headroom")

SIGNS = ("loop_lag", "queue_wait", "late_frames", "recognition", "cpu_wait")
LEVELS = {  # sign -> its stop and resume settings in [worker]
    "loop_lag": ("lag_stop_ms", "lag_resume_ms"), "queue_wait": ("queue_wait_stop_ms", "queue_wait_resume_ms"),
    "late_frames": ("late_frames_stop", "late_frames_resume"),
    "recognition": ("recognition_stop_ms", "recognition_resume_ms"),
    "cpu_wait": ("cpu_wait_stop_ms", "cpu_wait_resume_ms"),
}
TEXTS = {
    "loop_lag": "event-loop lag p99 {value:.0f} ms >= {limit:.0f} ms",
    "queue_wait": "recognition queue wait {value:.0f} ms >= {limit:.0f} ms",
    "late_frames": "{value:.0f} frames sent late on the line >= {limit:.0f}",
    "recognition": "recognition turnaround p95 {value:.0f} ms >= {limit:.0f} ms",
    "cpu_wait": "threads waited {value:.0f} ms a second for a core >= {limit:.0f} ms",
    "ramp": "call starts ramped: at most {value:.1f} new calls a second now",
    "young": "call starts ramped: {value:.0f} calls started in the last seconds, their load not shown yet",
    "storage": "storage alarm: the database refuses writes",
}


def _pct(values: list[float], q: float) -> float:
    xs = sorted(values)
    return xs[min(len(xs) - 1, int(q * (len(xs) - 1) + 0.5))] if xs else 0.0


@dataclass(frozen=True)
class Reason:
    """Why new calls wait: which sign, its value over the window and the level that stopped them."""

    code: str  # a sign of SIGNS | ramp | storage
    value: float = 0.0
    limit: float = 0.0

    def text(self) -> str:
        """One English line for the log (the console and the CLI translate `code` themselves)."""
        return TEXTS.get(self.code, TEXTS["storage"]).format(value=self.value, limit=self.limit)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "value": round(self.value, 1), "limit": self.limit}


class Headroom:
    """The hold decision from samples (see the module text). Not thread-safe: the event loop feeds it."""

    def __init__(self, settings: WorkerSettings | None = None, clock: Callable[[], float] = time.monotonic,
                 in_progress: Callable[[], int] | None = None) -> None:
        self.settings = settings or WorkerSettings()
        self.clock = clock
        self.in_progress = in_progress  # calls this worker has now (None: not counted, min_calls ignored)
        self._samples: dict[str, deque[tuple[float, float]]] = {k: deque() for k in SIGNS}
        self.reason: Reason | None = None  # set while holding
        self.since: float | None = None  # when the current hold began
        self._calm_since: float | None = None  # every sign below its resume level since
        self.holds = 0  # holds begun since start (the benchmark and the log count them)
        self._last_start: float | None = None  # the latest call start (admit(), or seen in in_progress)
        self._young: deque[float] = deque()  # starts within young_seconds (slow start)
        self._admitted = 0  # starts admit() counted since the last check (the rest of a rise in in_progress)
        self._calls_seen: int | None = None
        self.starts = 0  # calls started since start

    # ------------------------------------------------------------ samples
    def note_lag(self, ms: float, now: float | None = None) -> None:
        self._add("loop_lag", ms, now)

    def note_queue_wait(self, ms: float, now: float | None = None) -> None:
        self._add("queue_wait", ms, now)

    def note_late_frames(self, n: int, now: float | None = None) -> None:
        if n > 0:
            self._add("late_frames", n, now)

    def note_turnaround(self, ms: float, now: float | None = None) -> None:
        """One caller's turn end: submitted -> recognized (queue, busy stream and CPU wait included)."""
        self._add("recognition", ms, now)

    def note_cpu_wait(self, ms_per_second: float, now: float | None = None) -> None:
        self._add("cpu_wait", ms_per_second, now)

    def _add(self, sign: str, value: float, now: float | None) -> None:
        t = self.clock() if now is None else now
        q = self._samples[sign]
        q.append((t, value))
        self._trim(q, t)

    def _trim(self, q: deque, now: float) -> None:
        while q and q[0][0] < now - self.settings.window_seconds:
            q.popleft()

    def signs(self, now: float | None = None) -> dict[str, float]:
        """Each sign over the window: lag p99 ms, longest queue wait ms, late frames, turnaround p95
        ms, mean CPU wait ms a second."""
        t = self.clock() if now is None else now
        v: dict[str, list[float]] = {}
        for k, q in self._samples.items():
            self._trim(q, t)
            v[k] = [x for _, x in q]
        return {"loop_lag": _pct(v["loop_lag"], 0.99), "queue_wait": max(v["queue_wait"], default=0.0),
                "late_frames": float(sum(v["late_frames"])), "recognition": _pct(v["recognition"], 0.95),
                "cpu_wait": sum(v["cpu_wait"]) / len(v["cpu_wait"]) if v["cpu_wait"] else 0.0}

    def _levels(self, which: int) -> dict[str, float]:
        return {k: float(getattr(self.settings, names[which])) for k, names in LEVELS.items()}
    # ------------------------------------------------------------ decision
    def _few(self, starting: float | None = None) -> bool:
        """Fewer calls in progress than min_calls: nothing to protect (never held, never ramped).
        `starting` (now): the calls started within young_seconds count too: a call admitted shows in
        the count only once it dials (its opening is rendered first), and a burst must not all pass as few."""
        if self.in_progress is None:
            return False
        young = self.young_room(starting)[0] if starting is not None else 0
        return max(self.in_progress(), young) < self.settings.min_calls

    def check(self, now: float | None = None) -> Reason | None:
        """Update and return the hold: the Reason new calls wait for, or None (take calls)."""
        t = self.clock() if now is None else now
        self._count_starts(t)
        s, signs = self.settings, self.signs(t)
        stop, resume = self._levels(0), self._levels(1)
        over = next((Reason(k, signs[k], stop[k]) for k in SIGNS if stop[k] > 0 and signs[k] >= stop[k]), None)
        few = self._few()
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

    # ------------------------------------------------------------ starts (the ramp)
    def near(self, now: float | None = None) -> bool:
        """Some watched sign is at `near` of its stop level or more: new calls come one at a time."""
        signs, stop = self.signs(now), self._levels(0)
        return any(stop[k] > 0 and signs[k] >= self.settings.near * stop[k] for k in SIGNS)

    def start_rate(self, now: float | None = None) -> float:
        """New calls a second this worker may start now (0: no limit)."""
        s = self.settings
        if s.ramp_per_second > 0 and self.near(now):
            return min(s.ramp_per_second, s.starts_per_second) if s.starts_per_second > 0 else s.ramp_per_second
        return s.starts_per_second

    def may_start(self, now: float | None = None) -> Reason | None:
        """Why a new call may not start now: the hold, or the ramp's spacing (None: it may)."""
        t = self.clock() if now is None else now
        if self.reason is not None:
            return self.reason
        if not self.settings.admission or self._few(starting=t):
            return None
        rate = self.start_rate(t)
        if rate > 0 and self._last_start is not None and t - self._last_start < 1 / rate:
            return Reason("ramp", rate, rate)
        young, room = self.young_room(t)
        if young >= room:
            return Reason("young", young, room)
        return None

    def young_room(self, now: float | None = None) -> tuple[int, float]:
        """Slow start: calls started within young_seconds, and how many may be (young_share times
        the older calls in progress, at least min_calls). Without a count of calls: no limit."""
        t = self.clock() if now is None else now
        while self._young and self._young[0] <= t - self.settings.young_seconds:
            self._young.popleft()
        if self.in_progress is None or self.settings.young_seconds <= 0:
            return len(self._young), float("inf")
        older = max(0, self.in_progress() - len(self._young))
        return len(self._young), max(float(self.settings.min_calls), self.settings.young_share * older)

    def next_start(self, now: float | None = None) -> float:
        """Seconds until the ramp lets the next call start (0: now; a hold counts as a sample period)."""
        t = self.clock() if now is None else now
        if self.reason is not None or self.young_room(t)[0] >= self.young_room(t)[1]:
            return 0.25
        rate = self.start_rate(t)
        return 0.0 if rate <= 0 or self._last_start is None else max(0.0, self._last_start + 1 / rate - t)

    def admit(self, now: float | None = None) -> bool:
        """A new call asks to start: True (it starts now and is counted) or False (it waits)."""
        t = self.clock() if now is None else now
        if self.may_start(t) is not None:
            return False
        self.note_start(t)
        self._admitted += 1
        return True

    def note_start(self, now: float | None = None) -> None:
        self._last_start = self.clock() if now is None else now
        self._young.append(self._last_start)
        self.starts += 1

    def _count_starts(self, t: float) -> None:
        """Calls started without admit() (the dialer's) still count: a rise of in_progress beyond
        the starts admit() counted since the last check."""
        if self.in_progress is None:
            return
        n = self.in_progress()
        for _ in range(n - self._calls_seen - self._admitted if self._calls_seen is not None else 0):
            self.note_start(t)
        self._calls_seen, self._admitted = n, 0


class Admission:
    """Every reason this worker takes no new call, combined: its storage alarm (`storage_ok`) and
    its headroom. The SIP endpoint refuses INVITEs with 503 while `accepting()` is False and logs
    `why()`; the dialer holds while `holding()` is not None."""

    def __init__(self, headroom: Headroom | None = None, storage_ok: Callable[[], bool] | None = None) -> None:
        self.headroom = headroom
        self.storage_ok = storage_ok
        self._ramped: Reason | None = None  # the ramp that refused the last call (why() names it)

    def reasons(self) -> list[Reason]:
        out = [] if self.storage_ok is None or self.storage_ok() else [Reason("storage")]
        held = self.headroom.holding() if self.headroom is not None else None
        return [*out, held] if held is not None else out

    def accepting(self) -> bool:
        """An inbound call asks to start: False while held, or while the ramp spaces starts; True
        counts it as started."""
        self._ramped = None
        if self.reasons():
            return False
        if self.headroom is None:
            return True
        ramp = self.headroom.may_start()
        if ramp is not None:
            self._ramped = ramp
            return False
        self.headroom.admit()
        return True

    def holding(self) -> Reason | None:
        """The headroom's hold (the dialer's own storage handling covers the alarm)."""
        return self.headroom.holding() if self.headroom is not None else None

    def why(self) -> str:
        why = [*self.reasons(), *([self._ramped] if self._ramped is not None else [])]
        return "; ".join(r.text() for r in why) or "taking calls"

    def as_dict(self) -> dict[str, object]:
        """For the dashboard: holding or not, why, since when (monotonic age in seconds), the signs."""
        h = self.headroom
        return {"holding": bool(self.reasons()), "reasons": [r.as_dict() for r in self.reasons()],
                "held_seconds": round(h.clock() - h.since) if h is not None and h.since is not None else None,
                "signs": {k: round(v, 1) for k, v in h.signs().items()} if h is not None else {}}


from bot.pipeline.headroom_probe import HeadroomProbe  # noqa: E402  (it feeds the Headroom above)

__all__ = ["SIGNS", "Admission", "Headroom", "HeadroomProbe", "Reason"]
