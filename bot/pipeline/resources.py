"""What the calls of one process share: each locale's ear (a Vosk model, or the Whisper
model for a locale whose Vosk model is absent; each call makes its own recognizer), the
Silero session, the TTS worker with its prompt cache, and a small thread pool for
recognition and synthesis. Build once, before forking workers, so model memory is shared.

Each locale loads on its own (bot/pipeline/ears.py): a locale whose model is missing hears
nothing (its calls run on keys) and the others are untouched. What each locale got is
logged once at load and returned by `speech_status()` (for the console)."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audio import models
from audio.recognizer import Recognizer, RecognizerFactory
from audio.recordings import RecordedPromptCache, RecordedVoice
from audio.scheduler import RecognitionPool
from audio.synthesis import ENGINES, PromptCache, SynthesisError, synthesizer_for
from audio.vad import SileroSession
from bot.pipeline.ears import EarStatus, load_ears, speech_status

__all__ = ["SpeechResources", "SpeechSettings", "speech_status"]

log = logging.getLogger(__name__)

@dataclass
class SpeechSettings:
    models_dir: Path = models.DEFAULT_MODELS_DIR
    prompt_cache: Path = Path("var/prompts")
    audio_dir: Path = Path("var/calls")
    tts_timeout: float = 20.0
    tts_engine: str = ""  # "": each locale's default voice (audio/synthesis.py); or one of ENGINES
    threads: int = 2
    vad_threshold: float = 0.5
    energy_floor: float = 120.0
    watchdog_secs: float = 30.0
    fallback_ear: str = "whisper"  # for a locale whose Vosk model is absent: "whisper" or "none"

    def __post_init__(self) -> None:
        for name in ("models_dir", "prompt_cache", "audio_dir"):
            setattr(self, name, Path(getattr(self, name)))
        if self.threads < 1 or self.tts_timeout <= 0 or self.watchdog_secs <= 0:
            raise ValueError("[speech] threads must be >= 1; tts_timeout and watchdog_secs > 0")
        if self.tts_engine not in ("", *ENGINES):
            raise ValueError(f"[speech] tts_engine must be one of {', '.join(ENGINES)} (or unset), not {self.tts_engine!r}")
        if self.fallback_ear not in ("whisper", "none"):
            raise ValueError(f"[speech] fallback_ear must be whisper or none, not {self.fallback_ear!r}")

    @classmethod
    def from_config(cls, config: Any) -> SpeechSettings:
        """From the typed [speech] section (bot/settings.py); paths left out live under var_dir."""
        if config is None:
            return cls(prompt_cache=Path("var/prompts"), audio_dir=Path("var/calls"), models_dir=Path("var/models"))
        sp, var = config.speech, Path(config.var_dir)
        return cls(
            models_dir=sp.models_dir or var / "models",
            prompt_cache=sp.prompt_cache or var / "prompts",
            audio_dir=sp.audio_dir or var / "calls",
            tts_timeout=sp.tts_timeout,
            tts_engine=sp.tts_engine,
            threads=sp.threads,
            vad_threshold=sp.vad_threshold,
            energy_floor=sp.energy_floor,
            watchdog_secs=sp.watchdog_secs,
            fallback_ear=sp.fallback_ear,
        )


@dataclass
class SpeechResources:
    settings: SpeechSettings
    models: dict[str, tuple[Any, frozenset[str]]]
    silero: SileroSession
    caches: dict[str, PromptCache]  # per locale, made on first use: see prompt_cache()
    executor: ThreadPoolExecutor  # prompt rendering and other blocking work
    recognition: RecognitionPool  # every call's speech recognition
    rendered: set[str] = field(default_factory=set)
    # How each locale's calls get a recognizer (Vosk by default; another engine or a fake
    # registers its own factory here).
    recognizers: dict[str, RecognizerFactory] = field(default_factory=dict)
    status: dict[str, EarStatus] = field(default_factory=dict)  # which ear hears each loaded locale
    # One background thread renders scripts' remaining prompts (`warm`), one job per script at a time,
    # so a cold cache never holds a call's opening (a natural voice takes ~0.1-1 s per prompt).
    warmer: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="prompt-warm"))
    _warming: set[str] = field(default_factory=set)
    _warm_lock: threading.Lock = field(default_factory=threading.Lock)
    recorded_caches: list[str] = field(default_factory=list)  # keys of caches speaking recordings, oldest first
    _recorded_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _personal: dict[int, dict[str, bytes]] = field(default_factory=dict, repr=False)  # personal_audio()

    @classmethod
    def load(
        cls,
        config: Any = None,
        locales: list[str] | tuple[str, ...] = ("ko-KR",),
        settings: SpeechSettings | None = None,
    ) -> SpeechResources:
        """Load each locale's ear on its own: a missing model leaves that locale on Whisper
        or without speech, reported once here and in speech_status(), never raised."""
        s = settings or SpeechSettings.from_config(config)
        area = tuple(config.nlu.area) if getattr(config, "nlu", None) is not None else None
        ears = load_ears(locales, s.models_dir, s.fallback_ear, s.threads, area)
        return cls(s, ears.vosk, SileroSession(), {},
                   ThreadPoolExecutor(max_workers=2, thread_name_prefix="speech"),
                   RecognitionPool(s.threads), recognizers=ears.factories, status=ears.status)

    def prompt_cache(self, locale: str, recordings: Mapping[str, bytes] | None = None) -> PromptCache:
        """The prompt cache speaking `locale` (its voice chosen by synthesizer_for); with
        `recordings` (text -> 8 kHz PCM), one that speaks those takes instead of TTS where
        the text matches (audio/recordings.py), sharing the locale's voice for the rest."""
        cache = self.caches.get(locale)
        if cache is None:
            synth = synthesizer_for(locale, self.settings.tts_engine or None, self.settings.tts_timeout)
            cache = self.caches.setdefault(locale, PromptCache(self.settings.prompt_cache, synth))
        if not recordings:
            return cache
        voice = RecordedVoice(cache.synthesizer, recordings)
        key = f"{locale}+rec:{voice.digest}"
        recorded = self.caches.get(key)
        if recorded is None:
            with self._recorded_lock:
                if len(self.recorded_caches) >= 16:  # old takes: let them go (the disk cache stays)
                    self.caches.pop(self.recorded_caches.pop(0), None)
                recorded = self.caches.setdefault(key, RecordedPromptCache(self.settings.prompt_cache, voice))
                if key not in self.recorded_caches:
                    self.recorded_caches.append(key)
        return recorded

    def recognizer(self, locale: str) -> Recognizer:
        """A new recognizer for one call in `locale` (ModelMissing when none is loaded)."""
        factory = self.recognizers.get(locale)
        if factory is None:
            self.model(locale)  # raises ModelMissing, naming the fetch command
            from audio.recognizer import vosk_factory

            factory = self.recognizers[locale] = vosk_factory(*self.models[locale])
        return factory()

    def ear(self, locale: str) -> EarStatus:
        """Which ear hears `locale` in this process."""
        if locale in self.status:
            return self.status[locale]
        if locale in self.models:
            return EarStatus(locale, "vosk", models.spec(locale).name)
        return EarStatus(locale, None, None, "not loaded in this process")

    def model(self, locale: str) -> tuple[Any, frozenset[str]]:
        if locale not in self.models:
            raise models.ModelMissing(
                f"speech model for {locale} not loaded; load it with SpeechResources.load(locales=[...]) "
                f"(fetch it first: `veribot models fetch {locale}`)"
            )
        return self.models[locale]

    def prepare(self, script: Any, variables: dict[str, Any] | None = None,
                recordings: Mapping[str, bytes] | None = None) -> int:
        """Render every prompt of `script` that `variables` can fill (blocking) and that is the
        same for everybody (prompt_texts.public_texts: nothing naming a person or a call code is
        cached, whatever `variables` holds).
        Confirmation prompts are rendered for each labelled value. Returns how many were synthesized."""
        from bot.pipeline.prompt_texts import prompt_texts, public_texts

        public = public_texts(script, variables)
        return self._render(script.locale, [(k, t) for k, t in prompt_texts(script, variables) if t in public],
                            recordings)

    def prepare_opening(self, script: Any, variables: dict[str, Any] | None = None,
                        recordings: Mapping[str, bytes] | None = None, *,
                        shared: dict[str, Any] | None = None, personal: dict[str, bytes] | None = None) -> int:
        """Render what a call says before the first answer (blocking), and start warming the
        rest of the script in the background. Returns how many were synthesized now.
        `shared`: the variables that are the same for everybody (default: `variables`); a text
        they cannot say names the person: it goes into `personal` (the call's own memory,
        `personal_audio`), never the prompt cache."""
        from bot.pipeline.prompt_texts import opening_texts, public_texts, shared_variables

        shared = shared_variables(variables) if shared is None else shared
        public = public_texts(script, shared)
        texts = opening_texts(script, variables)
        rendered = self._render(script.locale, [(k, t) for k, t in texts if t in public], recordings)
        if personal is not None:
            cache = self.prompt_cache(script.locale, recordings)
            for key, text in texts:
                if text not in public and text not in personal:
                    try:
                        personal[text] = cache.render(text, store=False)
                        rendered += 1
                    except SynthesisError as exc:
                        log.error("prompt %s could not be rendered: %s", key, exc)
        self.warm(script, shared, recordings)
        return rendered

    def personal_audio(self, request: Any) -> dict[str, bytes]:
        """The audio of `request`'s sentences that name its person (text -> PCM): rendered
        before the call is placed, spoken by its player, gone with the request."""
        key = id(request)
        store = self._personal.get(key)
        if store is None:
            store = self._personal[key] = {}
            weakref.finalize(request, self._personal.pop, key, None)
        return store

    def warm(self, script: Any, variables: dict[str, Any] | None = None,
             recordings: Mapping[str, bytes] | None = None) -> None:
        """Render the rest of `script`'s prompts on the background thread (once at a time per
        script and set of takes)."""
        key = f"{script.locale}/{script.name}/{script.version}"
        if recordings:
            key += f"/{RecordedVoice(self.prompt_cache(script.locale).synthesizer, recordings).digest}"
        with self._warm_lock:
            if key in self._warming:
                return
            self._warming.add(key)

        def job() -> None:
            try:
                self.prepare(script, variables, recordings)
            except Exception:  # warming is an optimisation: the player renders on demand
                log.exception("warming the prompts of %s failed", key)
            finally:
                with self._warm_lock:
                    self._warming.discard(key)

        try:
            self.warmer.submit(job)
        except RuntimeError:  # shut down (closing): nothing to warm any more
            with self._warm_lock:
                self._warming.discard(key)

    def _render(self, locale: str, texts: list[tuple[str, str]],
                recordings: Mapping[str, bytes] | None = None) -> int:
        cache = self.prompt_cache(locale, recordings)
        rendered = 0
        for key, text in texts:
            if cache.cached(text) is None:
                try:
                    cache.render(text)
                    rendered += 1
                except SynthesisError as exc:  # the call still runs; the player retries
                    log.error("prompt %s could not be rendered: %s", key, exc)
        return rendered

    def close(self) -> None:
        self.warmer.shutdown(wait=False, cancel_futures=True)
        self.recognition.close()
        self.executor.shutdown(wait=True)
        for cache in self.caches.values():
            cache.close()

