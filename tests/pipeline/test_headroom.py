"""Admission control's decision (bot/pipeline/headroom.py): signs over a window, a hold at the stop
level, a resume only after every sign stayed calm long enough. Time is passed in: no sleeping."""

from __future__ import annotations

import asyncio
import threading

import pytest

from audio.scheduler import RecognitionPool, RecognitionStream
from bot.pipeline.headroom import Admission, Headroom, HeadroomProbe, Reason
from bot.settings import WorkerSettings

S = WorkerSettings(lag_stop_ms=60, lag_resume_ms=25, queue_wait_stop_ms=400, queue_wait_resume_ms=150,
                   late_frames_stop=25, late_frames_resume=0, window_seconds=2, resume_after_seconds=5)


def lags(h: Headroom, ms: float, start: float, seconds: float) -> float:
    """A 10 ms timer that fires `ms` late for `seconds` from `start`; returns the end time."""
    t = start
    while t < start + seconds:
        h.note_lag(ms, t)
        h.check(t)
        t += 0.25
    return t


def test_a_healthy_worker_takes_calls():
    h = Headroom(S)
    lags(h, 5, 0, 10)
    assert h.check(10) is None and h.holds == 0


def test_loop_lag_over_the_stop_level_holds_with_its_reason():
    h = Headroom(S)
    t = lags(h, 5, 0, 3)
    h.note_lag(90, t)
    reason = h.check(t)
    assert reason is not None and reason.code == "loop_lag" and reason.value == 90 and reason.limit == 60
    assert "event-loop lag" in reason.text() and h.holds == 1


def test_a_worker_with_fewer_calls_than_min_calls_never_holds_and_a_hold_ends_when_they_go():
    """Lag from other work on the box (CI, an upload) must not stop a desk's first calls: with fewer
    calls in progress than `min_calls` there is nothing to protect."""
    calls = {"n": 1}
    h = Headroom(S, in_progress=lambda: calls["n"])
    t = lags(h, 90, 0, 3)
    assert h.check(t) is None and h.holds == 0
    calls["n"] = S.min_calls
    assert h.check(t) is not None and h.holds == 1
    calls["n"] = S.min_calls - 1  # calls ended: the hold ends at once, lag or not
    h.note_lag(90, t + 0.25)
    assert h.check(t + 0.25) is None
    with pytest.raises(ValueError, match="min_calls"):
        WorkerSettings(min_calls=-1)


def test_hysteresis_resume_only_after_every_sign_stayed_below_resume_for_long_enough():
    h = Headroom(S)
    h.note_lag(100, 0)
    assert h.check(0) is not None
    # below the stop level but above the resume level: still holding, however long
    t = lags(h, 40, 0.25, 10)
    assert h.check(t) is not None
    # calm (below resume) but not yet for resume_after_seconds (the 40 ms samples leave the window first)
    t = lags(h, 5, t, 5)
    assert h.check(t) is not None
    # one spike over the resume level restarts the calm period
    h.note_lag(30, t)
    assert h.check(t) is not None
    t = lags(h, 5, t + 0.25, 6)
    assert h.check(t) is not None  # the spike is out of the window only 2 s after it: calm for 4 s
    t = lags(h, 5, t, 2)
    assert h.check(t) is None and h.holds == 1
    # and it holds again next time
    h.note_lag(200, t + 1)
    assert h.check(t + 1) is not None and h.holds == 2


def test_queue_wait_and_late_frames_hold_too():
    h = Headroom(S)
    h.note_queue_wait(500, 0)
    assert h.check(0).code == "queue_wait"
    late = Headroom(S)
    for i in range(5):
        late.note_late_frames(6, i * 0.25)  # 30 frames late within 2 s
    assert late.check(1.0).code == "late_frames"
    spread = Headroom(S)
    for i in range(10):
        spread.note_late_frames(6, i * 3.0)  # the same frames spread over 30 s: below the level per window
        assert spread.check(i * 3.0) is None


def test_admission_off_measures_but_never_holds():
    h = Headroom(WorkerSettings(admission=False))
    h.note_lag(1000, 0)
    assert h.check(0) is None and h.signs(0)["loop_lag"] == 1000


