"""Fake providers for pipeline tests (as Home Assistant's assist_pipeline tests use a
MockSttProvider): a recognizer that hears what the test scripted, a synthesizer that
"speaks" a short tone per prompt, and a speech-detector session that trusts the energy gate.
With them a whole call runs through the real transport, listener, dialog processor and
prompt player in a fraction of a second, with no model loaded.

    fake = FakeRecognizer(["네", "3"])              # the caller's turns, as heard
    resources.recognizers["ko-KR"] = lambda: fake
    cache = PromptCache(tmp_path, FakeSynthesizer())
"""

from __future__ import annotations

import threading

import numpy as np

from audio import wav
from audio.recognizer import Recognition

TONE_HZ = 440


class FakeRecognizer:
    """Returns `texts[i]` for the i-th turn (finish()); "" once the script is used up.
    Records what it was fed: `grammars` (each expect()), `turns` (the audio of each finished
    turn), `closed`. Implements `audio.recognizer.Recognizer`."""

    def __init__(self, texts: list[str], confidence: float = 0.9) -> None:
        self.texts = list(texts)
        self.confidence = confidence
        self.grammars: list[list[str] | None] = []
        self.turns: list[bytes] = []
        self.closed = False
        self._audio = bytearray()
        self._lock = threading.Lock()  # fed on a pool thread, inspected by the test

    def expect(self, phrases: list[str] | None) -> None:
        self.grammars.append(list(phrases) if phrases else None)

    def accept(self, pcm: bytes) -> None:
        if self.closed:
            raise RuntimeError("FakeRecognizer used after close()")
        with self._lock:
            self._audio += pcm

    def partial(self) -> str:
        return self.texts[0][: len(self.texts[0]) // 2] if self.texts and self._audio else ""

    def settle(self) -> str:
        """At a pause: the whole scripted text of the turn (as Vosk's final result of the words so far)."""
        return self.texts[0] if self.texts and self._audio else ""

    def finish(self) -> Recognition:
        with self._lock:
            self.turns.append(bytes(self._audio))
            self._audio = bytearray()
        text = self.texts.pop(0) if self.texts else ""
        words = tuple((w, self.confidence) for w in text.split())
        return Recognition(text, self.confidence if text else 0.0, words)

    def close(self) -> None:
        self.closed = True


class FakeSynthesizer:
    """A `audio.synthesis.Synthesizer`: each text becomes a 16 kHz WAV of a tone, `seconds`
    long (so the call audio is resampled as a real engine's is). Records `spoken` texts."""

    key = "fake-tone"

    def __init__(self, seconds: float = 0.2, sample_rate: int = 16000) -> None:
        self.seconds = seconds
        self.sample_rate = sample_rate
        self.spoken: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.spoken.append(text)
        return wav.wav_bytes(tone(self.seconds, self.sample_rate), self.sample_rate)

    def close(self) -> None:
        pass


class EnergyOnlySession:
    """Stands in for `audio.vad.SileroSession`: every window above the detector's energy
    floor counts as speech (Silero would need real speech; a test's tone is not)."""

    def score(self, window: np.ndarray, state: np.ndarray) -> tuple[float, np.ndarray]:
        return 1.0, state


def tone(seconds: float, sample_rate: int = wav.CALL_RATE, level: int = 8000) -> bytes:
    """A sine tone as 16-bit PCM: the fakes' stand-in for speech."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (level * np.sin(2 * np.pi * TONE_HZ * t)).astype("<i2").tobytes()
