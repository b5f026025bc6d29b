import struct

import pytest

from audio import vocabulary
from bot.pipeline import vocabulary as script_vocabulary


def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack("<i", len(b)) + b


def fst_with_symbols(words: list[str], flags: int = 2) -> bytes:
    header = struct.pack("<i", 2125659606) + _s("vector") + _s("standard") + struct.pack("<ii", 2, flags)
    header += struct.pack("<Qqqq", 0, 0, 1, 0)
    table = struct.pack("<i", 2125658996) + _s("words") + struct.pack("<qq", len(words), len(words))
    for i, w in enumerate(words):
        table += _s(w) + struct.pack("<q", i)
    return header + table + b"\x00" * 16


def test_reads_output_symbols_from_fst_header(tmp_path):
    (tmp_path / "Gr.fst").write_bytes(fst_with_symbols(["<eps>", "네", "아니요"]))
    assert vocabulary.fst_output_symbols(tmp_path / "Gr.fst") == ["<eps>", "네", "아니요"]


def test_fst_without_symbols_and_broken_files(tmp_path):
    (tmp_path / "a.fst").write_bytes(fst_with_symbols(["x"], flags=0))
    assert vocabulary.fst_output_symbols(tmp_path / "a.fst") == []
    (tmp_path / "b.fst").write_bytes(b"\x00" * 40)
    with pytest.raises(vocabulary.VocabularyError, match="not an OpenFst"):
        vocabulary.fst_output_symbols(tmp_path / "b.fst")
    full = fst_with_symbols(["<eps>", "네"])
    for cut in (10, 30, 60, len(full) - 30):
        (tmp_path / "c.fst").write_bytes(full[:cut])
        with pytest.raises(vocabulary.VocabularyError):
            vocabulary.fst_output_symbols(tmp_path / "c.fst")


def test_words_txt_is_preferred(tmp_path):
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "words.txt").write_text("<eps> 0\nhello 1\nworld 2\n")
    assert vocabulary.model_vocabulary(str(tmp_path)) == {"<eps>", "hello", "world"}


@pytest.mark.asr
def test_ko_model_vocabulary_and_script_lint(short_script, ko_script):
    from audio.models import model_path

    vocab = vocabulary.model_vocabulary(str(model_path("ko-KR")))
    assert {"네", "아니요", "녹색", "상담원"} <= vocab and "누구세요" not in vocab
    assert script_vocabulary.missing_words(short_script, "ko-KR") == []
    assert script_vocabulary.missing_words(ko_script, "ko-KR") == []


@pytest.mark.asr
def test_missing_words_are_reported(monkeypatch, short_script):
    from bot import nlu

    monkeypatch.setattr(nlu, "grammar_phrases", lambda locale, expect: ["네", "누구세요 네", "zzqx"])
    assert script_vocabulary.missing_words(short_script, "ko-KR") == sorted(["누구세요", "zzqx"])


@pytest.mark.asr
def test_missing_words_of_given_phrases():
    assert vocabulary.missing_words(["네 zzqx", "아니요", "[unk]"], "ko-KR") == ["zzqx"]
