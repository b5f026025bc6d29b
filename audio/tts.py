"""Prompt speech: pyttsx3 (espeak-ng) in a dedicated spawned worker process, and an on-disk
prompt cache keyed by text, voice, rate and sample rate.

pyttsx3 is not thread-safe and can hang on repeated `runAndWait()`, so synthesis runs in
one separate worker process (a forked one hung in tests) with a timeout; a hung or dead worker is
killed and replaced. Mandarin goes through numbered pinyin with the `cmn-latn-pinyin`
voice (espeak's `cmn` voice reads Hanzi as English letters)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from audio import wav

log = logging.getLogger(__name__)


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


class SynthesisError(RuntimeError):
    pass


def _worker_main() -> None:
    """`python -m audio.tts`: JSON lines in (text, voice, rate, path), JSON lines out."""
    import sys

    out = sys.stdout
    sys.stdout = sys.stderr  # pyttsx3 prints "Audio saved to ..."; the pipe carries replies only
    import pyttsx3

    engine = pyttsx3.init("espeak")
    for line in sys.stdin:
        try:
            text, voice, rate, path = json.loads(line)
            engine.setProperty("voice", voice)
            engine.setProperty("rate", rate)
            engine.save_to_file(text, path)
            engine.runAndWait()
            reply = ["ok", path]
        except Exception as exc:  # reported to the parent, which decides
            reply = ["error", f"{type(exc).__name__}: {exc}"]
        out.write(json.dumps(reply) + "\n")
        out.flush()


class EspeakSynthesis:
    """espeak-ng run once per prompt, with a timeout: deterministic and stateless.

    The default engine. Measured here, pyttsx3's espeak driver reused across prompts gave
    the same text different audio from one call to the next (sometimes empty, sometimes
    with another prompt's audio in front), which broke recognition of our own test speech;
    the program it drives has no such state. Same voices, rates and output."""

    engine = "espeak-ng"

    def __init__(self, timeout: float = 20.0, program: str = "espeak-ng") -> None:
        self.timeout = timeout
        self.program = program
        self.restarts = 0

    def synthesize(self, text: str, voice: Voice) -> bytes:
        cmd = [self.program, "-v", voice.name, "-s", str(voice.rate), "--stdout", speakable(text, voice)]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            self.restarts += 1
            raise SynthesisError(f"synthesis timed out after {self.timeout}s") from None
        except OSError as exc:
            raise SynthesisError(f"cannot run {self.program}: {exc}") from exc
        if done.returncode != 0 or len(done.stdout) <= 44:
            raise SynthesisError(f"{self.program} failed ({done.returncode}): {done.stderr[-200:]!r}")
        return _fix_stream_header(done.stdout)

    def close(self) -> None:
        pass


def _fix_stream_header(data: bytes) -> bytes:
    """espeak-ng --stdout cannot seek back: its RIFF/data sizes are 0xFFFFFFFF; set them."""
    if data[:4] == b"RIFF" and data[36:40] == b"data":
        data = bytearray(data)
        data[4:8] = (len(data) - 8).to_bytes(4, "little")
        data[40:44] = (len(data) - 44).to_bytes(4, "little")
        return bytes(data)
    return data


class SynthesisWorker:
    """One pyttsx3 worker process (`python -m audio.tts`); `synthesize` blocks and is
    serialised by a lock. A worker that hangs past `timeout` or dies is replaced.
    Selected with `[speech] tts_engine = "pyttsx3"`; see EspeakSynthesis for the default."""

    engine = "pyttsx3"

    def __init__(self, timeout: float = 20.0, command: list[str] | None = None) -> None:
        self.timeout = timeout
        self.command = command or [sys.executable, "-m", "audio.tts"]
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self.restarts = 0

    def _start(self) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        self._proc = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            bufsize=1,
        )

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
            for f in (self._proc.stdin, self._proc.stdout):
                if f:
                    f.close()
        self._proc = None

    def _reply(self) -> list:
        assert self._proc is not None and self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], self.timeout)
        if not ready:
            self._kill()
            self.restarts += 1
            raise SynthesisError(f"synthesis timed out after {self.timeout}s; worker replaced")
        line = self._proc.stdout.readline()
        if not line:
            raise EOFError("worker closed its output")
        return json.loads(line)

    def synthesize(self, text: str, voice: Voice) -> bytes:
        """WAV bytes (espeak-ng's native rate) for `text`; raises SynthesisError."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._kill()
                self._start()
            fd, path = tempfile.mkstemp(suffix=".wav", prefix="veribot-tts-")
            os.close(fd)
            try:
                assert self._proc is not None and self._proc.stdin is not None
                req = [speakable(text, voice), voice.name, voice.rate, path]
                self._proc.stdin.write(json.dumps(req, ensure_ascii=False) + "\n")
                self._proc.stdin.flush()
                status, detail = self._reply()
                if status != "ok":
                    raise SynthesisError(detail)
                data = Path(path).read_bytes()
                if len(data) <= 44:
                    raise SynthesisError("synthesis produced no audio")
                return data
            except (EOFError, OSError, ValueError) as exc:
                self._kill()
                self.restarts += 1
                raise SynthesisError(f"synthesis worker failed: {exc}") from exc
            finally:
                Path(path).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.stdin is not None:
                try:
                    self._proc.stdin.close()
                    self._proc.wait(2)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill()


class PromptCache:
    """Rendered prompts as 16-bit PCM at the call rate, on disk and in memory."""

    def __init__(self, directory: str | Path, worker: SynthesisWorker | EspeakSynthesis,
                 sample_rate: int = wav.CALL_RATE):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.worker = worker
        self.sample_rate = sample_rate
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def key(self, text: str, voice: Voice) -> str:
        raw = f"{text}\x1f{voice.name}\x1f{voice.rate}\x1f{self.sample_rate}\x1f{self.worker.engine}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]

    def cached(self, text: str, voice: Voice) -> bytes | None:
        k = self.key(text, voice)
        if k in self._memory:
            return self._memory[k]
        f = self.dir / f"{k}.pcm"
        if f.exists():
            pcm = f.read_bytes()
            with self._lock:
                self._memory[k] = pcm
            return pcm
        return None

    def render(self, text: str, voice: Voice) -> bytes:
        """PCM for `text`, synthesizing (blocking) on a miss. Never call on the event loop."""
        pcm = self.cached(text, voice)
        if pcm is not None:
            return pcm
        info, samples = wav.parse_wav(self.worker.synthesize(text, voice))
        pcm = wav.resample(wav.to_call_pcm(info, samples), wav.CALL_RATE, self.sample_rate)
        k = self.key(text, voice)
        fd, tmp = tempfile.mkstemp(prefix=f".{k}.", suffix=".tmp", dir=self.dir)
        with os.fdopen(fd, "wb") as fh:  # unique name: calls render the same prompt at once
            fh.write(pcm)
        os.replace(tmp, self.dir / f"{k}.pcm")
        with self._lock:
            self._memory[k] = pcm
        return pcm


if __name__ == "__main__":
    _worker_main()
