"""Whisper base in CTranslate2 form, from PyPI, opened for the prompt-intelligibility listener
(audio/intelligibility.py). The model's parts are joined by audio/whisper.py (the zh-CN ear), whose
`whisper_model_dir()` and `available()` are reused here rather than kept twice.
`to_simplified()` folds traditional characters (Whisper writes either) to simplified with
OpenCC's phrase tables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from audio.whisper import WhisperMissing, available, whisper_model_dir

__all__ = ["WhisperMissing", "load_whisper", "to_simplified"]


def load_whisper(models_dir: str | Path, *, threads: int = 1, workers: int = 1, compute_type: str = "int8"):
    """A faster_whisper.WhisperModel on the CPU (WhisperMissing names what to install)."""
    missing = available()
    if missing:
        raise WhisperMissing(missing)
    from faster_whisper import WhisperModel

    return WhisperModel(str(whisper_model_dir(models_dir)), device="cpu", compute_type=compute_type,
                        cpu_threads=threads, num_workers=workers)


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s").convert


def to_simplified(text: str) -> str:
    return _t2s()(text)