def test_admission_combines_the_storage_alarm_and_the_headroom():
    ok = [True]
    h = Headroom(S)
    a = Admission(h, lambda: ok[0])
    assert a.accepting() and a.why() == "taking calls"
    ok[0] = False
    assert not a.accepting() and a.why() == "storage alarm: the database refuses writes"
    assert a.holding() is None  # the dialer has its own storage handling
    h.note_lag(100, h.clock())
    h.check()
    assert a.why().startswith("storage alarm") and "event-loop lag p99 100 ms >= 60 ms" in a.why()
    ok[0] = True
    assert [r.code for r in a.reasons()] == ["loop_lag"] and a.as_dict()["holding"] is True


def test_the_probe_counts_late_frames_between_samples_and_reads_the_queue_wait():
    h = Headroom(S)
    total, wait = [0], [0.0]
    probe = HeadroomProbe(h, queue_wait=lambda: wait[0], late_frames=lambda: total[0])
    probe.sample(0)
    total[0] = 10
    probe.sample(0.25)
    total[0] = 4  # calls with late frames ended: never negative
    probe.sample(0.5)
    assert h.signs(0.5)["late_frames"] == 10 and h.check(0.5) is None
    wait[0] = 0.6
    probe.sample(0.75)
    assert h.holding().code == "queue_wait"


def test_resume_levels_must_be_below_stop_levels():
    with pytest.raises(ValueError, match="lag_resume_ms must be below lag_stop_ms"):
        WorkerSettings(lag_stop_ms=20, lag_resume_ms=30)
    assert WorkerSettings(late_frames_stop=0, late_frames_resume=0).late_frames_stop == 0  # not watched


