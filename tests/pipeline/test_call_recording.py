"""The whole call on record (issue 25 item 3), the recorder itself: a stereo WAV (bot left,
caller right) on the line clock, written as it goes (a kill -9 loses at most the last second),
bounded in memory however long the call, and exact on the in-memory line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tracemalloc
import wave
from pathlib import Path

import numpy as np

from audio.call_recording import FILE_NAME, CallRecording

ROOT = Path(__file__).resolve().parents[2]
RATE = 8000


def read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, RATE)
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    return x[:, 0], x[:, 1]


def frame(value: int, n: int = 160) -> bytes:
    return np.full(n, value, dtype="<i2").tobytes()


async def test_bot_audio_lands_where_the_line_clock_is(tmp_path: Path) -> None:
    rec = CallRecording.open(tmp_path)
    for i in range(100):  # 2 s of the caller (value 7), the bot sending a tone from 1.0 s for 0.4 s
        rec.heard(frame(7))
        rec.sent(frame(1000 if 50 <= i < 70 else 0))
    for _ in range(25):  # the send clock skips (starved loop): the bot's next piece is moved onto the line clock
        rec.heard(frame(7))
    rec.sent(frame(2000))
    await rec.aclose()
    left, right = read(tmp_path / FILE_NAME)
    assert len(left) == 126 * 160 and (right[:125 * 160] == 7).all()  # the last bot piece: after the caller's end
    assert (left[50 * 160:70 * 160] == 1000).all() and not left[:50 * 160].any() and not left[70 * 160:125 * 160].any()
    assert (left[125 * 160:] == 2000).all() and not right[125 * 160:].any()
    rec2 = CallRecording.open(tmp_path / "b")
    rec2.heard(frame(7, 800))
    rec2.sent(frame(2000), at=400)  # a known line position (the in-memory line)
    rec2.cut(480)  # barge-in: what lies beyond never played
    await rec2.aclose()
    left, right = read(tmp_path / "b" / FILE_NAME)
    assert (left[400:480] == 2000).all() and not left[480:].any() and not left[:400].any() and len(left) == 800


async def test_a_long_call_is_written_as_it_goes_in_bounded_memory(tmp_path: Path) -> None:
    rec = CallRecording.open(tmp_path)
    chunk = frame(300, 1600)  # 200 ms pieces, 20 minutes of both sides
    tracemalloc.start()
    try:
        for i in range(20 * 60 * RATE // 1600):
            rec.sent(chunk)  # the bot's 200 ms leave as the line clock reaches them, the caller's arrive
            rec.heard(chunk)
            if i % 60 == 0 and rec._last is not None:  # a call gives the writer 12 s for 12 s of audio:
                rec._last.result(10)  # the test feeds faster than real time, so it lets the writer keep up
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await rec.aclose()
    assert peak < 2_000_000, peak  # the file is 38 MB: never held whole
    with wave.open(str(tmp_path / FILE_NAME)) as w:
        assert w.getnframes() == 20 * 60 * RATE


KILLED = """
import sys, time
import numpy as np
from audio.call_recording import CallRecording
rec = CallRecording.open(sys.argv[1])
pcm = np.full(160, 500, dtype="<i2").tobytes()
for i in range(150):  # 3 s of call at the real pace
    rec.heard(pcm)
    rec.sent(pcm)
    time.sleep(0.02)
print("fed", flush=True)
time.sleep(60)
"""


def test_kill_9_loses_at_most_the_last_second(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == "fed"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    left, right = read(tmp_path / FILE_NAME)  # a whole WAV: the header's sizes match what was written
    assert 2 * RATE <= len(left) <= 3 * RATE and (left == 500).all() and (right == 500).all()


def test_a_burst_starts_at_the_transports_line_time_not_the_last_clock_tick() -> None:
    """The processor's line clock ticks every 0.1 s: a burst started 80 ms after the last tick is
    dated by the transport's received-audio count (what the recording's positions are)."""
    from bot.pipeline.playback import PlaybackLog

    notes: list = []
    log = PlaybackLog(notes.append, now=lambda: 1.08)
    log.sent("您好", "greeting", 0.9)
    log.rendered("您好", bytes(3200))  # 0.2 s
    log.started(1.0)  # the last tick
    log.stopped(1.3)
    assert [(n.started_at, n.ended_at, n.complete) for n in notes] == [(1.08, 1.28, True)]


async def test_a_recording_that_cannot_be_written_never_breaks_the_call(tmp_path: Path, caplog) -> None:
    (tmp_path / FILE_NAME).mkdir()  # the file's place is taken: every write fails (as on a full disk)
    rec = CallRecording.open(tmp_path)
    for _ in range(100):
        rec.heard(frame(7))
        rec.sent(frame(9))
    await rec.aclose()  # no exception reaches the call
    assert rec._failed and "call recording" in caplog.text and str(tmp_path.parent) not in caplog.text
