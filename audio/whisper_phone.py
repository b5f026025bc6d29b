"""Whisper base sized for phone answers: CTranslate2 called directly, not through faster-whisper.

faster-whisper's `transcribe` always encodes a 30 s window (3000 mel frames); a phone answer
is 0.3-3 s. `ctranslate2.models.Whisper.encode` takes a shorter window, and the encoder's
cost falls with it (measured on this 2-core box, int8, one thread, 89 synthetic answers:
greedy decoding: 3000 frames ~1.0 s of CPU per answer, 1000 frames ~0.22 s, 500 ~0.11 s).
A shorter window hears a free transcript less well (greedy, the question's prompt: 62 of 89
right at 3000 frames, 54 at 1000, 50 at 500), but with the n-best judged by the question
(audio.whisper_choice) 500 frames hear 72 and 1000 frames 74 of the same 89 (beam 2 and 4),
so the window is the answer rounded up to whole seconds, at least `MIN_FRAMES`.

`PhoneWhisper.hear` returns the n-best hypotheses of a beam search (text, mean log
probability per token): the caller picks the best one its question understands (the
question's closed set heard as a grammar), or the free transcript for anything else.
The model is loaded once per process and shared by every call; `inter_threads` lets that
many recognition threads decode at once, each on `intra_threads` cores: one, because the
recognition pool already runs a thread per core (a second intra thread per decode would only
oversubscribe the cores under load; not measured separately on this shared, loaded box)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000
HOP = 160  # samples per mel frame at 16 kHz
MIN_FRAMES = 500  # 5 s. Before the closed answers were scored by the decoder, 1000 heard 75 of 89 and 500 73
# (0.28 vs 0.155 s CPU); with the scoring (audio.whisper_grammar) 500 frames rank the right phrase first as
# 1000 do (docs/speech.md), at half the encoder's and the scoring's cost. Open answers (addresses, free
# text) keep OPEN_FRAMES: at 500 the benchmark's addresses were heard 35 of 65, at 1000 38
OPEN_FRAMES = 1000
# A closed answer scored by the decoder (audio.whisper_grammar): its window, at least MIN_FRAMES as
# every answer's. Measured 2026-12-08 on the shared box (load 8-10, figures inflated alike;
# benchmarks/whisper_cost.py --only stages, 21 answers), CPU per answer: 0.395 s at 500 frames, 0.356
# at 400, 0.385 at 300 (encoder 0.083 / 0.070 / 0.061, align 0.189 / 0.162 / 0.164; at 300 the free
# greedy transcript ran longer, 0.055 -> 0.087). zh_ear_accuracy.py --quick heard as many at 400 as
# at 500 (33/52), but at 400 the zh-CN call test beside CPU burners (test_speech_zh_conversation.py)
# hung up uncompleted 3 runs of 4 where 500 passed: kept at 500 until the full benchmark says more.
CLOSED_FRAMES = 500
MAX_FRAMES = 3000  # Whisper's own 30 s window
STEP = 100  # windows come in steps of 1 s (fewer distinct shapes)


@dataclass(frozen=True)
class Hypothesis:
    text: str  # as Whisper wrote it (traditional or simplified)
    score: float  # mean log probability per token (CTranslate2's length-normalised score)


def window_frames(samples: int, min_frames: int = MIN_FRAMES) -> int:
    """Mel frames to encode for `samples` of 16 kHz audio: the answer, rounded up, at least
    `min_frames`, at most Whisper's 30 s."""
    need = -(-samples // HOP)
    return max(min_frames, min(MAX_FRAMES, -(-need // STEP) * STEP))


class PhoneWhisper:
    """The process's Whisper model (thread-safe: up to `workers` threads decode at once)."""

    def __init__(self, path: str | Path, *, workers: int = 2, threads: int = 1, min_frames: int = MIN_FRAMES):
        import ctranslate2
        import tokenizers
        from faster_whisper.feature_extractor import FeatureExtractor

        self.path = Path(path)
        self.min_frames = min_frames
        self.model = ctranslate2.models.Whisper(str(self.path), device="cpu", compute_type="int8",
                                                intra_threads=threads, inter_threads=max(1, workers))
        self._hf = tokenizers.Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self._mel = FeatureExtractor(feature_size=self.model.n_mels)
        self._tokenizers: dict[str, object] = {}
        self._allowed: dict[tuple[str, frozenset[str]], list[int]] = {}  # suppress lists of hear(only=…)
        self._lock = threading.Lock()

    def tokenizer(self, language: str):
        with self._lock:
            tok = self._tokenizers.get(language)
            if tok is None:
                from faster_whisper.tokenizer import Tokenizer

                tok = self._tokenizers[language] = Tokenizer(self._hf, True, task="transcribe", language=language)
            return tok

    def features(self, audio: np.ndarray, min_frames: int | None = None) -> np.ndarray:
        """Log-mel features of 16 kHz float audio in a window fitted to it ([1, mels, frames]).
        The audio is padded with silence before the mel transform, as Whisper pads to 30 s."""
        frames = window_frames(audio.size, min_frames or self.min_frames)
        audio = np.pad(audio[: frames * HOP], (0, max(0, frames * HOP - audio.size)))
        mel = self._mel(audio, padding=0)[:, :frames]
        return np.ascontiguousarray(mel[None], dtype=np.float32)

    def prompt_tokens(self, language: str, prompt: str | None) -> list[int]:
        tok = self.tokenizer(language)
        lead = [tok.sot_prev, *tok.encode(" " + prompt.strip())[-200:]] if prompt else []
        return [*lead, *tok.sot_sequence, tok.no_timestamps]

    def encode(self, audio: np.ndarray, min_frames: int | None = None):
        """The encoder's output for `audio` (16 kHz float), for hear() and score()."""
        import ctranslate2

        return self.model.encode(ctranslate2.StorageView.from_array(self.features(audio, min_frames)), to_cpu=True)

    def hear(self, audio: np.ndarray | object, language: str, prompt: str | None, *, beam: int = 4,
             max_new: int = 24, only: frozenset[str] | None = None) -> list[Hypothesis]:
        """The n-best transcripts of `audio` (16 kHz float, or its encode()), best first. `only`:
        texts whose tokens (and 。，) are the only ones Whisper may write (a closed question's
        phrases: its vocabulary, not yet its grammar; cheap, one beam search)."""
        tok = self.tokenizer(language)
        feats = self.encode(audio) if isinstance(audio, np.ndarray) else audio
        start = self.prompt_tokens(language, prompt)
        held = {} if only is None else {"suppress_tokens": self._suppressed(language, only)}  # (a list: unhashable,
        # so only given when held: audio.whisper_batch groups requests by their options)
        result = self.model.generate(feats, [start], beam_size=beam, num_hypotheses=beam,
                                     max_length=len(start) + max_new, return_scores=True,
                                     suppress_blank=True, **held)[0]
        seen: dict[str, Hypothesis] = {}
        for ids, score in zip(result.sequences_ids, result.scores, strict=False):
            text = tok.decode([i for i in ids if i < tok.eot]).strip()
            if text not in seen:
                seen[text] = Hypothesis(text, float(score))
        return list(seen.values())

    def _suppressed(self, language: str, only: frozenset[str]) -> list[int]:
        with self._lock:
            got = self._allowed.get((language, only))
        if got is None:
            tok = self.tokenizer(language)
            keep = {i for t in (*only, "。，") for i in tok.encode(t)}
            got = [-1, *(i for i in range(tok.eot) if i not in keep)]
            with self._lock:
                self._allowed[(language, only)] = got
        return got

    def score(self, encoded: object, language: str, prompt: str | None, texts: list[str]) -> list[float]:
        """Forced decoding: the log probability Whisper's decoder gives each of `texts` after the
        prompt, for the audio `encoded` (encode()'s output), in one batch through CTranslate2's
        `align` (its `text_token_probs`: softmax over text tokens only, so the end of text is not
        scored; end each text with a mark such as 。 to score where it ends)."""
        import ctranslate2

        if not texts:
            return []
        tok = self.tokenizer(language)
        seqs = [tok.encode(t) for t in texts]
        enc = np.asarray(encoded)
        tiled = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(enc[:1], len(seqs), axis=0)))
        start = self.prompt_tokens(language, prompt)[:-1]  # align adds <|notimestamps|> and the end itself
        found = self.model.align(tiled, start, seqs, enc.shape[1] * 2, median_filter_width=1)
        return [float(np.log(np.maximum(np.asarray(r.text_token_probs, dtype=np.float64), 1e-30)).sum())
                for r in found]