class _Blocking:
    """A recognizer whose turn end waits for `release` (a busy recognition thread)."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def expect(self, phrases): ...
    def accept(self, pcm): ...
    def partial(self): return ""
    def close(self): ...

    def finish(self):
        self.release.wait(5)
        return None


async def test_the_recognition_queue_wait_is_how_long_the_oldest_turn_end_has_waited():
    pool, release = RecognitionPool(threads=1, name="test-headroom"), threading.Event()
    try:
        a, b = RecognitionStream(pool, _Blocking(release)), RecognitionStream(pool, _Blocking(threading.Event()))
        assert pool.final_wait() == 0.0
        first = a.end_turn(b"\0" * 320)
        for _ in range(100):  # the one thread takes the first turn end
            if a.busy:
                break
            await asyncio.sleep(0.01)
        b.end_turn(b"\0" * 320)  # queued behind it
        await asyncio.sleep(0.05)
        assert pool.final_wait() >= 0.05
        release.set()
        await first
        b.recognizer.release.set()
        for _ in range(100):
            if not b.items and not b.busy:
                break
            await asyncio.sleep(0.01)
        assert pool.final_wait() == 0.0
    finally:
        release.set()
        pool.close()


# ------------------------------------------------------------ the burst cliff (issue 23.3, second pass)
def test_recognition_turnaround_holds_before_the_loop_lags_and_resumes_with_hysteresis():
    """Under a burst the loop stays punctual (recognition runs below it) while callers wait for their
    turn ends to be recognized: that turnaround is the sign that sees the cliff."""
    calls = {"n": 40}
    h = Headroom(S, in_progress=lambda: calls["n"])
    t = 0.0
    for _ in range(8):  # healthy: turn ends recognized in 40 ms, the loop on time
        h.note_lag(3, t)
        h.note_turnaround(40, t)
        assert h.check(t) is None
        t += 0.25
    for ms in (120, 250, 380, 420, 450):  # the queue builds; the loop lag does not move
        h.note_lag(3, t)
        h.note_turnaround(ms, t)
        h.check(t)
        t += 0.25
    reason = h.holding()
    assert reason is not None and reason.code == "recognition" and reason.limit == S.recognition_stop_ms
    assert "recognition turnaround p95" in reason.text() and h.signs(t)["loop_lag"] == 3
    for _ in range(12):  # back to 40 ms, but not yet calm for resume_after_seconds
        h.note_turnaround(40, t)
        h.check(t)
        t += 0.25
    assert h.holding() is not None
    for _ in range(20):
        h.note_turnaround(40, t)
        h.check(t)
        t += 0.25
    assert h.holding() is None and h.holds == 1


def test_cpu_wait_is_watched_only_when_a_stop_level_is_set():
    calls = lambda: 10  # noqa: E731
    off = Headroom(WorkerSettings(cpu_wait_stop_ms=0, cpu_wait_resume_ms=0), in_progress=calls)
    off.note_cpu_wait(900, 0)
    assert off.check(0) is None and off.signs(0)["cpu_wait"] == 900
    on = Headroom(WorkerSettings(cpu_wait_stop_ms=300, cpu_wait_resume_ms=100), in_progress=calls)
    on.note_cpu_wait(200, 0)
    on.note_cpu_wait(500, 0.25)  # mean over the window: 350
    assert on.check(0.25).code == "cpu_wait"
    with pytest.raises(ValueError, match="cpu_wait_resume_ms must be below cpu_wait_stop_ms"):
        WorkerSettings(cpu_wait_stop_ms=100, cpu_wait_resume_ms=100)


def _burst(h: Headroom, live: dict, starts_per_second: float, seconds: float, t: float = 0.0) -> list[float]:
    """Calls asking to start `starts_per_second` a second for `seconds`, each retrying every 10 ms
    until admitted (the probe checks every 250 ms); returns when each started."""
    started, waiting, ask = [], 0, t
    end = t + seconds
    while t < end + 60 and (t < end or waiting):
        while ask <= t and ask < end:
            waiting += 1
            ask += 1 / starts_per_second
        while waiting and h.admit(t):
            waiting -= 1
            live["n"] += 1
            started.append(t)
        if abs(t * 4 - round(t * 4)) < 1e-6:
            h.check(t)
        t = round(t + 0.01, 2)
    return started


def test_a_burst_of_starts_is_ramped_evenly_and_none_is_dropped():
    """150 lines starting within 3 s on two workers: 25 a second each. A new call's load shows only
    seconds later, so the starts themselves are spaced: at most starts_per_second, evenly."""
    live = {"n": 0}
    h = Headroom(S, in_progress=lambda: live["n"])
    started = _burst(h, live, 25, 3)
    assert len(started) == 75  # every call starts, later
    after_min = started[S.min_calls:]  # the first min_calls go at once: nothing to protect yet
    gaps = [b - a for a, b in zip(after_min, after_min[1:], strict=False)]
    assert min(gaps) >= 1 / S.starts_per_second - 1e-9
    assert started[-1] >= (75 - S.min_calls - 1) / S.starts_per_second
    assert started[S.min_calls - 1] < 0.2  # the first ones, as they asked


def test_slow_start_new_calls_wait_until_the_older_ones_load_shows():
    """A call's load shows only once it has asked and been answered (young_seconds): the calls younger
    than that may be at most young_share times the older ones, so the load doubles at most per
    young_seconds however many lines are waiting, and the signs see each step before the next."""
    live = {"n": 0}
    h = Headroom(S, in_progress=lambda: live["n"])
    started = _burst(h, live, 25, 3)
    by = {t: sum(1 for s in started if s < t) for t in (S.young_seconds, 2 * S.young_seconds, 3 * S.young_seconds)}
    assert by[S.young_seconds] == S.min_calls  # nothing older yet: min_calls only
    assert by[2 * S.young_seconds] <= 2 * S.min_calls and by[3 * S.young_seconds] <= 4 * S.min_calls
    assert len(started) == 75  # none dropped: all started, later
    reason = Headroom(S, in_progress=lambda: 8)
    for i in range(4):
        reason.note_start(i * 0.25)
    assert reason.may_start(1.5) == Reason("young", 4, 4.0) and "load not shown yet" in reason.may_start(1.5).text()
    assert reason.may_start(S.young_seconds + 0.1) is None  # they are old enough now
    with pytest.raises(ValueError, match="young_share"):
        WorkerSettings(young_share=0)


def test_near_its_limit_the_worker_starts_new_calls_one_a_second():
    live = {"n": 10}
    h = Headroom(S, in_progress=lambda: live["n"])
    assert h.start_rate(0) == S.starts_per_second and not h.near(0)
    h.note_turnaround(0.6 * S.recognition_stop_ms, 0)  # past `near` of the stop level, not at it
    assert h.check(0) is None and h.near(0) and h.start_rate(0) == S.ramp_per_second
    assert h.admit(0) and not h.admit(0.5)
    assert h.may_start(0.5).code == "ramp" and h.next_start(0.5) == pytest.approx(0.5)
    assert h.admit(1.0)
    h.note_turnaround(40, 5)  # the slow turnaround left the window: full pace again
    assert not h.near(5) and h.admit(5) and h.admit(5 + 1 / S.starts_per_second)


def test_a_held_worker_admits_nobody_and_off_means_never_ramped():
    live = {"n": 10}
    h = Headroom(S, in_progress=lambda: live["n"])
    h.note_lag(100, 0)
    assert h.check(0) is not None and not h.admit(0) and h.may_start(0).code == "loop_lag"
    off = Headroom(WorkerSettings(admission=False), in_progress=lambda: live["n"])
    assert all(off.admit(0) for _ in range(20))
    unlimited = Headroom(WorkerSettings(starts_per_second=0, ramp_per_second=0, young_seconds=0),
                         in_progress=lambda: live["n"])
    assert all(unlimited.admit(0) for _ in range(20))
    with pytest.raises(ValueError, match="near"):
        WorkerSettings(near=0)


def test_calls_started_elsewhere_count_as_starts():
    """The dialer starts its calls itself (paced by [dialer] start_rate): a rise of the calls in progress
    the ramp did not admit still counts, so an inbound call right after waits its turn."""
    live = {"n": 10}
    h = Headroom(S, in_progress=lambda: live["n"])
    h.check(0)
    assert h.admit(0.0)
    live["n"] += 1  # the admitted one: not counted twice
    h.check(0.25)
    assert h.starts == 1 and h.admit(0.25)
    live["n"] += 3  # the admitted one and two dialled calls
    h.check(0.3)
    assert h.starts == 4 and not h.admit(0.31) and h.admit(0.51)


def test_inbound_admission_counts_each_call_and_says_when_the_ramp_refused_one():
    live = {"n": 10}
    h = Headroom(S, in_progress=lambda: live["n"])
    a = Admission(h, lambda: True)
    assert a.accepting() and h.starts == 1
    assert not a.accepting() and "call starts ramped" in a.why()
    assert a.holding() is None and a.as_dict()["holding"] is False  # a ramp is not a hold


def test_the_probe_feeds_turnarounds_and_the_cpu_wait_per_second():
    h = Headroom(S)
    waited, turns = [1.0], [[0.05, 0.5]]
    probe = HeadroomProbe(h, turn_times=lambda: turns.pop() if turns else [], cpu_wait=lambda: waited[0])
    probe.sample(0)
    waited[0] = 1.1  # 100 ms of waiting for a core in 0.25 s
    probe.sample(0.25)
    signs = h.signs(0.25)
    assert signs["recognition"] == 500 and signs["cpu_wait"] == pytest.approx(400)
    quiet = Headroom(S)
    unread = HeadroomProbe(quiet, cpu_wait=lambda: None)  # not Linux: nothing to read, nothing noted
    unread.sample(0)
    unread.sample(0.25)
    assert quiet.signs(0.25)["cpu_wait"] == 0


class _Slow:
    """A recognizer that takes `delay` seconds to finish a turn."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def expect(self, phrases): ...
    def accept(self, pcm): ...
    def partial(self): return ""
    def close(self): ...

    def finish(self):
        threading.Event().wait(self.delay)
        return None


async def test_the_pool_reports_each_turn_ends_turnaround_once():
    pool = RecognitionPool(threads=1, name="test-turnaround")
    try:
        stream = RecognitionStream(pool, _Slow(0.05))
        assert pool.turn_times() == []
        await stream.end_turn(b"\0" * 320)
        times = pool.turn_times()
        assert len(times) == 1 and times[0] >= 0.05
        assert pool.turn_times() == []  # read once
    finally:
        pool.close()


def test_run_delay_is_read_from_the_kernel_where_it_says():
    from pathlib import Path

    from bot.pipeline.headroom_probe import run_delay_seconds

    waited = run_delay_seconds()
    if Path("/proc/self/schedstat").exists():  # Linux with scheduler statistics (CI's kernel has them)
        assert isinstance(waited, float) and waited >= 0
    else:
        assert waited is None
    assert run_delay_seconds("no-such-pid") is None
