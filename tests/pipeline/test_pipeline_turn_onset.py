"""The audio a caller turn hands to the ear starts a fixed pre-roll before the answer's own onset,
wherever the answer falls on the line (bot/pipeline/onset.py). It used to start 0.4 s before the
20 ms chunk in which the detector's 32 ms windows fired, so the same recording reached Whisper
with its start moved by up to ~0.1 s from call to call — and Whisper base hears a short answer
differently when its start moves by 50 ms (是绿码 as 吃地码, docs/speech.md)."""

from __future__ import annotations

import asyncio

import numpy as np

from audio.fakes import EnergyOnlySession, FakeRecognizer, tone
from audio.scheduler import RecognitionPool
from audio.vad import SpeechDetector
from bot.pipeline import onset
from bot.pipeline.listener import CallerListener

RATE = 8000
_rng = np.random.default_rng(7)
LEAD = (_rng.normal(0, 60, int(0.3 * RATE))).astype("<i2").tobytes()  # line noise under the energy gate
SOFT = (_rng.normal(0, 700, int(0.06 * RATE))).astype("<i2").tobytes()  # a soft first consonant (是, 七)
ANSWER = LEAD + SOFT + tone(0.5) + bytes(int(1.5 * RATE) * 2)


async def ear_audio(shift: int) -> bytes:
    """What the recognizer is given for ANSWER placed `shift` samples later on the line."""
    rec = FakeRecognizer(["是 绿码"])
    pool = RecognitionPool(1)
    lst = CallerListener(SpeechDetector(EnergyOnlySession()), rec, pool, lambda listen: None)
    answers = []

    async def emit(item) -> None:
        if isinstance(item, tuple):
            answers.append(item[0])

    lst._emit = emit
    audio = bytes(int(0.8 * RATE) * 2 + 2 * shift) + ANSWER
    for i in range(0, len(audio), 320):
        await lst._hear(audio[i:i + 320])
    assert answers, "the turn never ended"
    await asyncio.wait_for(answers[0], 5)
    await lst.stream.close()
    pool.close()
    return rec.turns[0]


async def test_a_turn_reaches_the_ear_from_the_same_place_wherever_it_falls_on_the_line():
    starts = set()
    for shift in (0, 37, 101, 160, 211, 255, 333):
        turn = await ear_audio(shift)
        at = turn.find(SOFT[:400])
        assert at >= 0 and turn.find(tone(0.5)[-400:]) > at, shift  # the whole answer is in the turn
        starts.add(at // 2)
    assert len(starts) == 1, sorted(starts)  # the same audio, to the sample
    assert abs(starts.pop() - onset.PREROLL) <= onset.FRAME  # the pre-roll before the onset (10 ms RMS frames)


def test_without_a_loud_onset_the_turn_starts_a_pre_roll_before_the_detected_start():
    quiet = bytes(int(1.0 * RATE) * 2)
    assert onset.turn_start(quiet, 6000) == (6000 - onset.PREROLL) * 2


def test_a_line_loud_throughout_keeps_at_most_half_a_second_before_the_detected_start():
    noisy = tone(1.5)
    assert onset.turn_start(noisy, 10000) == (10000 - onset.MAX_EARLY - onset.PREROLL) * 2
