"""Admission control's decision (bot/pipeline/headroom.py): signs over a window, a hold at the stop
level, a resume only after every sign stayed calm long enough. Time is passed in: no sleeping."""

from __future__ import annotations

import asyncio
import threading

import pytest

from audio.scheduler import RecognitionPool, RecognitionStream
from bot.pipeline.headroom import Admission, Headroom, HeadroomProbe
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
