"""Speech detection is clocked by samples: 'two seconds of silence' is an argument."""

import numpy as np
import pytest

from audio.vad import SileroSession, SpeechDetector
from bot.pipeline.offline import speech_span

RATE = 8000


@pytest.fixture(scope="module")
def silero():
    return SileroSession()


def feed(detector, audio: bytes, chunk: int = 320):
    events = []
    for i in range(0, len(audio), chunk):
        events += [(e.started, e.sample, (i + chunk) // 2) for e in detector.feed(audio[i : i + chunk])]
    return events


def test_silence_never_starts_speech_and_skips_the_model(silero):
    d = SpeechDetector(silero)
    assert feed(d, bytes(2 * RATE * 5)) == []
    assert d.silero_windows == 0  # the energy gate kept Silero idle


def test_noise_below_the_gate_is_silence(silero):
    rng = np.random.default_rng(1)
    hiss = (rng.normal(0, 30, RATE * 3)).astype("<i2").tobytes()
    assert feed(SpeechDetector(silero), hiss) == []


@pytest.mark.parametrize("text", ["네", "아니요", "녹색 입니다", "서울시 강남구"])
def test_speech_start_and_end_are_found_quickly(silero, say_ko, text):
    pcm = say_ko(text)
    onset, offset = speech_span(pcm)
    d = SpeechDetector(silero, end_silence=0.5)
    events = feed(d, bytes(RATE * 2) + pcm + bytes(RATE * 2))
    assert [e[0] for e in events] == [True, False]
    (_, start, seen_at), (_, end, stopped_at) = events
    lead = RATE  # samples of silence before the speech
    assert abs(start - (lead + onset)) <= 0.1 * RATE
    assert seen_at - (lead + onset) <= 0.25 * RATE  # detected within 250 ms of the onset
    assert stopped_at - end >= 0.5 * RATE - 256  # the turn ends only after the end silence
    assert end <= lead + offset + 0.1 * RATE


def test_odd_chunk_sizes_give_the_same_events(silero, say_ko):
    audio = bytes(RATE) + say_ko("아니요") + bytes(RATE * 2)
    reference = [(s, at) for s, at, _ in feed(SpeechDetector(silero), audio, 320)]
    for samples in (1, 159, 161):
        got = [(s, at) for s, at, _ in feed(SpeechDetector(silero), audio, samples * 2)]
        assert got == reference
