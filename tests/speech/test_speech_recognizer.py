import pytest

from audio.recognizer import AnswerRecognizer, Recognition, combine, grammar_for, malloc_trim, parse_result


def test_grammar_keeps_known_words_only_and_adds_unk_when_known():
    vocab = frozenset({"네", "아니요", "[unk]"})
    assert grammar_for(["네", "네  네", "누구세요", "아니요"], vocab) == ["네", "네 네", "아니요", "[unk]"]
    assert grammar_for(["네"], frozenset({"네"})) == ["네"]


def test_result_parsing_and_combining():
    raw = '{"result": [{"word": "녹색", "conf": 0.8}, {"word": "[unk]", "conf": 1}, {"word": "입니다", "conf": 0.6}], "text": "녹색 [unk] 입니다"}'
    r = parse_result(raw)
    assert r.text == "녹색 입니다" and r.confidence == pytest.approx(0.7)
    assert parse_result('{"text": ""}') == Recognition("", 0.0)
    both = combine([Recognition("한", 0.5, (("한", 0.5),)), Recognition("", 0.0), Recognition("번", 1.0, (("번", 1.0),))])
    assert both.text == "한 번" and both.confidence == pytest.approx(0.75)


@pytest.fixture
def recognizer(speech):
    model, vocab = speech.model("ko-KR")
    return AnswerRecognizer(model, vocab)


@pytest.mark.asr
def test_words_before_a_pause_inside_the_turn_are_kept(recognizer, say_ko):
    # Vosk finalizes a segment at its own endpoint inside the fed audio; both parts count.
    recognizer.expect(["네", "아니요"])
    audio = say_ko("네") + bytes(2 * 8000 * 2) + say_ko("아니요")
    for i in range(0, len(audio), 3200):
        recognizer.accept(audio[i : i + 3200])
    assert recognizer.finish().text.split() == ["네", "아니요"]


@pytest.mark.asr
def test_free_decoding_memory_is_returned_after_the_answer(speech, say_ko):
    def rss() -> float:
        return int(next(ln for ln in open("/proc/self/status") if ln.startswith("VmRSS")).split()[1]) / 1024

    model, vocab = speech.model("ko-KR")
    speech_pcm = say_ko("서울시 강남구") + bytes(8000)
    malloc_trim()  # what earlier tests freed goes back first, so the decoders' growth is visible
    before = rss()
    recs = [AnswerRecognizer(model, vocab) for _ in range(4)]
    for r in recs:
        r.expect(None)
        r.accept(speech_pcm)
    grown = rss() - before
    for r in recs:
        assert r.finish().text
    assert grown > 40  # free decoders are big ...
    assert rss() - before < grown / 3  # ... and given back as soon as the answer is in
