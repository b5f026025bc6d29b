"""espeak-ng: the voice of every locale when no natural voice is installed, and the fallback.

One voice table and one text preparation. Two ways to run it: the `espeak-ng` program once
per prompt (default: deterministic and stateless), or pyttsx3's espeak driver in its own
worker process (`[speech] tts_engine = "pyttsx3"`). Measured here, pyttsx3's driver reused
across prompts gave the same text different audio from one call to the next, which is why
the program is the default. Mandarin goes through numbered pinyin with the
`cmn-latn-pinyin` voice (espeak's `cmn` voice reads Hanzi as English letters)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from audio.tts_worker import SynthesisError, WorkerProcess

_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@dataclass(frozen=True)
class Voice:
    name: str  # espeak-ng voice id
    rate: int = 160  # words per minute

    @staticmethod
    def for_locale(locale: str) -> Voice:
        lang = locale.split("-")[0].lower()
        return {
            "zh": Voice("cmn-latn-pinyin", 150),
            "en": Voice("en-us", 160),
            "ko": Voice("ko", 150),
        }.get(lang, Voice(lang, 160))


def speakable(text: str, voice: Voice) -> str:
    """The text as espeak-ng should get it (Hanzi -> numbered pinyin for Mandarin)."""

    if voice.name == "cmn-latn-pinyin":
        from pypinyin import Style, lazy_pinyin

        return " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))
    # espeak-ng produces nothing at all for a Korean/English sentence holding Hanzi (e.g. an
    # agency name from a Mandarin config): drop them so the rest is still spoken.
    return _HANZI.sub(" ", text)


def _fix_stream_header(data: bytes) -> bytes:
    """espeak-ng --stdout cannot seek back: its RIFF/data sizes are 0xFFFFFFFF; set them."""
    if data[:4] == b"RIFF" and data[36:40] == b"data":
        data = bytearray(data)
        data[4:8] = (len(data) - 8).to_bytes(4, "little")
        data[40:44] = (len(data) - 44).to_bytes(4, "little")
        return bytes(data)
    return data


class Espeak:
    """A Synthesizer (audio.synthesis) speaking one locale with espeak-ng."""

    def __init__(self, locale: str, backend: str = "program", timeout: float = 20.0,
                 program: str = "espeak-ng", voice: Voice | None = None) -> None:
        if backend not in ("program", "pyttsx3"):
            raise ValueError(f"espeak backend must be program or pyttsx3, not {backend!r}")
        self.voice = voice or Voice.for_locale(locale)
        self.backend = backend
        self.timeout = timeout
        self.program = program
        engine = "espeak-ng" if backend == "program" else "pyttsx3"
        self.key = f"{engine}:{self.voice.name}:{self.voice.rate}"
        self.worker = WorkerProcess([sys.executable, "-m", "audio.espeak"], timeout) if backend == "pyttsx3" else None

    def synthesize(self, text: str) -> bytes:
        words = speakable(text, self.voice)
        if not words.strip():
            raise SynthesisError("nothing to say")
        return self._program(words) if self.worker is None else self._pyttsx3(words)

    def _program(self, words: str) -> bytes:
        cmd = [self.program, "-v", self.voice.name, "-s", str(self.voice.rate), "--stdout", "--", words]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise SynthesisError(f"synthesis timed out after {self.timeout}s") from None
        except OSError as exc:
            raise SynthesisError(f"cannot run {self.program}: {exc}") from exc
        if done.returncode != 0 or len(done.stdout) <= 44:
            raise SynthesisError(f"{self.program} failed ({done.returncode}): {done.stderr[-200:]!r}")
        return _fix_stream_header(done.stdout)

    def _pyttsx3(self, words: str) -> bytes:
        assert self.worker is not None
        fd, path = tempfile.mkstemp(suffix=".wav", prefix="veribot-tts-")
        os.close(fd)
        try:
            self.worker.request([words, self.voice.name, self.voice.rate, path])
            data = Path(path).read_bytes()
        finally:
            Path(path).unlink(missing_ok=True)
        if len(data) <= 44:
            raise SynthesisError("synthesis produced no audio")
        return data

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


def _pyttsx3_main() -> None:
    """`python -m audio.espeak`: requests (text, voice, rate, path) -> path."""
    from audio.tts_worker import serve

    def make_handler():
        import pyttsx3

        engine = pyttsx3.init("espeak")

        def handle(req: list) -> str:
            text, voice, rate, path = req
            engine.setProperty("voice", voice)
            engine.setProperty("rate", rate)
            engine.save_to_file(text, path)
            engine.runAndWait()
            return path

        return handle

    serve(make_handler)


if __name__ == "__main__":
    _pyttsx3_main()
