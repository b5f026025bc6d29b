"""An independent machine listener for prompt intelligibility: Whisper base (CTranslate2 int8,
faster-whisper), deterministic — temperature 0, beam 5, no prompt, no voice-activity filter —
and error rates against the text the prompt was meant to say: character error rate for
Mandarin and Korean, word error rate for English."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np

from audio import wav
from audio.whisper_model import load_whisper, to_simplified

_ZH_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")
_EN_DIGITS = dict(zip("0123456789", "zero one two three four five six seven eight nine".split(), strict=True))


def language(locale: str) -> str:
    return locale.split("-")[0].lower()


class Listener:
    def __init__(self, models_dir: str | Path, threads: int = 1) -> None:
        self.model = load_whisper(models_dir, threads=threads)

    def transcribe(self, pcm: bytes, locale: str, sample_rate: int = wav.CALL_RATE) -> str:
        """What Whisper hears in 16-bit mono `pcm` (folded to simplified for Mandarin)."""
        audio = np.frombuffer(wav.resample(pcm, sample_rate, 16000), dtype="<i2").astype(np.float32) / 32768.0
        segments, _ = self.model.transcribe(
            audio, language=language(locale), task="transcribe", beam_size=5, temperature=0.0,
            condition_on_previous_text=False, without_timestamps=False, vad_filter=False,
        )
        text = " ".join(s.text.strip() for s in segments).strip()
        return to_simplified(text) if language(locale) == "zh" else text


def units(text: str, locale: str) -> list[str]:
    """What is counted: characters (no punctuation or spaces) for zh/ko, lower-case words for en.
    Digits are read as the words they stand for, so "按1" and "按一" agree."""
    lang = language(locale)
    kept = "".join(" " if unicodedata.category(c)[0] in "PSZ" else c for c in text)
    if lang == "zh":
        return list(to_simplified(kept).translate(_ZH_DIGITS).replace(" ", ""))
    if lang == "en":  # "96110", "96,110" and "9 6 1 1 0" are the same digits said
        words = re.sub(r"(\d)", r" \1 ", kept.lower().replace("'", "")).split()
        return [_EN_DIGITS.get(w, w) for w in words]
    return list(kept.replace(" ", ""))


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over units (a dozen lines; not worth a dependency)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


def errors(reference: str, heard: str, locale: str) -> tuple[int, int]:
    """(edits, reference length) in the locale's units: their ratio is the CER or WER."""
    ref, hyp = units(reference, locale), units(heard, locale)
    return edit_distance(ref, hyp), len(ref)
